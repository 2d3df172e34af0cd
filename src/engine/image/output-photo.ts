/**
 * Encoding the full-resolution attachment in the input's format family (JPEG in, JPEG out; PNG, WebP and GIF in,
 * PNG or WebP out) within a byte budget: Discord refuses a message whose files exceed its upload limit, and a result
 * that is re-encoded smaller is better than one that fails. First lower qualities at full size, then smaller sizes.
 */
import sharp from 'sharp';
import { assertDimensions } from './types.js';

/** The formats the photo is posted in. */
export type PhotoFormat = 'jpeg' | 'png' | 'webp';

/** An encoded picture and its size. */
export interface EncodedPhoto {
  readonly data: Buffer;
  readonly format: PhotoFormat;
  readonly width: number;
  readonly height: number;
}

/** Raw 8-bit pixels, one (grey) or three (RGB) channels interleaved. */
export interface RawPixels {
  readonly width: number;
  readonly height: number;
  readonly channels: 1 | 3;
  readonly data: Uint8Array;
}

/**
 * Qualities tried at full size, best first. JPEG 92 with full-resolution colour (4:4:4) is visually lossless on
 * photos; below 90 the colour planes are halved (4:2:0) like most cameras do. PNG is lossless: one try.
 */
export const QUALITY_LADDER: Readonly<Record<PhotoFormat, readonly number[]>> = {
  jpeg: [92, 85, 75],
  webp: [90, 80, 70],
  png: [100],
};

/** Default byte budget of a result message's files together: Discord's upload limit for bots, 10 MiB. */
export const DEFAULT_MAX_RESULT_BYTES = 10 * 1024 * 1024;

/** The smallest long side the ladder goes down to before giving up. */
export const MIN_PHOTO_SIDE = 64;

/** The file extension of each format. */
export const PHOTO_EXTENSION: Readonly<Record<PhotoFormat, string>> = { jpeg: 'jpg', png: 'png', webp: 'webp' };

/** The output format for an input format as sharp names it: JPEG and WebP keep theirs, anything else gets PNG. */
export function photoFormatFor(inputFormat: string): PhotoFormat {
  return inputFormat === 'jpeg' || inputFormat === 'webp' ? inputFormat : 'png';
}

/**
 * The scale for the next try when `bytes` overshot `budget`: file size grows about with the area, so the square
 * root of the ratio, with a 10% margin, and always at least a 10% step down so the ladder ends.
 */
export function nextScale(bytes: number, budget: number): number {
  if (!(bytes > 0) || !(budget > 0)) return 0.5;
  return Math.min(0.9, Math.sqrt(budget / bytes) * 0.9);
}

/**
 * `pixels` encoded as `format` in at most `maxBytes`: each quality of {@link QUALITY_LADDER} at full size, then, at
 * the lowest quality, smaller sizes ({@link nextScale}) until it fits. Undefined when not even a
 * {@link MIN_PHOTO_SIDE}-pixel version fits.
 */
export async function encodeWithin(pixels: RawPixels, format: PhotoFormat, maxBytes: number): Promise<EncodedPhoto | undefined> {
  assertDimensions(pixels.width, pixels.height, 'photo');
  const qualities = QUALITY_LADDER[format];
  let last: Buffer | undefined;
  for (const quality of qualities) {
    last = await encode(pixels, format, quality, pixels.width, pixels.height);
    if (last.length <= maxBytes) return { data: last, format, width: pixels.width, height: pixels.height };
  }
  const lowest = qualities.at(-1) as number;
  let scale = 1;
  for (;;) {
    scale *= nextScale(last?.length ?? 0, maxBytes);
    const width = Math.max(1, Math.round(pixels.width * scale));
    const height = Math.max(1, Math.round(pixels.height * scale));
    if (Math.max(width, height) < MIN_PHOTO_SIDE) return undefined;
    last = await encode(pixels, format, lowest, width, height);
    if (last.length <= maxBytes) return { data: last, format, width, height };
  }
}

async function encode(pixels: RawPixels, format: PhotoFormat, quality: number, width: number, height: number): Promise<Buffer> {
  let image = sharp(pixels.data, { raw: { width: pixels.width, height: pixels.height, channels: pixels.channels } });
  if (width !== pixels.width || height !== pixels.height) image = image.resize(width, height, { fit: 'fill' });
  // sharp writes sRGB unless told otherwise: a mask stays one grey channel.
  if (pixels.channels === 1) image = image.toColourspace('b-w');
  if (format === 'jpeg') return image.jpeg({ quality, chromaSubsampling: quality >= 90 ? '4:4:4' : '4:2:0' }).toBuffer();
  if (format === 'webp') return image.webp({ quality }).toBuffer();
  return image.png().toBuffer();
}

/**
 * Turns untrusted upload bytes into the RGB picture the model works on. Everything that can be refused from
 * the header (empty, too many bytes, wrong format, too many declared pixels) is refused before any pixel is
 * decoded, so a forged header cannot make the bot allocate gigabytes.
 */
import sharp, { type Metadata } from 'sharp';
import { DiffEditError, ErrorCode } from '../../errors.js';
import { assertModelSize, modelDimensions } from './dimensions.js';
import type { RgbImage } from './types.js';
import { formatBytes, megapixels } from '../../util/format.js';

/** Formats accepted from users; anything else (GIF, SVG, TIFF, HEIF, ...) is refused. */
export const ACCEPTED_FORMATS: readonly string[] = ['jpeg', 'png', 'webp'];

/** Default cap on a picture's declared width x height: 50 megapixels. */
export const DEFAULT_MAX_INPUT_PIXELS = 50_000_000;

/** Options of {@link decodeInputImage}. */
export interface DecodeOptions {
  /** The model's side in pixels (512 for Stable Diffusion 1.x), a positive multiple of 64. */
  readonly size: number;
  /** Largest declared width x height accepted; {@link DEFAULT_MAX_INPUT_PIXELS} when absent. */
  readonly maxInputPixels?: number;
  /** Largest byte length accepted; no limit when absent. */
  readonly maxInputBytes?: number;
}

const ACCEPTED_LABEL = 'JPEG, PNG or WebP';

/**
 * Decodes a JPEG, PNG or WebP upload into an 8-bit sRGB picture sized for the model: EXIF orientation
 * applied, transparency flattened onto white, resized to {@link modelDimensions} with a centre crop.
 *
 * @throws DiffEditError `EmptyImage` for zero bytes; `ImageTooLarge` when the byte length or the declared
 *   pixel count exceeds its limit; `UnsupportedImage` when the bytes are not an accepted format or do not
 *   decode (truncated, corrupt); `InvalidOption` when `size` or a limit is not valid.
 */
export async function decodeInputImage(bytes: Uint8Array, options: DecodeOptions): Promise<RgbImage> {
  const { size } = options;
  assertModelSize(size);
  const maxInputPixels = options.maxInputPixels ?? DEFAULT_MAX_INPUT_PIXELS;
  assertPositiveInteger('maxInputPixels', maxInputPixels);
  if (options.maxInputBytes !== undefined) assertPositiveInteger('maxInputBytes', options.maxInputBytes);

  if (bytes.length === 0) {
    throw new DiffEditError(ErrorCode.EmptyImage, 'The image is empty.');
  }
  if (options.maxInputBytes !== undefined && bytes.length > options.maxInputBytes) {
    throw new DiffEditError(
      ErrorCode.ImageTooLarge,
      `The image is ${formatBytes(bytes.length)}; the limit is ${formatBytes(options.maxInputBytes)}.`,
      { bytes: bytes.length, maxInputBytes: options.maxInputBytes },
    );
  }

  const declared = await readHeader(bytes);
  const pixels = declared.width * declared.height;
  if (pixels > maxInputPixels) {
    throw new DiffEditError(
      ErrorCode.ImageTooLarge,
      `The image is ${declared.width}x${declared.height} (${formatMegapixels(pixels)}); the limit is ${formatMegapixels(maxInputPixels)}.`,
      { width: declared.width, height: declared.height, pixels, maxInputPixels },
    );
  }

  const target = modelDimensions(declared.orientedWidth, declared.orientedHeight, size);
  try {
    // limitInputPixels again: a second guard in case the decoder sees other dimensions than the header read.
    const { data, info } = await sharp(bytes, { limitInputPixels: maxInputPixels, failOn: 'warning' })
      .rotate()
      .flatten({ background: { r: 255, g: 255, b: 255 } })
      .toColourspace('srgb')
      .removeAlpha()
      .resize(target.width, target.height, { fit: 'cover', position: 'centre' })
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3 || info.width !== target.width || info.height !== target.height) {
      throw new Error(`decoder produced ${info.width}x${info.height}x${info.channels}, expected ${target.width}x${target.height}x3`);
    }
    return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
  } catch (error) {
    if (error instanceof Error && /pixel limit/i.test(error.message)) {
      throw new DiffEditError(
        ErrorCode.ImageTooLarge,
        `The image exceeds the limit of ${formatMegapixels(maxInputPixels)}.`,
        { maxInputPixels },
        { cause: error },
      );
    }
    throw new DiffEditError(
      ErrorCode.UnsupportedImage,
      `The image could not be decoded; it may be truncated or corrupt. Send a ${ACCEPTED_LABEL} picture.`,
      { format: declared.format },
      { cause: error },
    );
  }
}

/** What the header declares, read without decoding pixels. */
interface DeclaredHeader {
  readonly format: string;
  readonly width: number;
  readonly height: number;
  /** Dimensions once EXIF orientation is applied (swapped for 90-degree orientations). */
  readonly orientedWidth: number;
  readonly orientedHeight: number;
}

async function readHeader(bytes: Uint8Array): Promise<DeclaredHeader> {
  let metadata: Metadata;
  try {
    // No pixel limit here: the limit is checked below with a message that names the sizes.
    metadata = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (error) {
    throw unsupported(undefined, error);
  }
  const { format, width, height } = metadata;
  if (!ACCEPTED_FORMATS.includes(format)) throw unsupported(format);
  if (!(width > 0 && height > 0)) throw unsupported(format);
  const orientedWidth = metadata.autoOrient?.width ?? width;
  const orientedHeight = metadata.autoOrient?.height ?? height;
  return { format, width, height, orientedWidth, orientedHeight };
}

function unsupported(format: string | undefined, cause?: unknown): DiffEditError {
  const seen = format === undefined ? 'not a recognised picture' : `a ${format.toUpperCase()} file`;
  return new DiffEditError(
    ErrorCode.UnsupportedImage,
    `The file is ${seen}; send a ${ACCEPTED_LABEL} picture.`,
    { format, accepted: ACCEPTED_FORMATS },
    cause === undefined ? undefined : { cause },
  );
}

function assertPositiveInteger(option: string, value: number): void {
  if (!Number.isInteger(value) || value <= 0) {
    throw new DiffEditError(ErrorCode.InvalidOption, `${option} must be a positive integer, got ${value}.`, { option, value });
  }
}

function formatMegapixels(pixels: number): string {
  return `${megapixels(pixels)} megapixels`;
}

/**
 * Turns untrusted upload bytes into the RGB pictures a job works on: the photo at its own resolution (capped), and
 * the model's frame cut from it. Everything that can be refused from the header (empty, too many bytes, wrong
 * format, too many declared pixels, proportions the model cannot take) is refused before any pixel is decoded, so a
 * forged header cannot make the bot allocate gigabytes.
 */
import sharp, { type Metadata, type OutputInfo } from 'sharp';
import { DiffEditError, ErrorCode } from '../../errors.js';
import { assertMappable, assertModelSize, modelDimensions } from './dimensions.js';
import { cappedDimensions, centredCrop, type Rect } from './frame.js';
import type { RgbImage } from './types.js';
import { formatBytes, megapixels } from '../../util/format.js';

/** Formats accepted from users; anything else (SVG, TIFF, HEIF, ...) is refused. Of a GIF only the first frame is used. */
export const ACCEPTED_FORMATS: readonly string[] = ['jpeg', 'png', 'webp', 'gif'];

/** Default cap on the output photo's longer side: detailed enough to post, well inside Discord's 10 MiB as a JPEG. */
export const DEFAULT_MAX_OUTPUT_SIDE = 2048;

/** Default cap on a picture's declared width x height: 50 megapixels. */
export const DEFAULT_MAX_INPUT_PIXELS = 50_000_000;

/** Options of {@link decodePicture}. */
export interface DecodeOptions {
  /** The model's side in pixels (512 for Stable Diffusion 1.x), a positive multiple of 64. */
  readonly size: number;
  /** Largest declared width x height accepted; {@link DEFAULT_MAX_INPUT_PIXELS} when absent. */
  readonly maxInputPixels?: number;
  /** Largest byte length accepted; no limit when absent. */
  readonly maxInputBytes?: number;
  /** The photo's longer side is capped at this many pixels; {@link DEFAULT_MAX_OUTPUT_SIDE} when absent. */
  readonly maxOutputSide?: number;
}

/** A decoded upload. */
export interface DecodedPicture {
  /** The model's frame: {@link frame} of the photo resized to the model's dimensions. */
  readonly model: RgbImage;
  /** The photo: EXIF orientation applied, transparency on white, sRGB, the longer side capped. */
  readonly photo: RgbImage;
  /** Where the model's frame lies in {@link photo}. */
  readonly frame: Rect;
  /** The input's format as sharp names it ('jpeg', 'png', 'webp', 'gif'). */
  readonly format: string;
  /** Frames in the file: above 1 for an animated GIF or WebP, of which only the first is used. */
  readonly pages: number;
}

/** What to send instead; GIFs last, as only their first frame is used. */
const ACCEPTED_PICTURE = 'a JPEG, PNG or WebP picture (or a GIF)';

/**
 * Decodes a JPEG, PNG, WebP or GIF upload (the first frame of an animation): EXIF orientation applied, transparency
 * flattened onto white, sRGB; the photo capped at `maxOutputSide`, and the model's picture: the photo's centred
 * rectangle of the model's aspect ({@link centredCrop}) resized to {@link modelDimensions}.
 *
 * @throws DiffEditError `EmptyImage` for zero bytes; `ImageTooLarge` when the byte length or the declared
 *   pixel count exceeds its limit; `UnsupportedImage` when the bytes are not an accepted format or do not
 *   decode (truncated, corrupt); `UnsupportedShape` when the proportions cannot be mapped to the model
 *   ({@link assertMappable}); `InvalidOption` when `size` or a limit is not valid.
 */
export async function decodePicture(bytes: Uint8Array, options: DecodeOptions): Promise<DecodedPicture> {
  const { size } = options;
  assertModelSize(size);
  const maxInputPixels = options.maxInputPixels ?? DEFAULT_MAX_INPUT_PIXELS;
  assertPositiveInteger('maxInputPixels', maxInputPixels);
  if (options.maxInputBytes !== undefined) assertPositiveInteger('maxInputBytes', options.maxInputBytes);
  const maxOutputSide = options.maxOutputSide ?? DEFAULT_MAX_OUTPUT_SIDE;
  assertPositiveInteger('maxOutputSide', maxOutputSide);

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
  assertMappable(declared.orientedWidth, declared.orientedHeight, size);

  const target = modelDimensions(declared.orientedWidth, declared.orientedHeight, size);
  const capped = cappedDimensions(declared.orientedWidth, declared.orientedHeight, maxOutputSide);
  let photo: RgbImage;
  try {
    // limitInputPixels again: a second guard in case the decoder sees other dimensions than the header read.
    let pipeline = sharp(bytes, { limitInputPixels: maxInputPixels, failOn: 'warning' })
      .rotate()
      .flatten({ background: { r: 255, g: 255, b: 255 } })
      .toColourspace('srgb')
      .removeAlpha();
    if (capped.width !== declared.orientedWidth || capped.height !== declared.orientedHeight) {
      pipeline = pipeline.resize(capped.width, capped.height, { fit: 'fill' });
    }
    photo = rgbOf(await pipeline.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true }), capped);
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
      `The image could not be decoded; it may be truncated or corrupt. Send ${ACCEPTED_PICTURE}.`,
      { format: declared.format },
      { cause: error },
    );
  }
  const frame = centredCrop(photo.width, photo.height, target.width, target.height);
  const model = rgbOf(
    await sharp(photo.data, { raw: { width: photo.width, height: photo.height, channels: 3 } })
      .extract(frame)
      .resize(target.width, target.height, { fit: 'fill' })
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true }),
    target,
  );
  return { model, photo, frame, format: declared.format, pages: declared.pages };
}

/** sharp's raw output as an RgbImage, checked against the expected size. */
function rgbOf(output: { data: Buffer; info: OutputInfo }, expected: { width: number; height: number }): RgbImage {
  const { data, info } = output;
  if (info.channels !== 3 || info.width !== expected.width || info.height !== expected.height) {
    throw new Error(`decoder produced ${info.width}x${info.height}x${info.channels}, expected ${expected.width}x${expected.height}x3`);
  }
  return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

/** What the header declares, read without decoding pixels. */
interface DeclaredHeader {
  readonly format: string;
  readonly width: number;
  readonly height: number;
  /** Dimensions once EXIF orientation is applied (swapped for 90-degree orientations). */
  readonly orientedWidth: number;
  readonly orientedHeight: number;
  /** Frames (1 for a still picture). */
  readonly pages: number;
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
  return { format, width, height, orientedWidth, orientedHeight, pages: metadata.pages ?? 1 };
}

function unsupported(format: string | undefined, cause?: unknown): DiffEditError {
  const seen = format === undefined ? 'not a recognised picture' : `a ${format.toUpperCase()} file`;
  return new DiffEditError(
    ErrorCode.UnsupportedImage,
    `The file is ${seen}; send ${ACCEPTED_PICTURE}.`,
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

/**
 * The job's result at the photo's own resolution: the model's decoded frame is upscaled into the rectangle of the
 * photo it came from and, by default, composited through the dilated and feathered pixel mask (composite.ts), so
 * that everything outside the edit keeps the photo's own pixels instead of the VAE's softened copy.
 */
import sharp from 'sharp';
import { blend, blendWeights, dilationRadius, featherWidth } from './composite.js';
import type { DecodedPicture } from './decode.js';
import type { Rect } from './frame.js';
import { upscaleMask } from './mask.js';
import { encodeWithin, photoFormatFor, type EncodedPhoto, type PhotoFormat, type RawPixels } from './output-photo.js';
import type { GrayMask, RgbImage } from './types.js';

/** A latent-resolution mask: 0/1 per cell, row-major. */
export interface LatentMask {
  readonly data: ArrayLike<number>;
  readonly width: number;
  readonly height: number;
}

/**
 * The mask at the photo's resolution: the latent mask upscaled (as {@link upscaleMask}) into `frame`, off outside it.
 */
export function photoMask(latent: LatentMask, photo: { width: number; height: number }, frame: Rect): GrayMask {
  const inFrame = upscaleMask(latent.data, latent.width, latent.height, frame.width, frame.height);
  const data = new Uint8Array(photo.width * photo.height);
  pasteRows(data, photo.width, inFrame.data, frame, 1);
  return { width: photo.width, height: photo.height, data };
}

/** Writes `inner` (frame-sized, `channels` bytes per pixel) over `frame` of the row-major `target`, `width` wide. */
function pasteRows(target: Uint8Array, width: number, inner: Uint8Array, frame: Rect, channels: number): void {
  const row = channels * frame.width;
  for (let y = 0; y < frame.height; y++) {
    target.set(inner.subarray(y * row, (y + 1) * row), channels * ((frame.top + y) * width + frame.left));
  }
}

/** Photo pixels per model pixel: the larger of the two axes' scales (they differ by rounding only). */
export function frameScale(frame: Rect, model: { width: number; height: number }): number {
  return Math.max(frame.width / model.width, frame.height / model.height);
}

/**
 * The edited photo. With `composite`, the photo with the decoded frame blended in through the photo-sized mask grown
 * by one latent cell of `cell` model pixels and feathered ({@link blendWeights}); without, the decoded frame alone
 * upscaled to the frame's size in the photo (what diffusers returns, at the photo's resolution), no mask needed.
 */
export async function editedPhoto(
  picture: DecodedPicture,
  decoded: RgbImage,
  latent: LatentMask,
  options: { readonly composite: boolean; readonly cell: number },
): Promise<RgbImage> {
  const [photo] = await editedPhotos(picture, [decoded], latent, options);
  return photo as RgbImage;
}

/** {@link editedPhoto} of several decoded frames under one mask: the blend weights are computed once. */
export async function editedPhotos(
  picture: DecodedPicture,
  decoded: readonly RgbImage[],
  latent: LatentMask,
  options: { readonly composite: boolean; readonly cell: number },
): Promise<RgbImage[]> {
  const { photo, frame, model } = picture;
  const scale = frameScale(frame, model);
  const weights = options.composite
    ? blendWeights(photoMask(latent, photo, frame), dilationRadius(scale, options.cell), featherWidth(scale))
    : undefined;
  return Promise.all(
    decoded.map(async (frameImage) => {
      const upscaled = await resizeRgb(frameImage, frame.width, frame.height);
      return weights === undefined ? upscaled : blend(photo, pasted(photo, frame, upscaled), weights);
    }),
  );
}

/**
 * What the model's frame of an edited photo looks like at model resolution: the frame cut from `edited` and resized
 * to `picture.model`'s size the way the model's own picture was made from the photo (decode.ts), so that where the
 * photo was kept the view equals the model's picture exactly. The panel shows this: what is posted, not the model's
 * decoded frame (which is the VAE's softened copy everywhere).
 */
export async function modelView(picture: DecodedPicture, edited: RgbImage): Promise<RgbImage> {
  const { frame, model } = picture;
  if (edited.width === frame.width && edited.height === frame.height && frame.width === model.width && frame.height === model.height) {
    return edited;
  }
  const input = sharp(edited.data, { raw: { width: edited.width, height: edited.height, channels: 3 } });
  // The uncomposited photo is the frame alone (already cut).
  const cut = edited.width === picture.photo.width && edited.height === picture.photo.height ? input.extract(frame) : input;
  const data = await cut.resize(model.width, model.height, { fit: 'fill' }).raw({ depth: 'uchar' }).toBuffer();
  return { width: model.width, height: model.height, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

/** `img` resized to `width` x `height` (Lanczos, sharp's default), or itself when it already has that size. */
async function resizeRgb(img: RgbImage, width: number, height: number): Promise<RgbImage> {
  if (img.width === width && img.height === height) return img;
  const data = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
    .resize(width, height, { fit: 'fill' })
    .raw()
    .toBuffer();
  return { width, height, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

/** A copy of `photo` with `inner` written over `frame`. */
function pasted(photo: RgbImage, frame: Rect, inner: RgbImage): RgbImage {
  const data = photo.data.slice();
  pasteRows(data, photo.width, inner.data, frame, 3);
  return { width: photo.width, height: photo.height, data };
}

/** What {@link fullSizeAttachment} needs besides the pictures. */
export interface AttachmentOptions {
  /** Composite the edit onto the photo (see {@link editedPhoto}). */
  readonly composite: boolean;
  /** Model pixels per latent cell (the VAE's factor, 8 for SD). */
  readonly cell: number;
  /** Bytes the attachment may take (the result's upload limit less the panel). */
  readonly maxBytes: number;
}

/**
 * The full-size attachment of a result: the edited photo in the input's format family, or for a mask-only job
 * (`decoded` undefined) the mask as a grey PNG (white where the edit may paint), both within `maxBytes`; with the
 * warnings a user should read when it had to shrink or could not fit at all.
 */
export async function fullSizeAttachment(
  picture: DecodedPicture,
  latent: LatentMask,
  decoded: RgbImage | undefined,
  options: AttachmentOptions,
): Promise<{ photo: EncodedPhoto | undefined; warnings: string[] }> {
  // The panel alone fills the budget: nothing to build.
  if (options.maxBytes <= 0) return doesNotFit(decoded === undefined ? 1 : 3);
  const pixels: RawPixels =
    decoded === undefined
      ? { ...photoMask(latent, picture.photo, picture.frame), channels: 1 }
      : { ...(await editedPhoto(picture, decoded, latent, options)), channels: 3 };
  return encodeAttachment(pixels, picture.format, options.maxBytes);
}

/**
 * Encodes an attachment within `maxBytes`: an edited photo (3 channels) in the format family of the input's
 * `inputFormat`, a mask (1 channel) as PNG; with the warnings a user should read when it had to shrink or could not
 * fit.
 */
export async function encodeAttachment(
  pixels: RawPixels,
  inputFormat: string,
  maxBytes: number,
): Promise<{ photo: EncodedPhoto | undefined; warnings: string[] }> {
  if (maxBytes <= 0) return doesNotFit(pixels.channels);
  const format: PhotoFormat = pixels.channels === 1 ? 'png' : photoFormatFor(inputFormat);
  const photo = await encodeWithin(pixels, format, maxBytes);
  if (photo === undefined) return doesNotFit(pixels.channels);
  if (photo.width !== pixels.width) {
    return {
      photo,
      warnings: [`The ${attachmentName(pixels.channels)} was scaled down to ${photo.width}x${photo.height} to fit within the upload limit.`],
    };
  }
  return { photo, warnings: [] };
}

function attachmentName(channels: 1 | 3): string {
  return channels === 1 ? 'full-size mask' : 'full-size photo';
}

function doesNotFit(channels: 1 | 3): { photo: undefined; warnings: string[] } {
  return { photo: undefined, warnings: [`The ${attachmentName(channels)} does not fit within the upload limit; only the panel is attached.`] };
}

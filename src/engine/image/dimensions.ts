/**
 * The model's working size for a picture: Stable Diffusion's UNet and VAE need sides that are multiples of 64
 * (8x VAE downsampling, then three 2x UNet downsamplings), and memory grows with the area, so the longer side
 * is pinned to the model's size and the shorter side keeps the aspect ratio to the nearest multiple of 64.
 */
import { DiffEditError, ErrorCode } from '../../errors.js';
import { assertDimensions } from './types.js';

/** The granularity every model side must respect. */
export const SIDE_MULTIPLE = 64;

/** Throws `InvalidOption` unless `size` is a positive integer multiple of {@link SIDE_MULTIPLE}. */
export function assertModelSize(size: number): void {
  if (!Number.isInteger(size) || size <= 0 || size % SIDE_MULTIPLE !== 0) {
    throw new DiffEditError(ErrorCode.InvalidOption, `The image size must be a positive multiple of ${SIDE_MULTIPLE}, got ${size}.`, {
      option: 'size',
      value: size,
    });
  }
}

/**
 * The dimensions a `width` x `height` picture is resized to for a model whose side is `size`: the longer side
 * becomes `size`, the shorter side the multiple of 64 nearest to `size * short / long`, never below 64. The
 * few pixels the rounding adds or removes are taken care of by a centre crop (fit 'cover').
 *
 * @example modelDimensions(1024, 768, 512) // { width: 512, height: 384 }
 * @throws DiffEditError `InvalidOption` when `size` is not a positive multiple of 64.
 * @throws RangeError when `width` or `height` is not a positive integer.
 */
export function modelDimensions(width: number, height: number, size: number): { width: number; height: number } {
  assertModelSize(size);
  assertDimensions(width, height);
  const long = Math.max(width, height);
  const short = Math.min(width, height);
  const shortSide = Math.max(SIDE_MULTIPLE, Math.round((size * short) / long / SIDE_MULTIPLE) * SIDE_MULTIPLE);
  return width >= height ? { width: size, height: shortSide } : { width: shortSide, height: size };
}

/**
 * The most elongated picture accepted, long side : short side. Stable Diffusion 1.x was trained on near-square
 * 512-pixel pictures: at 4:1 the short side is 128 model pixels (16 latent cells), about the least it still composes
 * in, and beyond it panoramas and strips come out as smears. A constant, not a setting: it is the model's limit.
 */
export const MAX_ASPECT_RATIO = 4;

/**
 * Refuses a `width` x `height` picture more elongated than {@link MAX_ASPECT_RATIO}. Needs no model size, so the bot
 * checks an attachment's declared dimensions with it before anything public is posted.
 *
 * @throws DiffEditError `UnsupportedShape` with a message the user can act on.
 */
export function assertAspect(width: number, height: number): void {
  assertDimensions(width, height);
  const long = Math.max(width, height);
  const short = Math.min(width, height);
  if (long > MAX_ASPECT_RATIO * short) {
    throw new DiffEditError(
      ErrorCode.UnsupportedShape,
      `The picture is ${width}x${height}, ${formatRatio(long / short)}:1; the model takes at most ${MAX_ASPECT_RATIO}:1. ` +
        'Crop it closer to the region to edit and send it again.',
      { width, height, maxAspectRatio: MAX_ASPECT_RATIO },
    );
  }
}

/**
 * Refuses a `width` x `height` picture the model cannot take without distorting or cropping most of it: proportions
 * beyond {@link MAX_ASPECT_RATIO} ({@link assertAspect}), or a short side under {@link SIDE_MULTIPLE} pixels once the
 * long side is `size` (which {@link modelDimensions} would otherwise make up by cropping the long side).
 *
 * @throws DiffEditError `UnsupportedShape` with a message the user can act on.
 */
export function assertMappable(width: number, height: number, size: number): void {
  assertAspect(width, height);
  const short = Math.min(width, height);
  if ((size * short) / Math.max(width, height) < SIDE_MULTIPLE) {
    throw new DiffEditError(
      ErrorCode.UnsupportedShape,
      `The picture is ${width}x${height}: at the model's ${size} pixels its short side would be under ${SIDE_MULTIPLE} pixels. ` +
        'Crop it closer to square and send it again.',
      { width, height, size, minSide: SIDE_MULTIPLE },
    );
  }
}

/** "1000", "5", "4.1": rounded up, so a picture just over the limit never reads as exactly at it. */
function formatRatio(ratio: number): string {
  return ratio >= 10 ? String(Math.ceil(ratio)) : String(Math.ceil(ratio * 10) / 10);
}

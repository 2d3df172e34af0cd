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

/**
 * Bringing DiffEdit's latent-resolution mask (one value per 8x8 block of pixels) up to picture resolution.
 * Bilinear interpolation then a 0.5 threshold, rather than nearest neighbour: the result is still binary, but
 * diagonal edges follow the interpolated contour instead of a staircase of 8-pixel blocks.
 */
import { assertDimensions, type GrayMask } from './types.js';

/** Value a mask byte has where the mask is on. */
export const MASK_ON = 255;

/**
 * Upscales a `width` x `height` mask of values in [0, 1] (row-major) to `outWidth` x `outHeight`: bilinear
 * sampling at pixel centres (half-pixel aligned, edges clamped), then on (255) where the interpolated value is
 * at least 0.5, off (0) elsewhere.
 *
 * @throws RangeError when `mask` does not hold `width * height` values or a dimension is not a positive integer.
 */
export function upscaleMask(mask: ArrayLike<number>, width: number, height: number, outWidth: number, outHeight: number): GrayMask {
  assertDimensions(width, height, 'mask');
  assertDimensions(outWidth, outHeight, 'output mask');
  if (mask.length !== width * height) {
    throw new RangeError(`mask: expected ${width * height} values for ${width}x${height}, got ${mask.length}`);
  }
  const out = new Uint8Array(outWidth * outHeight);
  const scaleX = width / outWidth;
  const scaleY = height / outHeight;
  for (let y = 0; y < outHeight; y++) {
    // Source coordinate of this pixel's centre, clamped so the border replicates the edge values.
    const sy = clamp((y + 0.5) * scaleY - 0.5, 0, height - 1);
    const y0 = Math.floor(sy);
    const y1 = Math.min(y0 + 1, height - 1);
    const fy = sy - y0;
    for (let x = 0; x < outWidth; x++) {
      const sx = clamp((x + 0.5) * scaleX - 0.5, 0, width - 1);
      const x0 = Math.floor(sx);
      const x1 = Math.min(x0 + 1, width - 1);
      const fx = sx - x0;
      const top = mask[y0 * width + x0]! * (1 - fx) + mask[y0 * width + x1]! * fx;
      const bottom = mask[y1 * width + x0]! * (1 - fx) + mask[y1 * width + x1]! * fx;
      out[y * outWidth + x] = top * (1 - fy) + bottom * fy >= 0.5 ? MASK_ON : 0;
    }
  }
  return { width: outWidth, height: outHeight, data: out };
}

/** Fraction of the mask's pixels that are on (non-zero), in [0, 1]. */
export function maskCoverage(mask: GrayMask): number {
  let on = 0;
  for (const v of mask.data) if (v !== 0) on++;
  return mask.data.length === 0 ? 0 : on / mask.data.length;
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

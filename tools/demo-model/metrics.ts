/**
 * How well an edit did on a demo scene, as numbers: the quality tests assert on them and `npm run bench:quality`
 * tabulates them. Masks are one byte per pixel, non-zero = inside; pictures are 8-bit RGB, interleaved.
 */
import type { GrayMask, RgbImage } from '../../src/engine/image/index.js';
export { coverage, intersectionOverUnion as iou } from '../../src/engine/diffedit/mask-stats.js';
import { namedRgb } from './scenes.js';

/** The pixels within `radius` (Chebyshev distance) of any inside pixel of a `width`-wide `mask`. */
export function dilate(mask: Uint8Array, width: number, radius: number): Uint8Array {
  const height = mask.length / width;
  const out = new Uint8Array(mask.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (mask[y * width + x] === 0) continue;
      for (let yy = Math.max(0, y - radius); yy <= Math.min(height - 1, y + radius); yy++) {
        out.fill(1, yy * width + Math.max(0, x - radius), yy * width + Math.min(width - 1, x + radius) + 1);
      }
    }
  }
  return out;
}

/** Everything `mask` leaves out. */
export function outside(mask: Uint8Array): Uint8Array {
  return mask.map((v) => (v === 0 ? 1 : 0));
}

/**
 * Of the pixels inside `region`, the share whose colour is nearer `toward` than `awayFrom` (named scene colours):
 * "a red circle" -> "a blue circle" succeeded where the circle's pixels turned nearer blue than red.
 */
export function shareNearer(picture: RgbImage, region: Uint8Array, toward: string, awayFrom: string): number {
  const to = namedRgb(toward).map((c) => c * 255);
  const from = namedRgb(awayFrom).map((c) => c * 255);
  let inside = 0;
  let nearer = 0;
  for (let i = 0; i < region.length; i++) {
    if (region[i] === 0) continue;
    inside++;
    let dTo = 0;
    let dFrom = 0;
    for (let c = 0; c < 3; c++) {
      const v = picture.data[i * 3 + c] ?? 0;
      dTo += (v - (to[c] ?? 0)) ** 2;
      dFrom += (v - (from[c] ?? 0)) ** 2;
    }
    if (dTo < dFrom) nearer++;
  }
  return inside === 0 ? 0 : nearer / inside;
}

/** Mean absolute difference (0..255) of two pictures over the pixels of `region` (all pixels when absent). */
export function meanAbsDiff(a: RgbImage, b: RgbImage, region?: Uint8Array): number {
  if (a.data.length !== b.data.length) throw new RangeError(`meanAbsDiff: ${a.width}x${a.height} vs ${b.width}x${b.height}`);
  let sum = 0;
  let count = 0;
  for (let i = 0; i < a.width * a.height; i++) {
    if (region !== undefined && region[i] === 0) continue;
    for (let c = 0; c < 3; c++) sum += Math.abs((a.data[i * 3 + c] ?? 0) - (b.data[i * 3 + c] ?? 0));
    count += 3;
  }
  return count === 0 ? 0 : sum / count;
}

/** Pixels (as a mask) where two pictures differ at all. */
export function changed(a: RgbImage, b: RgbImage): Uint8Array {
  const out = new Uint8Array(a.width * a.height);
  for (let i = 0; i < out.length; i++) {
    for (let c = 0; c < 3; c++) if (a.data[i * 3 + c] !== b.data[i * 3 + c]) out[i] = 1;
  }
  return out;
}

/** A GrayMask's bytes as 0/1. */
export function binary(mask: GrayMask): Uint8Array {
  return mask.data.map((v) => (v >= 128 ? 1 : 0));
}

/** The median of `values` (NaN when empty). */
export function median(values: readonly number[]): number {
  return quantile(values, 0.5);
}

/** The `q` quantile of `values` by linear interpolation (numpy's default). */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((x, y) => x - y);
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return (sorted[lo] as number) + ((sorted[hi] as number) - (sorted[lo] as number)) * (pos - lo);
}

/**
 * DiffEdit's mask statistics as pure functions on flat [height * width] maps.
 */

/** How the difference map becomes a binary mask. */
export type MaskThresholding =
  /** diffusers / the paper: clamp at `ratio` x mean, divide by that clamp, keep > 0.5. */
  | { readonly mode: 'clamp'; readonly ratio: number }
  /** The FastDiffEdit article: standardise, keep z > 0 (above the mean). */
  | { readonly mode: 'zscore' };

/** diffusers' default thresholding (mask_thresholding_ratio = 3). */
export const DEFAULT_THRESHOLDING: MaskThresholding = { mode: 'clamp', ratio: 3 };

/**
 * Accumulates sum over channels of |query - ref| for one noise draw into `into` ([h*w]).
 * `query` and `ref` are [channels, h, w] slices starting at the given offsets.
 */
export function accumulateAbsDifference(
  into: Float32Array,
  query: Float32Array,
  queryOffset: number,
  ref: Float32Array,
  refOffset: number,
  channels: number,
): void {
  const plane = into.length;
  for (let c = 0; c < channels; c++) {
    const q = queryOffset + c * plane;
    const r = refOffset + c * plane;
    for (let i = 0; i < plane; i++) into[i] = (into[i] as number) + Math.abs((query[q + i] as number) - (ref[r + i] as number));
  }
}

/** Divides a map in place by `count` (turns accumulated sums into means). */
export function scaleInPlace(map: Float32Array, factor: number): Float32Array {
  for (let i = 0; i < map.length; i++) map[i] = (map[i] as number) * factor;
  return map;
}

/** Arithmetic mean. */
export function mean(values: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i] as number;
  return values.length === 0 ? 0 : sum / values.length;
}

/** Population standard deviation. */
export function standardDeviation(values: ArrayLike<number>): number {
  const m = mean(values);
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += ((values[i] as number) - m) ** 2;
  return values.length === 0 ? 0 : Math.sqrt(sum / values.length);
}

/**
 * The binary mask (1 = edit here) of a difference map. A flat map (ref and query predict the same noise
 * everywhere) has nothing to edit and gives an empty mask rather than dividing by zero.
 */
export function thresholdMap(map: Float32Array, thresholding: MaskThresholding): Float32Array {
  const out = new Float32Array(map.length);
  if (thresholding.mode === 'clamp') {
    const clamp = mean(map) * thresholding.ratio;
    if (!(clamp > 0)) return out;
    for (let i = 0; i < map.length; i++) out[i] = Math.min(map[i] as number, clamp) / clamp > 0.5 ? 1 : 0;
    return out;
  }
  const m = mean(map);
  const sd = standardDeviation(map);
  if (!(sd > 0)) return out;
  for (let i = 0; i < map.length; i++) out[i] = ((map[i] as number) - m) / sd > 0 ? 1 : 0;
  return out;
}

/**
 * Blur-dilation of the article: a 3x3 Gaussian blur (1-2-1 kernel) of the binary mask, then anything above 0
 * is kept; each pass grows the mask by one cell in every direction (diagonals included).
 */
export function blurDilate(mask: Float32Array, width: number, height: number, passes = 1): Float32Array {
  let current = mask;
  for (let pass = 0; pass < passes; pass++) {
    const next = new Float32Array(current.length);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        let blurred = 0;
        for (let dy = -1; dy <= 1; dy++) {
          const yy = y + dy;
          if (yy < 0 || yy >= height) continue;
          for (let dx = -1; dx <= 1; dx++) {
            const xx = x + dx;
            if (xx < 0 || xx >= width) continue;
            blurred += (current[yy * width + xx] as number) * (dx === 0 ? 2 : 1) * (dy === 0 ? 2 : 1);
          }
        }
        next[y * width + x] = blurred / 16 > 0 ? 1 : 0;
      }
    }
    current = next;
  }
  return current;
}

/** Fraction of cells that are set. */
export function coverage(mask: ArrayLike<number>): number {
  let on = 0;
  for (let i = 0; i < mask.length; i++) if ((mask[i] as number) > 0.5) on++;
  return mask.length === 0 ? 0 : on / mask.length;
}

/** Intersection over union of two binary masks (1 when both are empty). */
export function intersectionOverUnion(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let inter = 0;
  let union = 0;
  for (let i = 0; i < a.length; i++) {
    const x = (a[i] as number) > 0.5;
    const y = (b[i] as number) > 0.5;
    if (x && y) inter++;
    if (x || y) union++;
  }
  return union === 0 ? 1 : inter / union;
}

/**
 * Putting the edit back onto the photo. The decoded frame has been through the VAE, which softens texture, text and
 * faces everywhere; only the masked region is meant to change. So the photo keeps its own pixels except within the
 * pixel mask grown by about one latent cell (the VAE decoder's reach across a cell edge), and a short linear
 * feather across the band's edge hides the seam. Pure functions: no I/O, no resampling.
 */
import { assertGrayMask, assertRgbImage, type GrayMask, type RgbImage } from './types.js';

/** How far the mask is grown, in latent cells: the decoder's upsampling reaches about one cell across an edge. */
export const DILATE_CELLS = 1;

/** Width of the feather, in model pixels (scaled to the photo like the dilation). */
export const FEATHER_MODEL_PIXELS = 2;

/**
 * The dilation radius in photo pixels: {@link DILATE_CELLS} latent cells of `cell` model pixels, times `scale` photo
 * pixels per model pixel, rounded up so the band never falls short of a cell.
 */
export function dilationRadius(scale: number, cell: number): number {
  if (!(scale > 0) || !(cell > 0)) throw new RangeError(`scale and cell must be positive, got ${scale} and ${cell}`);
  return Math.ceil(DILATE_CELLS * cell * scale - 1e-9);
}

/** The feather's width in photo pixels: {@link FEATHER_MODEL_PIXELS} model pixels times `scale`, at least 1. */
export function featherWidth(scale: number): number {
  if (!(scale > 0)) throw new RangeError(`scale must be positive, got ${scale}`);
  return Math.max(1, Math.round(FEATHER_MODEL_PIXELS * scale));
}

/**
 * The edit's weight at `distance` pixels from the mask: 1 up to `radius`, 0 from `radius + feather` on, linear in
 * between. Exactly 0 is what keeps a photo pixel byte for byte.
 */
export function featherWeight(distance: number, radius: number, feather: number): number {
  if (distance <= radius) return 1;
  if (distance >= radius + feather) return 0;
  return (radius + feather - distance) / feather;
}

/**
 * The edit's weight per pixel, in [0, 1]: {@link featherWeight} of the Euclidean distance to the nearest on-pixel of
 * `mask`. Computed within the mask's bounding box grown by the band only (all 0 elsewhere, and for an empty mask).
 */
export function blendWeights(mask: GrayMask, radius: number, feather: number): Float32Array {
  assertGrayMask(mask);
  const { width, height, data } = mask;
  const weights = new Float32Array(width * height);
  const box = onBox(mask);
  if (box === undefined) return weights;
  const reach = Math.ceil(radius + feather);
  const x0 = Math.max(0, box.x0 - reach);
  const y0 = Math.max(0, box.y0 - reach);
  const x1 = Math.min(width - 1, box.x1 + reach);
  const y1 = Math.min(height - 1, box.y1 + reach);
  const w = x1 - x0 + 1;
  const h = y1 - y0 + 1;
  const window = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) window.set(data.subarray((y0 + y) * width + x0, (y0 + y) * width + x0 + w), y * w);
  const squared = squaredDistances(window, w, h);
  const limit = (radius + feather) ** 2;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const d2 = squared[y * w + x] as number;
      if (d2 < limit) weights[(y0 + y) * width + x0 + x] = featherWeight(Math.sqrt(d2), radius, feather);
    }
  }
  return weights;
}

/**
 * `edited` laid over `base` with the given weights: weight 0 copies the base's bytes, 1 the edit's, anything between
 * rounds the linear mix.
 *
 * @throws RangeError when the sizes disagree.
 */
export function blend(base: RgbImage, edited: RgbImage, weights: Float32Array): RgbImage {
  assertRgbImage(base, 'base');
  assertRgbImage(edited, 'edited');
  if (edited.width !== base.width || edited.height !== base.height || weights.length !== base.width * base.height) {
    throw new RangeError(`blend: base ${base.width}x${base.height}, edited ${edited.width}x${edited.height}, ${weights.length} weights`);
  }
  const out = base.data.slice();
  for (let i = 0; i < weights.length; i++) {
    const w = weights[i] as number;
    if (w === 0) continue;
    for (let c = 3 * i; c < 3 * i + 3; c++) {
      out[c] = w === 1 ? (edited.data[c] as number) : Math.round((edited.data[c] as number) * w + (base.data[c] as number) * (1 - w));
    }
  }
  return { width: base.width, height: base.height, data: out };
}

/**
 * Squared Euclidean distance from each pixel to the nearest non-zero one (Infinity when there is none): the exact
 * transform of Felzenszwalb and Huttenlocher, linear in the pixel count. The vertical pass, trivial on a binary mask,
 * sweeps down then up row by row; the horizontal pass takes the lower envelope of parabolas along each row. Both walk
 * memory in order, which matters more than the arithmetic at photo sizes.
 */
export function squaredDistances(mask: Uint8Array, width: number, height: number): Float64Array {
  const out = new Float64Array(width * height);
  for (let x = 0; x < width; x++) out[x] = mask[x] === 0 ? Infinity : 0;
  for (let y = 1; y < height; y++) {
    for (let i = y * width, end = i + width; i < end; i++) out[i] = mask[i] === 0 ? (out[i - width] as number) + 1 : 0;
  }
  for (let y = height - 2; y >= 0; y--) {
    for (let i = y * width, end = i + width; i < end; i++) {
      const below = (out[i + width] as number) + 1;
      if (below < (out[i] as number)) out[i] = below;
    }
  }
  for (let i = 0; i < out.length; i++) out[i] = (out[i] as number) * (out[i] as number);
  const d = new Float64Array(width);
  const v = new Int32Array(width);
  const z = new Float64Array(width + 1);
  for (let y = 0; y < height; y++) {
    const row = out.subarray(y * width, (y + 1) * width);
    lowerEnvelope(row, width, d, v, z);
    row.set(d);
  }
  return out;
}

/** One-dimensional squared distance transform of `f[0..n)` into `d` (v and z are scratch space). */
function lowerEnvelope(f: Float64Array, n: number, d: Float64Array, v: Int32Array, z: Float64Array): void {
  let k = -1;
  for (let q = 0; q < n; q++) {
    const fq = f[q] as number;
    if (fq === Infinity) continue;
    // Drop parabolas the new one hides, then start its interval.
    let s = -Infinity;
    while (k >= 0) {
      const p = v[k] as number;
      s = (fq + q * q - ((f[p] as number) + p * p)) / (2 * (q - p));
      if (s > (z[k] as number)) break;
      k--;
    }
    k++;
    v[k] = q;
    z[k] = k === 0 ? -Infinity : s;
    z[k + 1] = Infinity;
  }
  if (k < 0) {
    d.fill(Infinity, 0, n);
    return;
  }
  let j = 0;
  for (let q = 0; q < n; q++) {
    while ((z[j + 1] as number) < q) j++;
    const p = v[j] as number;
    d[q] = (q - p) * (q - p) + (f[p] as number);
  }
}

/** The bounding box of the on-pixels, or undefined when there are none. */
function onBox(mask: GrayMask): { x0: number; y0: number; x1: number; y1: number } | undefined {
  const { width, height, data } = mask;
  let x0 = width;
  let y0 = height;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (data[y * width + x] === 0) continue;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      y1 = y;
    }
  }
  return x1 < 0 ? undefined : { x0, y0, x1, y1 };
}

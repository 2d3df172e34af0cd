/**
 * Conversion between 8-bit pictures and the VAE's float tensors: NCHW, one batch, three planes, values in
 * [-1, 1]. The mapping v / 127.5 - 1 is inverted exactly by round((x + 1) * 127.5) for every 8-bit value.
 */
import { assertDimensions, assertRgbImage, type RgbImage } from './types.js';

/** The picture as a `[1, 3, height, width]` tensor, each channel value mapped to `v / 127.5 - 1`. */
export function imageToTensor(img: RgbImage): Float32Array {
  assertRgbImage(img);
  const plane = img.width * img.height;
  const out = new Float32Array(3 * plane);
  const src = img.data;
  for (let i = 0; i < plane; i++) {
    out[i] = src[3 * i]! / 127.5 - 1;
    out[plane + i] = src[3 * i + 1]! / 127.5 - 1;
    out[2 * plane + i] = src[3 * i + 2]! / 127.5 - 1;
  }
  return out;
}

/**
 * The picture held by a `[.., 3, height, width]` tensor starting at `offset` (so one item of a batch can be
 * read without copying): values clamped to [-1, 1], then mapped to `round((x + 1) * 127.5)`. NaN, which a
 * float16 VAE can produce on overflow, becomes black rather than an undefined byte.
 *
 * @throws RangeError when `data` holds fewer than `offset + 3 * width * height` values.
 */
export function tensorToImage(data: ArrayLike<number>, width: number, height: number, offset = 0): RgbImage {
  assertDimensions(width, height, 'tensor');
  const plane = width * height;
  if (!Number.isInteger(offset) || offset < 0 || data.length < offset + 3 * plane) {
    throw new RangeError(`tensor: need ${3 * plane} values from offset ${offset}, have ${data.length}`);
  }
  const out = new Uint8Array(3 * plane);
  for (let c = 0; c < 3; c++) {
    const base = offset + c * plane;
    for (let i = 0; i < plane; i++) {
      out[3 * i + c] = toByte(data[base + i]!);
    }
  }
  return { width, height, data: out };
}

function toByte(x: number): number {
  if (Number.isNaN(x)) return 0;
  const clamped = x < -1 ? -1 : x > 1 ? 1 : x;
  return Math.round((clamped + 1) * 127.5);
}

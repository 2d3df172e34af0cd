/**
 * Small helpers for latent tensors laid out as flat NCHW Float32Arrays.
 */

/** Shape of one latent image: channels x height x width. */
export interface LatentShape {
  readonly channels: number;
  readonly height: number;
  readonly width: number;
}

/** Number of values in one latent image. */
export function latentSize(shape: LatentShape): number {
  return shape.channels * shape.height * shape.width;
}

/**
 * Concatenates tensors end to end: equally sized items make a batch; for one batch item, [4,h,w] ++ [1,h,w]
 * ++ [4,h,w] is the channel concatenation [9,h,w] an inpainting UNet takes.
 */
export function concat(items: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(items.reduce((n, item) => n + item.length, 0));
  let offset = 0;
  for (const item of items) {
    out.set(item, offset);
    offset += item.length;
  }
  return out;
}

/** Row `index` of a batch whose rows have `rowSize` values (a view, no copy). */
export function row(batch: Float32Array, index: number, rowSize: number): Float32Array {
  return batch.subarray(index * rowSize, (index + 1) * rowSize);
}

/**
 * Keeps `edited` inside the mask and `original` outside it, in place in `edited`.
 * `mask` is [h*w] in 0..1 and applies to every channel.
 */
export function blendInPlace(edited: Float32Array, original: Float32Array, mask: Float32Array): Float32Array {
  const plane = mask.length;
  for (let i = 0; i < edited.length; i++) {
    const m = mask[i % plane] as number;
    edited[i] = m * (edited[i] as number) + (1 - m) * (original[i] as number);
  }
  return edited;
}

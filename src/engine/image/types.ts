/**
 * The pixel containers the image helpers exchange, and the shape checks that keep a wrong-sized buffer from
 * turning into a garbled picture further down the pipeline.
 */

/** An 8-bit sRGB picture, row-major, channels interleaved (R, G, B, R, G, B, ...). */
export interface RgbImage {
  /** Width in pixels. */
  readonly width: number;
  /** Height in pixels. */
  readonly height: number;
  /** `3 * width * height` bytes, RGB interleaved, rows top to bottom. */
  readonly data: Uint8Array;
}

/**
 * A binary mask, row-major, one byte per pixel: 255 where the edit may change the picture, 0 where it must not.
 * Binary bytes rather than floats so it composes directly with 8-bit pictures and encodes as a grey PNG.
 */
export interface GrayMask {
  /** Width in pixels. */
  readonly width: number;
  /** Height in pixels. */
  readonly height: number;
  /** `width * height` bytes, each 0 (off) or 255 (on). */
  readonly data: Uint8Array;
}

/**
 * Throws a RangeError unless `img` has positive integer dimensions and exactly `3 * width * height` bytes.
 * A RangeError, not a DiffEditError: a mismatch is a programming mistake, never something a user caused.
 */
export function assertRgbImage(img: RgbImage, name = 'image'): void {
  assertDimensions(img.width, img.height, name);
  if (img.data.length !== 3 * img.width * img.height) {
    throw new RangeError(`${name}: expected ${3 * img.width * img.height} bytes for ${img.width}x${img.height} RGB, got ${img.data.length}`);
  }
}

/** Throws a RangeError unless `mask` has positive integer dimensions and exactly `width * height` bytes. */
export function assertGrayMask(mask: GrayMask, name = 'mask'): void {
  assertDimensions(mask.width, mask.height, name);
  if (mask.data.length !== mask.width * mask.height) {
    throw new RangeError(`${name}: expected ${mask.width * mask.height} bytes for ${mask.width}x${mask.height}, got ${mask.data.length}`);
  }
}

/** Throws a RangeError unless `width` and `height` are positive integers. */
export function assertDimensions(width: number, height: number, name = 'image'): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new RangeError(`${name}: dimensions must be positive integers, got ${width}x${height}`);
  }
}

/**
 * The "what will change" picture: the input dimmed where the edit must leave it alone, tinted magenta where
 * the mask lets the edit paint, with the mask's contour drawn solid so thin regions stay visible.
 */
import { assertGrayMask, assertRgbImage, type GrayMask, type RgbImage } from './types.js';

/** Colour of the tint and the contour. Magenta: rare in photos, so the mask never blends into the subject. */
export const OVERLAY_COLOUR: readonly [number, number, number] = [255, 0, 255];

/** Weight of the tint colour inside the mask (the input keeps the rest). */
export const OVERLAY_TINT = 0.5;

/** Brightness factor applied outside the mask. */
export const OVERLAY_DIM = 0.4;

/** Width in pixels of the contour drawn along the inside of the mask's edge. */
export const OVERLAY_OUTLINE = 2;

/**
 * The input with the mask drawn over it: outside the mask each channel is multiplied by {@link OVERLAY_DIM};
 * inside it is mixed with {@link OVERLAY_COLOUR} at {@link OVERLAY_TINT}; on-pixels within
 * {@link OVERLAY_OUTLINE} pixels (horizontally or vertically) of an off-pixel are painted solid. The picture's
 * own border is not a contour: a mask touching the edge is not outlined there.
 *
 * @throws RangeError when the mask's dimensions differ from the input's.
 */
export function maskOverlay(input: RgbImage, mask: GrayMask): RgbImage {
  assertRgbImage(input, 'input');
  assertGrayMask(mask);
  const { width, height } = input;
  if (mask.width !== width || mask.height !== height) {
    throw new RangeError(`mask is ${mask.width}x${mask.height}, input is ${width}x${height}`);
  }
  const out = new Uint8Array(input.data.length);
  const [cr, cg, cb] = OVERLAY_COLOUR;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      const p = 3 * i;
      if (mask.data[i] === 0) {
        out[p] = Math.round(input.data[p]! * OVERLAY_DIM);
        out[p + 1] = Math.round(input.data[p + 1]! * OVERLAY_DIM);
        out[p + 2] = Math.round(input.data[p + 2]! * OVERLAY_DIM);
      } else if (onContour(mask, x, y)) {
        out[p] = cr;
        out[p + 1] = cg;
        out[p + 2] = cb;
      } else {
        out[p] = Math.round(input.data[p]! * (1 - OVERLAY_TINT) + cr * OVERLAY_TINT);
        out[p + 1] = Math.round(input.data[p + 1]! * (1 - OVERLAY_TINT) + cg * OVERLAY_TINT);
        out[p + 2] = Math.round(input.data[p + 2]! * (1 - OVERLAY_TINT) + cb * OVERLAY_TINT);
      }
    }
  }
  return { width, height, data: out };
}

/** True when an off-pixel lies within OVERLAY_OUTLINE steps left, right, up or down of the on-pixel (x, y). */
function onContour(mask: GrayMask, x: number, y: number): boolean {
  const { width, height, data } = mask;
  for (let d = 1; d <= OVERLAY_OUTLINE; d++) {
    if (x - d >= 0 && data[y * width + x - d] === 0) return true;
    if (x + d < width && data[y * width + x + d] === 0) return true;
    if (y - d >= 0 && data[(y - d) * width + x] === 0) return true;
    if (y + d < height && data[(y + d) * width + x] === 0) return true;
  }
  return false;
}

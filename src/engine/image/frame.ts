/**
 * Where the model's frame lies in the photo. The model sees a centred rectangle of the photo with exactly the
 * model's aspect (its sides are multiples of 64, so a few rows or columns of the photo may fall outside), and the
 * photo itself is kept at its own resolution up to a cap. Computing the rectangle here, instead of letting the
 * resizer crop, is what lets the edited frame be put back onto the photo at the right place, pixel for pixel.
 */
import { assertDimensions } from './types.js';

/** An axis-aligned rectangle in pixels. */
export interface Rect {
  readonly left: number;
  readonly top: number;
  readonly width: number;
  readonly height: number;
}

/**
 * The photo's size once its longer side is capped at `maxSide` (aspect kept, each side at least 1); unchanged when it
 * is already within the cap. A photo is never enlarged.
 *
 * @example cappedDimensions(6000, 4000, 2048) // { width: 2048, height: 1365 }
 */
export function cappedDimensions(width: number, height: number, maxSide: number): { width: number; height: number } {
  assertDimensions(width, height);
  if (!Number.isInteger(maxSide) || maxSide <= 0) throw new RangeError(`maxSide must be a positive integer, got ${maxSide}`);
  const long = Math.max(width, height);
  if (long <= maxSide) return { width, height };
  const scale = maxSide / long;
  return width >= height
    ? { width: maxSide, height: Math.max(1, Math.round(height * scale)) }
    : { width: Math.max(1, Math.round(width * scale)), height: maxSide };
}

/**
 * The largest centred rectangle of a `width` x `height` photo whose aspect is `frameWidth : frameHeight` (to the
 * nearest pixel): the whole photo when the aspects agree, else the photo less a few columns or rows on each side
 * (the odd one goes to the right or the bottom).
 *
 * @example centredCrop(600, 400, 512, 320) // { left: 0, top: 12, width: 600, height: 375 }
 */
export function centredCrop(width: number, height: number, frameWidth: number, frameHeight: number): Rect {
  assertDimensions(width, height);
  assertDimensions(frameWidth, frameHeight, 'frame');
  // Compare width/height with frameWidth/frameHeight without dividing.
  if (width * frameHeight > height * frameWidth) {
    const cropWidth = Math.min(width, Math.max(1, Math.round((height * frameWidth) / frameHeight)));
    return { left: Math.floor((width - cropWidth) / 2), top: 0, width: cropWidth, height };
  }
  const cropHeight = Math.min(height, Math.max(1, Math.round((width * frameHeight) / frameWidth)));
  return { left: 0, top: Math.floor((height - cropHeight) / 2), width, height: cropHeight };
}

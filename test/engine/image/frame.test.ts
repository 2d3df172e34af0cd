import { describe, expect, it } from 'vitest';
import { cappedDimensions, centredCrop } from '../../../src/engine/image/frame.js';

describe('cappedDimensions', () => {
  it.each([
    [1600, 1200, 2048, 1600, 1200],
    [6000, 4000, 2048, 2048, 1365],
    [4000, 6000, 2048, 1365, 2048],
    [2048, 2048, 2048, 2048, 2048],
    [3000, 1, 1000, 1000, 1],
    [100, 50, 64, 64, 32],
  ])('%sx%s capped at %s: %sx%s', (width, height, cap, outWidth, outHeight) => {
    expect(cappedDimensions(width, height, cap)).toEqual({ width: outWidth, height: outHeight });
  });

  it('refuses a cap that is not a positive integer', () => {
    expect(() => cappedDimensions(10, 10, 0)).toThrow(RangeError);
  });
});

describe('centredCrop', () => {
  it.each([
    // photo, model frame, crop
    [1600, 1200, 512, 384, { left: 0, top: 0, width: 1600, height: 1200 }],
    [2048, 1365, 512, 320, { left: 0, top: 42, width: 2048, height: 1280 }],
    [1365, 2048, 320, 512, { left: 42, top: 0, width: 1280, height: 2048 }],
    [256, 100, 256, 128, { left: 28, top: 0, width: 200, height: 100 }],
    [1600, 1200, 128, 128, { left: 200, top: 0, width: 1200, height: 1200 }],
    [601, 400, 512, 320, { left: 0, top: 12, width: 601, height: 376 }],
  ])('%sx%s for a %sx%s frame: %o', (width, height, frameWidth, frameHeight, crop) => {
    expect(centredCrop(width, height, frameWidth, frameHeight)).toEqual(crop);
  });
});

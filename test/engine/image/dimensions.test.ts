import { describe, expect, it } from 'vitest';
import { modelDimensions } from '../../../src/engine/image/dimensions.js';
import { ErrorCode } from '../../../src/errors.js';
import { errorCode } from './fixtures.js';

describe('modelDimensions', () => {
  it.each([
    [1024, 768, 512, 512, 384],
    [768, 1024, 512, 384, 512],
    [100, 100, 512, 512, 512],
    [4000, 100, 512, 512, 64],
    [100, 4000, 512, 64, 512],
    [1920, 1080, 512, 512, 320], // 288 is halfway between 256 and 320: ties round up
    [3000, 2000, 512, 512, 320], // 341.3 -> 320
    [4032, 3024, 768, 768, 576],
    [1, 1, 64, 64, 64],
    [300, 200, 256, 256, 192], // 170.7 -> 192
  ])('maps %ix%i at size %i to %ix%i', (width, height, size, outWidth, outHeight) => {
    expect(modelDimensions(width, height, size)).toEqual({ width: outWidth, height: outHeight });
  });

  it('keeps the longer side at size and the shorter side a multiple of 64 for every aspect ratio', () => {
    for (let short = 1; short <= 1000; short += 7) {
      const { width, height } = modelDimensions(1000, short, 512);
      expect(width).toBe(512);
      expect(height % 64).toBe(0);
      expect(height).toBeGreaterThanOrEqual(64);
      // Nearest multiple of 64, except where the 64-pixel floor lifts it.
      const ideal = (512 * short) / 1000;
      expect(Math.abs(height - ideal) <= 32 || (height === 64 && ideal < 64)).toBe(true);
    }
  });

  it.each([0, -64, 500, 64.5, Number.NaN])('refuses size %s with InvalidOption', (size) => {
    expect(errorCode(() => modelDimensions(100, 100, size))).toBe(ErrorCode.InvalidOption);
  });
});

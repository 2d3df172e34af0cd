import { describe, expect, it } from 'vitest';
import { assertAspect, assertMappable, modelDimensions } from '../../../src/engine/image/dimensions.js';
import { ErrorCode, isDiffEditError } from '../../../src/errors.js';
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

describe('assertMappable', () => {
  it.each([
    // width, height, size, refused with (undefined: accepted)
    [1600, 1200, 512, undefined],
    [4000, 1000, 512, undefined],
    [1000, 4000, 512, undefined],
    [4001, 1000, 512, /4001x1000, 4.1:1; the model takes at most 4:1/],
    [10_000, 10, 512, /10000x10, 1000:1/],
    [10, 10_000, 512, /10x10000, 1000:1/],
    [4000, 1000, 256, undefined],
    [3000, 1000, 128, /short side would be under 64 pixels/],
    [2000, 1000, 128, undefined],
    [1, 1, 64, undefined],
  ])('%sx%s at size %s: %s', (width, height, size, refusal) => {
    const run = () => assertMappable(width, height, size);
    if (refusal === undefined) {
      expect(run).not.toThrow();
      return;
    }
    expect(run).toThrow(refusal);
    try {
      run();
    } catch (error) {
      expect(isDiffEditError(error, ErrorCode.UnsupportedShape)).toBe(true);
    }
  });

  it('assertAspect alone needs no model size', () => {
    expect(() => assertAspect(800, 200)).not.toThrow();
    expect(() => assertAspect(801, 200)).toThrow(/at most 4:1/);
  });
});

import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { encodeWithin, nextScale, photoFormatFor, type RawPixels } from '../../../src/engine/image/output-photo.js';
import { rawRgb } from './fixtures.js';

/** Noise compresses badly: a picture whose size is easy to push over a budget. */
function noisy(width: number, height: number): RawPixels {
  const data = rawRgb(width, height, (x, y) => [(x * 131 + y * 71) % 251, (x * y * 7) % 253, (x * 17 + y * y) % 241]);
  return { width, height, channels: 3, data };
}

describe('photoFormatFor', () => {
  it.each([
    ['jpeg', 'jpeg'],
    ['webp', 'webp'],
    ['png', 'png'],
    ['gif', 'png'],
  ])('%s in: %s out', (input, output) => {
    expect(photoFormatFor(input)).toBe(output);
  });
});

describe('nextScale', () => {
  it.each([
    [4_000_000, 1_000_000, 0.45],
    [1_100_000, 1_000_000, 0.858],
    [1_000_001, 1_000_000, 0.9],
    [100, 0, 0.5],
  ])('%s bytes for a budget of %s: scale %s', (bytes, budget, scale) => {
    expect(nextScale(bytes, budget)).toBeCloseTo(scale, 3);
  });
});

describe('encodeWithin', () => {
  it('encodes at the best quality when it fits', async () => {
    const photo = await encodeWithin(noisy(64, 48), 'jpeg', 10 * 1024 * 1024);
    expect(photo).toMatchObject({ format: 'jpeg', width: 64, height: 48 });
    const meta = await sharp(photo?.data).metadata();
    expect([meta.format, meta.width, meta.height, meta.chromaSubsampling]).toEqual(['jpeg', 64, 48, '4:4:4']);
  });

  it.each(['jpeg', 'png', 'webp'] as const)('a %s over budget is lowered in quality or size until it fits', async (format) => {
    const pixels = noisy(400, 300);
    const full = await encodeWithin(pixels, format, 100 * 1024 * 1024);
    const budget = Math.floor((full?.data.length ?? 0) / 3);
    const photo = await encodeWithin(pixels, format, budget);
    expect(photo?.format).toBe(format);
    expect(photo?.data.length).toBeLessThanOrEqual(budget);
    const meta = await sharp(photo?.data).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual([format, photo?.width, photo?.height]);
    expect((photo?.width ?? 0) / (photo?.height ?? 1)).toBeCloseTo(4 / 3, 1);
  });

  it('gives up (undefined) when not even a 64-pixel version fits', async () => {
    expect(await encodeWithin(noisy(400, 300), 'png', 100)).toBeUndefined();
  });
});

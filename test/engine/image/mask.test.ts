import { describe, expect, it } from 'vitest';
import { maskCoverage, upscaleMask } from '../../../src/engine/image/mask.js';
import type { GrayMask } from '../../../src/engine/image/types.js';

/** The mask as rows of '#' (on) and '.' (off), for readable assertions. */
function picture(mask: GrayMask): string[] {
  const rows: string[] = [];
  for (let y = 0; y < mask.height; y++) {
    let row = '';
    for (let x = 0; x < mask.width; x++) row += mask.data[y * mask.width + x] === 255 ? '#' : '.';
    rows.push(row);
  }
  return rows;
}

describe('upscaleMask', () => {
  it('marks the top-left quadrant for a 2x2 mask with only that cell on, its inner corner rounded', () => {
    const mask = upscaleMask([1, 0, 0, 0], 2, 2, 16, 16);
    expect(mask.width).toBe(16);
    expect(mask.height).toBe(16);
    // Bilinear smoothing rounds the convex corner (1 + 2 + 3 pixels) instead of keeping an 8-pixel square.
    expect(picture(mask)).toEqual([
      ...Array<string>(5).fill('########........'),
      '#######.........',
      '######..........',
      '#####...........',
      ...Array<string>(8).fill('................'),
    ]);
    expect(maskCoverage(mask)).toBe((64 - 6) / 256);
  });

  it('marks the right half for a 2x2 mask with the right column on', () => {
    const mask = upscaleMask([0, 1, 0, 1], 2, 2, 16, 16);
    for (const row of picture(mask)) expect(row).toBe('.'.repeat(8) + '#'.repeat(8));
    expect(maskCoverage(mask)).toBe(0.5);
  });

  it('holds only 0 and 255, and follows a diagonal more finely than 8-pixel blocks', () => {
    // Latent diagonal: on below the main diagonal of a 4x4 grid, upscaled 8x.
    const latent = Array.from({ length: 16 }, (_v, i) => (i % 4 <= Math.floor(i / 4) ? 1 : 0));
    const mask = upscaleMask(latent, 4, 4, 32, 32);
    expect(new Set(mask.data)).toEqual(new Set([0, 255]));
    // Nearest neighbour would give 4 distinct row patterns; bilinear smoothing gives more.
    expect(new Set(picture(mask)).size).toBeGreaterThan(4);
  });

  it('thresholds continuous values at 0.5', () => {
    expect(maskCoverage(upscaleMask([0.49], 1, 1, 8, 8))).toBe(0);
    expect(maskCoverage(upscaleMask([0.5], 1, 1, 8, 8))).toBe(1);
  });

  it('refuses a mask whose length does not match its dimensions', () => {
    expect(() => upscaleMask([1, 0, 0], 2, 2, 16, 16)).toThrow(RangeError);
  });
});

describe('maskCoverage', () => {
  it('is the fraction of on pixels', () => {
    expect(maskCoverage({ width: 4, height: 1, data: Uint8Array.from([255, 0, 255, 255]) })).toBe(0.75);
    expect(maskCoverage({ width: 2, height: 1, data: new Uint8Array(2) })).toBe(0);
  });
});

/** Region size steps: cell counts per step, the highest cells of a map, and nested regions around the automatic one. */
import { describe, expect, it } from 'vitest';
import { areaCells, highestCells, maskAtArea } from '../../../src/engine/diffedit/area.js';
import { thresholdMap } from '../../../src/engine/diffedit/mask-stats.js';

describe('areaCells', () => {
  it.each([
    // x1.4 per step up, at least 4 more cells
    [100, 1, 140],
    [100, 2, 196],
    [100, 3, 274],
    // x0.7 per step down, at least 4 fewer
    [100, -1, 70],
    [100, -2, 49],
    [100, -3, 34],
    // small regions move by the minimum step
    [5, 1, 9],
    [5, -1, 1],
    [5, -2, -3],
    [0, 1, 4],
    [10, 0, 10],
  ])('%i cells, step %i -> %i', (base, step, cells) => {
    expect(areaCells(base, step)).toBe(cells);
  });
});

describe('highestCells', () => {
  it('keeps the count highest values, ties to the earlier cell', () => {
    const map = Float32Array.from([0.1, 0.9, 0.5, 0.5, 0.2]);
    expect(Array.from(highestCells(map, 0))).toEqual([0, 0, 0, 0, 0]);
    expect(Array.from(highestCells(map, 2))).toEqual([0, 1, 1, 0, 0]);
    expect(Array.from(highestCells(map, 3))).toEqual([0, 1, 1, 1, 0]);
    expect(Array.from(highestCells(map, 9))).toEqual([1, 1, 1, 1, 1]);
  });
});

describe('maskAtArea', () => {
  // A 16 x 16 map with a bump in the middle and a little texture: values fall off with the distance to (8, 8).
  const width = 16;
  const height = 16;
  const map = Float32Array.from({ length: width * height }, (_, i) => {
    const x = i % width;
    const y = Math.floor(i / width);
    return 1 / (1 + (x - 8) ** 2 + (y - 8) ** 2) + ((x * 7 + y * 13) % 5) * 1e-3;
  });
  const thresholding = { mode: 'clamp', ratio: 3 } as const;
  const at = (step: number, dilate = 0) => maskAtArea(map, step, { thresholding, dilate, width, height });
  const count = (mask: Float32Array) => mask.reduce((n, v) => n + v, 0);
  const inside = (a: Float32Array, b: Float32Array) => a.every((v, i) => v <= (b[i] as number));

  it('step 0 is the automatic mask', () => {
    expect(Array.from(at(0).mask)).toEqual(Array.from(thresholdMap(map, thresholding)));
  });

  it('each step down lies strictly inside the one above it, with the cells areaCells says', () => {
    for (let step = -3; step < 3; step++) {
      const smaller = at(step);
      const larger = at(step + 1);
      expect(count(smaller.mask)).toBe(Math.max(0, smaller.cells));
      expect(inside(smaller.mask, larger.mask)).toBe(true);
      expect(count(smaller.mask)).toBeLessThan(count(larger.mask));
    }
  });

  it('dilation keeps the regions nested', () => {
    for (let step = -2; step < 2; step++) expect(inside(at(step, 1).mask, at(step + 1, 1).mask)).toBe(true);
  });
});

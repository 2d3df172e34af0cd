import { describe, expect, it } from 'vitest';
import { accumulateAbsDifference, blurDilate, coverage, intersectionOverUnion, thresholdMap } from '../../../src/engine/diffedit/mask-stats.js';

const f = (...v: number[]): Float32Array => Float32Array.from(v);

describe('thresholdMap', () => {
  it.each([
    // diffusers: clamp at 3 x mean, divide by the clamp, keep > 0.5
    ['clamp 3: one hot cell of four', f(0, 0, 0, 4), { mode: 'clamp', ratio: 3 } as const, [0, 0, 0, 1]],
    ['clamp 3: a cell at exactly half the clamp stays off', f(1.5, 0, 0, 4.5), { mode: 'clamp', ratio: 3 } as const, [0, 0, 0, 1]],
    ['clamp 3: uniform map is all off (each cell is 1/3 of the clamp)', f(2, 2, 2, 2), { mode: 'clamp', ratio: 3 } as const, [0, 0, 0, 0]],
    ['clamp 1.5: uniform map is all on', f(2, 2, 2, 2), { mode: 'clamp', ratio: 1.5 } as const, [1, 1, 1, 1]],
    ['zscore: above the mean', f(1, 2, 3, 4), { mode: 'zscore' } as const, [0, 0, 1, 1]],
    ['zscore: flat map is empty, no NaN', f(3, 3, 3, 3), { mode: 'zscore' } as const, [0, 0, 0, 0]],
    ['clamp: all-zero map is empty, no NaN', f(0, 0, 0, 0), { mode: 'clamp', ratio: 3 } as const, [0, 0, 0, 0]],
  ])('%s', (_name, map, thresholding, expected) => {
    expect(Array.from(thresholdMap(map, thresholding))).toEqual(expected);
  });
});

describe('accumulateAbsDifference', () => {
  it('sums |query - ref| over channels into the plane', () => {
    const into = new Float32Array(2);
    // two channels of a 1x2 plane; query at offset 0, ref at offset 4
    const batch = f(1, 2, 3, 4, 0, 5, 3, 1);
    accumulateAbsDifference(into, batch, 0, batch, 4, 2);
    expect(Array.from(into)).toEqual([1 + 0, 3 + 3]);
  });
});

describe('blurDilate', () => {
  it.each([
    [1, [0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 1, 1, 1, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0]],
    [2, new Array(25).fill(1)],
  ])('%i pass(es) grow a single centre cell of a 5x5 grid', (passes, expected) => {
    const mask = new Float32Array(25);
    mask[12] = 1;
    expect(Array.from(blurDilate(mask, 5, 5, passes))).toEqual(expected);
  });
});

describe('coverage and IoU', () => {
  it.each([
    [f(0, 0, 0, 0), 0],
    [f(1, 0, 0, 0), 0.25],
    [f(1, 1, 1, 1), 1],
  ])('coverage of %j is %f', (mask, expected) => {
    expect(coverage(mask)).toBe(expected);
  });
  it.each([
    [f(1, 1, 0, 0), f(1, 1, 0, 0), 1],
    [f(1, 1, 0, 0), f(0, 1, 1, 0), 1 / 3],
    [f(0, 0), f(0, 0), 1],
    [f(1, 0), f(0, 1), 0],
  ])('IoU of %j and %j is %f', (a, b, expected) => {
    expect(intersectionOverUnion(a, b)).toBeCloseTo(expected, 10);
  });
});

import { describe, expect, it } from 'vitest';
import { MAX_SEED, gaussian, randomSeed } from '../../src/engine/noise.js';

describe('seeded Gaussian noise', () => {
  const sample = gaussian(7).next(200_000);

  it.each([
    ['mean', (xs: Float32Array) => xs.reduce((a, b) => a + b, 0) / xs.length, 0, 0.01],
    ['variance', (xs: Float32Array) => xs.reduce((a, b) => a + b * b, 0) / xs.length, 1, 0.02],
    ['P(|z| > 1.96)', (xs: Float32Array) => xs.filter((x) => Math.abs(x) > 1.96).length / xs.length, 0.05, 0.003],
    ['P(z > 0)', (xs: Float32Array) => xs.filter((x) => x > 0).length / xs.length, 0.5, 0.005],
  ] as const)('has a standard normal %s', (_name, statistic, expected, tolerance) => {
    expect(Math.abs(statistic(sample) - expected)).toBeLessThan(tolerance);
  });

  it('repeats exactly for the same seed, stream and sequence of requests', () => {
    const a = gaussian(123, 1);
    const b = gaussian(123, 1);
    expect([Array.from(a.next(5)), Array.from(a.next(16))]).toEqual([Array.from(b.next(5)), Array.from(b.next(16))]);
  });

  it.each([
    ['another seed', gaussian(1, 0), gaussian(2, 0)],
    ['another stream of the same seed', gaussian(1, 0), gaussian(1, 1)],
  ])('differs for %s', (_name, a, b) => {
    expect(Array.from(a.next(8))).not.toEqual(Array.from(b.next(8)));
  });

  it('random seeds are whole numbers within the accepted range', () => {
    for (let i = 0; i < 100; i++) {
      const seed = randomSeed();
      expect(Number.isInteger(seed) && seed >= 0 && seed <= MAX_SEED).toBe(true);
    }
  });
});

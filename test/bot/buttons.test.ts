import { describe, expect, it } from 'vitest';
import { nextParameters } from '../../src/bot/handlers/buttons.js';

describe('the parameters a button starts a job with', () => {
  it.each([
    [
      'Reroll of an edit: same mask seed, new edit seed',
      { seed: 1, maskSeed: 2, steps: 30 },
      'reroll',
      'diffedit',
      { maskSeed: 2, steps: 30 },
      'seed',
    ],
    ['Reroll of a mask: new mask seed', { seed: 1, maskSeed: 2 }, 'reroll', 'mask', { seed: 1 }, 'maskSeed'],
    ['Edit with this mask: both seeds kept', { seed: 1, maskSeed: 2 }, 'edit', 'mask', { seed: 1, maskSeed: 2 }, undefined],
    ['Reroll of a job stored before the split: its seed is its mask seed', { seed: 5 }, 'reroll', 'diffedit', { maskSeed: 5 }, 'seed'],
    ['Edit with an old mask job: its seed is its mask seed', { seed: 5 }, 'edit', 'mask', { seed: 5, maskSeed: 5 }, undefined],
    ['Smaller area: both seeds kept, one step down', { seed: 1, maskSeed: 2 }, 'smaller', 'diffedit', { seed: 1, maskSeed: 2, area: -1 }, undefined],
    [
      'Larger area of a mask: one step up from where it was',
      { seed: 1, maskSeed: 2, area: 2 },
      'larger',
      'mask',
      { seed: 1, maskSeed: 2, area: 3 },
      undefined,
    ],
  ] as const)('%s', (_name, previous, action, kind, kept, redrawn) => {
    const next = nextParameters(previous, action, kind);
    expect(next).toMatchObject(kept);
    if (redrawn !== undefined) {
      expect(Number.isInteger(next[redrawn])).toBe(true);
      expect(next[redrawn]).not.toBe(previous[redrawn as keyof typeof previous] ?? previous.seed);
    }
  });

  it.each([
    ['smaller', -3, /already at the smallest area offered \(area -3\)/],
    ['larger', 3, /already at the largest area offered \(area \+3\)/],
  ] as const)('%s past area %i is refused', (action, area, message) => {
    expect(() => nextParameters({ seed: 1, maskSeed: 2, area }, action, 'diffedit')).toThrow(message);
  });
});

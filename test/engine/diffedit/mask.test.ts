/**
 * The mask's noise level comes from a 50-step grid of its own (diffusers' `generate_mask` default), not from the
 * edit's steps: the same mask strength gives the same timestep and, with the same seed, the same mask.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MASK_GRID_STEPS, maskTimestep } from '../../../src/engine/diffedit/mask.js';
import type { DiffEditEngine } from '../../../src/engine/engine.js';
import { SD_V1_SCHEDULER } from '../../../src/engine/scheduler.js';
import { realArchEngine } from '../real-arch.js';
import { seededPhoto } from '../reconstruction.js';

describe('the mask timestep', () => {
  it('is picked on a 50-step grid', () => {
    expect(MASK_GRID_STEPS).toBe(50);
  });

  // int(50 x strength) steps up the 50-step "leading" grid 981, 961, ..., 1.
  it.each([
    [0.5, 481],
    [0.8, 781],
    [1, 981],
    [0.05, 21],
  ])('strength %f -> timestep %i', (strength, timestep) => {
    expect(maskTimestep(SD_V1_SCHEDULER, strength)).toBe(timestep);
  });
});

describe('the mask does not depend on the edit’s steps (real-architecture UNet)', () => {
  let engine: DiffEditEngine;
  beforeAll(async () => {
    engine = await realArchEngine();
  });
  afterAll(async () => {
    await engine.close();
  });

  it('steps 10, 25 and 50 give the same mask bytes for the same mask seed', async () => {
    // The random-weight UNet makes a speckled map, so a different noise level (401 / 441 / 481 on each step
    // count's own grid) would move cells in or out of the mask.
    const image = await seededPhoto(5, 64, 64);
    const masks = [];
    for (const steps of [10, 25, 50]) {
      const result = await engine.run({ image, ref: 'a bowl of strawberries', query: 'a bowl of grapes', maskSeed: 3, steps, maskOnly: true });
      expect(result.parameters.steps).toBe(steps);
      masks.push(Buffer.from(result.mask.data));
    }
    expect(masks[0]?.some((v) => v !== 0)).toBe(true);
    expect(masks[1]?.equals(masks[0] as Buffer)).toBe(true);
    expect(masks[2]?.equals(masks[0] as Buffer)).toBe(true);
  });
});

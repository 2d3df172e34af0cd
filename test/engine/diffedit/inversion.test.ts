/**
 * The inversion's conditioning ('uncond': the empty prompt, as in the paper; 'ref': the source prompt), both at
 * guidance 1: both run, they give different inverted latents, the engine passes the option through, and a bad
 * value is refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INVERSION_CONDITIONINGS, invertLatents, type EditOptions, type InversionConditioning } from '../../../src/engine/diffedit/edit.js';
import type { DiffEditEngine, EditResult } from '../../../src/engine/engine.js';
import { DEFAULT_PARAMETERS, resolveParameters } from '../../../src/engine/parameters.js';
import { isDiffEditError } from '../../../src/errors.js';
import { maxAbsDiff, realArchEngine } from '../real-arch.js';
import { encodePicture, meanSquaredError, reconstructionError, samePromptEmbeddings, seededPhoto } from '../reconstruction.js';
import { tinyEngine } from '../tiny-engine.js';

const OPTIONS: Omit<EditOptions, 'inversion'> = { steps: 10, strength: 0.8, guidance: 7.5, eta: 0 };

describe.each([
  ['real-architecture UNet', realArchEngine, 64],
  ['generated tiny UNet', () => tinyEngine(), 128],
] as const)('inversion conditioning on the %s', (_name, open, size) => {
  let engine: DiffEditEngine;
  beforeAll(async () => {
    engine = await open();
  });
  afterAll(async () => {
    await engine.close();
  });

  it('both modes invert 8 levels above x0, and their latents differ', async () => {
    const sd = engine.models;
    const picture = await encodePicture(sd, await seededPhoto(2, size, size), size);
    const prompts = await samePromptEmbeddings(sd, 'a bowl of strawberries');
    const invert = (inversion: InversionConditioning): Promise<Float32Array[]> =>
      invertLatents(sd, picture.x0, picture.shape, prompts, { ...OPTIONS, inversion });
    const uncond = await invert('uncond');
    const ref = await invert('ref');
    for (const levels of [uncond, ref]) {
      expect(levels).toHaveLength(1 + 8);
      expect(levels[0]).toBe(picture.x0);
      expect(levels.every((l) => l.every(Number.isFinite))).toBe(true);
    }
    const top = (levels: Float32Array[]): Float32Array => levels.at(-1) as Float32Array;
    // Different by far more than float noise: at least a tenth of the latents’ own spread (measured: 1.03 and 0.42).
    const spread = Math.sqrt(meanSquaredError(top(ref), new Float32Array(top(ref).length)));
    expect(maxAbsDiff(top(uncond), top(ref))).toBeGreaterThan(0.1 * spread);
  });

  it('the engine runs each mode and the outputs differ', async () => {
    const image = await seededPhoto(3, size, size);
    const run = (inversion: InversionConditioning): Promise<EditResult> =>
      engine.run({ image, ref: 'a bowl of strawberries', query: 'a bowl of grapes', seed: 4, steps: 10, maskDraws: 4, inversion });
    const [uncond, ref] = [await run('uncond'), await run('ref')];
    expect(uncond.parameters.inversion).toBe('uncond');
    expect(ref.parameters.inversion).toBe('ref');
    expect(Buffer.from(uncond.output!.data).equals(Buffer.from(ref.output!.data))).toBe(false);
  });
});

describe('reconstruction with the same prompt (guidance 1, tiny models)', () => {
  let engine: DiffEditEngine;
  beforeAll(async () => {
    engine = await tinyEngine();
  });
  afterAll(async () => {
    await engine.close();
  });

  it('ref-conditioned inversion decodes back closer than the unconditional one when decoding with ref', async () => {
    // Decoding at guidance g follows u + g (c - u): inverting with c leaves (g - 1)(c - u) of mismatch, with u
    // g (c - u); at g = 1 the ref inversion is DDIM's own inverse pair.
    const sd = engine.models;
    const picture = await encodePicture(sd, await seededPhoto(1), 128);
    const prompts = await samePromptEmbeddings(sd, 'a bowl of strawberries');
    const errors = [];
    for (const inversion of INVERSION_CONDITIONINGS) {
      const options = { ...OPTIONS, guidance: 1, inversion };
      errors.push(await reconstructionError(sd, picture, prompts, await invertLatents(sd, picture.x0, picture.shape, prompts, options), options));
    }
    const [uncond, ref] = errors;
    expect(ref!.latentMse).toBeLessThan(uncond!.latentMse);
    expect(ref!.pixelMse).toBeLessThan(uncond!.pixelMse);
  });
});

describe('the inversion parameter', () => {
  it('defaults to the measured choice and accepts both modes', () => {
    expect(INVERSION_CONDITIONINGS).toContain(DEFAULT_PARAMETERS.inversion);
    for (const inversion of INVERSION_CONDITIONINGS) expect(resolveParameters({ inversion }).inversion).toBe(inversion);
  });

  it('refuses anything else with InvalidOption naming the option', () => {
    try {
      resolveParameters({ inversion: 'sideways' as 'ref' });
      expect.unreachable();
    } catch (error) {
      expect(isDiffEditError(error, 'InvalidOption')).toBe(true);
      expect((error as Error).message).toMatch(/inversion must be one of uncond, ref/);
    }
  });
});

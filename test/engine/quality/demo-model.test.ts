/**
 * DiffEdit judged on a model that learned its world: the demo model (demo/model, tools/demo-model) on held-out
 * scenes drawn here from seeds training never used. Every assertion reads real outputs (masks, decoded pixels,
 * the posted photo's bytes) against the scenes' ground truth; the thresholds are tools/demo-model/thresholds.ts.
 */
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { invertLatents } from '../../../src/engine/diffedit/edit.js';
import type { DiffEditEngine } from '../../../src/engine/engine.js';
import { DEFAULT_PARAMETERS } from '../../../src/engine/parameters.js';
import { optimizeExport } from '../../../src/optimize/optimize-export.js';
import { HELD_OUT_SEED, colourCase, inputPixels, photoPixels, scoreCase, type EditCase } from '../../../tools/demo-model/cases.js';
import { binary, changed, dilate, iou, median, outside } from '../../../tools/demo-model/metrics.js';
import { QUALITY_THRESHOLDS as T } from '../../../tools/demo-model/thresholds.js';
import { encodePicture, reconstructionError, samePromptEmbeddings } from '../reconstruction.js';
import { DEMO_MODEL_DIR, demoEngine } from './demo-engine.js';

const SCENES = 16;
const MASK_SEED = 7;
const SEED = 11;

/** Pixels within `cells` latent cells of the mask (what compositing and the VAE's reach may touch). */
function nearMask(mask: Uint8Array, size: number, cells: number, factor: number): Uint8Array {
  return dilate(mask, size, cells * factor);
}

describe('DiffEdit on the trained demo model (held-out scenes)', { timeout: 300_000 }, () => {
  let engine: DiffEditEngine;
  let cases: EditCase[];
  beforeAll(async () => {
    engine = await demoEngine();
    // Half the scenes hold a second object, which the edit must leave alone.
    cases = await Promise.all(Array.from({ length: SCENES }, (_, i) => colourCase(HELD_OUT_SEED + i, { count: i % 2 === 0 ? 1 : 2 })));
  });

  it('finds the object a colour edit names: mask IoU with the ground truth, and not the other object', async () => {
    const ious: number[] = [];
    const onOther: number[] = [];
    for (const c of cases) {
      const score = await scoreCase(engine, c, { maskOnly: true, maskSeed: MASK_SEED });
      ious.push(score.iou);
      const other = c.rendered.masks[1];
      if (other !== undefined) {
        const mask = binary(score.result.mask);
        let inside = 0;
        let total = 0;
        for (let i = 0; i < other.length; i++) {
          if (other[i] === 0) continue;
          total++;
          if (mask[i] !== 0) inside++;
        }
        onOther.push(inside / total);
      }
    }
    console.log(
      `mask IoU median ${median(ious).toFixed(3)} [${ious.map((v) => v.toFixed(2)).join(' ')}]; on the other object ${median(onOther).toFixed(3)}`,
    );
    expect(median(ious)).toBeGreaterThanOrEqual(T.maskIou);
    expect(median(onOther)).toBeLessThanOrEqual(T.otherObjectShare);
  });

  it('redraws the object in the query colour and posts the photo untouched outside the composited band', async () => {
    const shares: number[] = [];
    for (const c of cases.slice(0, 8)) {
      const score = await scoreCase(engine, c, { maskSeed: MASK_SEED, seed: SEED });
      shares.push(score.success);
      // Compositing: beyond one latent cell plus the 2-pixel feather around the mask, the posted bytes are the input's.
      const photo = await photoPixels(score.result);
      const band = nearMask(binary(score.result.mask), c.rendered.size, 1, engine.models.vaeScaleFactor);
      const moved = changed(photo, inputPixels(c));
      const movedOutside = dilate(band, c.rendered.size, 2).reduce((n, inBand, i) => n + (inBand === 0 && moved[i] !== 0 ? 1 : 0), 0);
      expect(movedOutside).toBe(0);
    }
    console.log(`colour edit success median ${median(shares).toFixed(3)} [${shares.map((v) => v.toFixed(2)).join(' ')}]`);
    expect(median(shares)).toBeGreaterThanOrEqual(T.colourSuccess);
  });

  it('rerolls only the inside: same mask seed, new edit seed', async () => {
    const c = cases[0] as EditCase;
    const first = await engine.run({ image: c.png, ref: c.ref, query: c.query, maskSeed: MASK_SEED, seed: 1 });
    const second = await engine.run({ image: c.png, ref: c.ref, query: c.query, maskSeed: MASK_SEED, seed: 2 });
    expect(second.packedMask).toEqual(first.packedMask);
    const a = await photoPixels(first);
    const b = await photoPixels(second);
    const moved = changed(a, b);
    const band = dilate(nearMask(binary(first.mask), c.rendered.size, 1, engine.models.vaeScaleFactor), c.rendered.size, 2);
    expect(moved.some((v, i) => v !== 0 && band[i] === 0)).toBe(false);
    expect(moved.reduce((n, v) => n + v, 0)).toBeGreaterThan(0.2 * binary(first.mask).reduce((n, v) => n + v, 0));
  });

  it('inverts and decodes a scene back to itself when query = ref', async () => {
    const sd = engine.models;
    const errors: number[] = [];
    for (const c of cases.slice(0, 4)) {
      const picture = await encodePicture(sd, c.png, 128);
      const prompts = await samePromptEmbeddings(sd, c.ref);
      // Guidance 1: decoding then runs the very model the inversion ran, so only DDIM's discretisation is left.
      const options = { ...DEFAULT_PARAMETERS, eta: 0, guidance: 1 };
      const levels = await invertLatents(sd, picture.x0, picture.shape, prompts, options);
      errors.push((await reconstructionError(sd, picture, prompts, levels, options)).roundTripPixelMse);
    }
    console.log(`round trip pixel MSE vs the VAE's: ${errors.map((v) => v.toFixed(1)).join(' ')}`);
    expect(median(errors)).toBeLessThanOrEqual(T.roundTripMse);
  });

  it('keeps the clean latents outside the mask: without compositing the background is the VAE round trip', async () => {
    const errors: number[] = [];
    for (const c of cases.slice(0, 4)) {
      const result = await engine.run({ image: c.png, ref: c.ref, query: c.query, maskSeed: MASK_SEED, seed: SEED, composite: false });
      const picture = await encodePicture(engine.models, c.png, 128);
      const far = outside(nearMask(binary(result.mask), c.rendered.size, 2, engine.models.vaeScaleFactor));
      const decoded = await photoPixels(result);
      let sum = 0;
      let n = 0;
      for (let i = 0; i < far.length; i++) {
        if (far[i] === 0) continue;
        for (let ch = 0; ch < 3; ch++) sum += Math.abs((decoded.data[i * 3 + ch] ?? 0) - (picture.roundTrip.data[i * 3 + ch] ?? 0));
        n += 3;
      }
      errors.push(sum / Math.max(1, n));
    }
    console.log(`uncomposited background error vs the VAE round trip: ${errors.map((v) => v.toFixed(2)).join(' ')}`);
    expect(median(errors)).toBeLessThanOrEqual(T.uncompositedBackgroundError);
  });
});

describe('the optimised copies of the demo model (npm run optimize, fp32 and fp16)', { timeout: 300_000 }, () => {
  it('find the same masks as the original', async () => {
    const original = await demoEngine();
    const work = await mkdtemp(path.join(os.tmpdir(), 'demo-optimized-'));
    const cases = await Promise.all(Array.from({ length: 6 }, (_, i) => colourCase(HELD_OUT_SEED + 100 + i)));
    const reference = await Promise.all(
      cases.map(async (c) => binary((await original.run({ image: c.png, ref: c.ref, query: c.query, maskOnly: true, maskSeed: MASK_SEED })).mask)),
    );
    for (const fp16 of [false, true]) {
      const { outDir } = await optimizeExport({ modelDir: DEMO_MODEL_DIR, outDir: path.join(work, fp16 ? 'fp16' : 'fp32'), fp16 });
      const variant = await demoEngine({ modelDir: outDir });
      const ious: number[] = [];
      for (const [i, c] of cases.entries()) {
        const mask = binary((await variant.run({ image: c.png, ref: c.ref, query: c.query, maskOnly: true, maskSeed: MASK_SEED })).mask);
        ious.push(iou(mask, reference[i] as Uint8Array));
      }
      console.log(`${fp16 ? 'fp16' : 'fp32'} optimised copy: mask IoU vs the original ${ious.map((v) => v.toFixed(3)).join(' ')}`);
      expect(median(ious)).toBeGreaterThanOrEqual(T.variantMaskIou);
    }
  });
});

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blurDilate, intersectionOverUnion } from '../../src/engine/diffedit/mask-stats.js';
import type { Progress } from '../../src/engine/diffedit/progress.js';
import { defaultMaxBatch, type DiffEditEngine, type EditResult } from '../../src/engine/engine.js';
import type { RgbImage } from '../../src/engine/image/index.js';
import { isDiffEditError, type ErrorCode } from '../../src/errors.js';
import { DEFAULT_REGION, regionMask } from '../../tools/tiny-models/generate.js';
import { forgedPng } from './image/fixtures.js';
import { smoothPhoto, tinyEngine, tinyModelDir } from './tiny-engine.js';

const REF = 'a bowl of strawberries';
const QUERY = 'a bowl of grapes';
const FAST = { steps: 10, maskDraws: 4 } as const;

/** Mean absolute difference (0..255) over the pixels where `select(pixelIndex)` holds. */
function meanAbsDiff(a: RgbImage, b: RgbImage, select: (pixel: number) => boolean): number {
  let sum = 0;
  let count = 0;
  for (let p = 0; p < a.width * a.height; p++) {
    if (!select(p)) continue;
    for (let c = 0; c < 3; c++) sum += Math.abs((a.data[p * 3 + c] as number) - (b.data[p * 3 + c] as number));
    count += 3;
  }
  return count === 0 ? 0 : sum / count;
}

let engine: DiffEditEngine;
let photo: Buffer;

beforeAll(async () => {
  [engine, photo] = await Promise.all([tinyEngine(), smoothPhoto()]);
});
afterAll(async () => {
  await engine.close();
});

describe('DiffEdit on the tiny models', () => {
  let result: EditResult;
  beforeAll(async () => {
    result = await engine.run({ image: photo, ref: REF, query: QUERY, seed: 7 });
  });

  it('finds the region where the two prompts change the noise prediction (IoU >= 0.9)', () => {
    const expected = regionMask(16, 16, DEFAULT_REGION);
    expect(result.latentMask).toHaveLength(256);
    expect(intersectionOverUnion(result.latentMask, expected)).toBeGreaterThanOrEqual(0.9);
    expect(result.coverage).toBeGreaterThan(0.1);
    expect(result.coverage).toBeLessThan(0.5);
  });

  it('keeps the picture outside the mask and changes it inside', () => {
    const output = result.output as RgbImage;
    // "Outside" = latent cells with no masked neighbour: a VAE decoder's upsampling reaches one cell across.
    const far = blurDilate(result.latentMask, 16, 16, 1);
    const outside = meanAbsDiff(result.input, output, (p) => far[Math.floor(p / 128 / 8) * 16 + Math.floor((p % 128) / 8)] === 0);
    const inside = meanAbsDiff(result.input, output, (p) => result.mask.data[p] !== 0);
    expect(outside).toBeLessThan(6);
    expect(inside).toBeGreaterThan(outside * 4);
  });

  it('returns the picture at model size and a three-panel PNG', async () => {
    expect([result.input.width, result.input.height]).toEqual([128, 128]);
    expect([result.output?.width, result.output?.height]).toEqual([128, 128]);
    const meta = await sharp(result.png).metadata();
    expect(meta.format).toBe('png');
    expect(meta.width).toBeGreaterThanOrEqual(3 * 128);
    expect(meta.height).toBeGreaterThanOrEqual(128);
  });

  it('counts UNet work: one batched mask call, 8 inversion and 8 decoding calls at 50 steps x 0.8 = 40', () => {
    // 50 steps x 0.8 = 40 inversion calls (batch 1) + 40 decoding calls (batch 2), mask 10 draws x 2 in one call.
    expect(result.unetCalls).toBe(1 + 40 + 40);
    expect(result.unetEvaluations).toBe(20 + 40 + 80);
    expect(result.parameters).toMatchObject({ seed: 7, steps: 50, strength: 0.8, maskDraws: 10, guidance: 7.5 });
    expect(result.provider).toBe('cpu');
  });
});

describe('seeds', () => {
  it('the same seed and inputs give the same bytes', async () => {
    const a = await engine.run({ image: photo, ref: REF, query: QUERY, seed: 11, maskSeed: 11, ...FAST });
    const b = await engine.run({ image: photo, ref: REF, query: QUERY, seed: 11, maskSeed: 11, ...FAST });
    expect(Buffer.from(a.output!.data).equals(Buffer.from(b.output!.data))).toBe(true);
    expect(Buffer.from(a.png).equals(Buffer.from(b.png))).toBe(true);
  });

  it('a reroll (new edit seed, same mask seed) keeps the mask, visibly changes the edited region and leaves the rest', async () => {
    const a = await engine.run({ image: photo, ref: REF, query: QUERY, seed: 1, maskSeed: 4, ...FAST });
    const b = await engine.run({ image: photo, ref: REF, query: QUERY, seed: 2, maskSeed: 4, ...FAST });
    expect(Buffer.from(b.mask.data).equals(Buffer.from(a.mask.data))).toBe(true);
    const both = (p: number): boolean => a.mask.data[p] !== 0 && b.mask.data[p] !== 0;
    const neither = (p: number): boolean => a.mask.data[p] === 0 && b.mask.data[p] === 0;
    expect(meanAbsDiff(a.output!, b.output!, both)).toBeGreaterThan(4);
    expect(meanAbsDiff(a.output!, b.output!, neither)).toBeLessThan(1);
  });

  it('independent random seeds are chosen and reported when none is given', async () => {
    const r = await engine.run({ image: photo, ref: REF, query: QUERY, ...FAST, maskOnly: true });
    expect(Number.isInteger(r.parameters.seed)).toBe(true);
    expect(Number.isInteger(r.parameters.maskSeed)).toBe(true);
    expect(r.parameters.maskSeed).not.toBe(r.parameters.seed);
  });

  it('the edit seed does not touch the mask', async () => {
    const a = await engine.run({ image: photo, ref: REF, query: QUERY, seed: 1, maskSeed: 9, maskOnly: true, maskDraws: 2 });
    const b = await engine.run({ image: photo, ref: REF, query: QUERY, seed: 2, maskSeed: 9, maskOnly: true, maskDraws: 2 });
    expect(Array.from(b.latentMask)).toEqual(Array.from(a.latentMask));
  });
});

describe('mask only, thresholding modes, progress and cancellation', () => {
  it('renders only the mask and runs no inversion or decoding', async () => {
    const r = await engine.run({ image: photo, ref: REF, query: QUERY, maskSeed: 3, maskOnly: true });
    expect(r.output).toBeUndefined();
    expect(r.unetCalls).toBe(1);
    const meta = await sharp(r.png).metadata();
    expect(meta.width).toBe(128);
  });

  it('the z-score mode (FastDiffEdit) finds the same region', async () => {
    const r = await engine.run({ image: photo, ref: REF, query: QUERY, maskSeed: 3, maskOnly: true, thresholding: { mode: 'zscore' } });
    expect(intersectionOverUnion(r.latentMask, regionMask(16, 16, DEFAULT_REGION))).toBeGreaterThanOrEqual(0.9);
  });

  it('blur-dilation grows the mask', async () => {
    const plain = await engine.run({ image: photo, ref: REF, query: QUERY, maskSeed: 3, maskOnly: true });
    const dilated = await engine.run({ image: photo, ref: REF, query: QUERY, maskSeed: 3, maskOnly: true, dilate: 1 });
    expect(dilated.coverage).toBeGreaterThan(plain.coverage);
  });

  it.each([
    ['cpu', 2],
    ['webgpu', 20],
    ['cuda', 20],
  ] as const)('without MAX_BATCH, %s batches at most %i UNet items per call', (provider, batch) => {
    expect(defaultMaxBatch(provider)).toBe(batch);
  });

  it.each([
    [3, 7],
    [2, 10],
    [1, 20],
  ])('mask batches of at most %i items (%i calls) give the same map as one call of 20', async (maxBatch, calls) => {
    const chunked = await tinyEngine({}, { maxBatch });
    try {
      const a = await engine.run({ image: photo, ref: REF, query: QUERY, maskSeed: 5, maskOnly: true });
      const b = await chunked.run({ image: photo, ref: REF, query: QUERY, maskSeed: 5, maskOnly: true });
      expect(b.unetCalls).toBe(calls);
      expect(b.unetEvaluations).toBe(20);
      expect(Array.from(b.latentMask)).toEqual(Array.from(a.latentMask));
    } finally {
      await chunked.close();
    }
  });

  it('reports progress phase by phase and step by step', async () => {
    const seen: Progress[] = [];
    await engine.run({ image: photo, ref: REF, query: QUERY, seed: 3, ...FAST }, { onProgress: (p) => seen.push(p) });
    expect(seen.map((p) => p.phase).filter((p, i, all) => all.indexOf(p) === i)).toEqual(['mask', 'invert', 'decode', 'render']);
    expect(seen.filter((p) => p.phase === 'decode').map((p) => p.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(seen.find((p) => p.phase === 'invert')?.total).toBe(8);
  });

  it('stops between UNet calls when the signal aborts', async () => {
    const controller = new AbortController();
    const seen: Progress[] = [];
    const run = engine.run(
      { image: photo, ref: REF, query: QUERY, seed: 3, ...FAST },
      {
        signal: controller.signal,
        onProgress: (p) => {
          seen.push(p);
          if (p.phase === 'invert' && p.step === 2) controller.abort();
        },
      },
    );
    await expect(run).rejects.toMatchObject({ code: 'Aborted' });
    expect(seen.at(-1)).toMatchObject({ phase: 'invert', step: 2 });
  });
});

describe('bad input gets a typed error', () => {
  it.each<[string, () => Promise<Uint8Array>, string, string, ErrorCode]>([
    ['non-image bytes', async () => Buffer.from('hello, this is a text file'), REF, QUERY, 'UnsupportedImage'],
    ['an empty file', async () => new Uint8Array(0), REF, QUERY, 'EmptyImage'],
    ['a 20000x20000 declared size', async () => forgedPng(20000, 20000), REF, QUERY, 'ImageTooLarge'],
    ['an empty ref prompt', smoothPhoto, '   ', QUERY, 'EmptyPrompt'],
    ['an empty query prompt', smoothPhoto, REF, '', 'EmptyPrompt'],
    ['an over-long prompt', smoothPhoto, REF, 'grapes '.repeat(100), 'PromptTooLong'],
    ['the same prompt twice', smoothPhoto, REF, ` ${REF.toUpperCase()} `, 'SamePrompts'],
  ])('%s', async (_name, image, ref, query, code) => {
    const run = engine.run({ image: await image(), ref, query, ...FAST });
    await expect(run).rejects.toSatisfy((e: unknown) => isDiffEditError(e, code) && !(e as Error).message.includes('    at '));
  });

  it.each([
    ['steps 0', { steps: 0 }],
    ['strength 2', { strength: 2 }],
    ['a fractional seed', { seed: 1.5 }],
    ['a negative mask seed', { maskSeed: -1 }],
    ['guidance -1', { guidance: -1 }],
  ])('%s is an InvalidOption', async (_name, options) => {
    await expect(engine.run({ image: photo, ref: REF, query: QUERY, ...options })).rejects.toSatisfy((e: unknown) =>
      isDiffEditError(e, 'InvalidOption'),
    );
  });

  it('a 75+ token prompt is cut with a warning, not refused', async () => {
    const long = Array.from({ length: 90 }, () => 'red').join(' ');
    const r = await engine.run({ image: photo, ref: REF, query: long, ...FAST, maskOnly: true });
    expect(r.warnings.join(' ')).toMatch(/75 tokens/);
  });
});

describe('model files', () => {
  it.each([
    ['unet/model.onnx', /unet.model\.onnx/],
    ['vae_decoder/model.onnx', /vae_decoder.model\.onnx/],
    ['tokenizer/merges.txt', /merges\.txt/],
  ])('a missing %s is a ModelFileMissing error naming it', async (file, message) => {
    const { cp } = await import('node:fs/promises');
    const dir = await mkdtemp(path.join(os.tmpdir(), 'diffedit-broken-'));
    try {
      await cp(await tinyModelDir(), dir, { recursive: true });
      await rm(path.join(dir, file));
      await expect(tinyEngine({}, { modelDir: dir })).rejects.toSatisfy(
        (e: unknown) => isDiffEditError(e, 'ModelFileMissing') && message.test((e as Error).message),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a model directory that does not exist says how to get one', async () => {
    await expect(tinyEngine({}, { modelDir: '/nonexistent/models' })).rejects.toSatisfy(
      (e: unknown) => isDiffEditError(e, 'NoModelExport') && /npm run models/.test((e as Error).message),
    );
  });

  it("a folder without any model (a fresh clone's models/) is NoModelExport naming the demo model, not a missing file", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'diffedit-empty-'));
    try {
      await writeFile(path.join(dir, 'README.md'), '# models/\n');
      const error = await tinyEngine({}, { modelDir: dir }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isDiffEditError(error, 'NoModelExport')).toBe(true);
      expect((error as Error).message).toMatch(/^No Stable Diffusion export in .*: the folder holds no model files\./);
      expect((error as Error).message).toMatch(/npm run models.*\n(.*\n)*.*MODEL_DIR=demo\/model/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

/**
 * The engine on `npm run optimize`'s copy: which folder it picks (and says so in one log line), the warm-up's
 * shapes, and an edit on the optimised real-architecture models matching the one on the originals.
 */
import { utimes } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DiffEditEngine, type EditResult } from '../../src/engine/engine.js';
import { chooseModelDir } from '../../src/engine/models/optimized-copy.js';
import { unetBatchSizes } from '../../src/engine/warm-up.js';
import { createLogger } from '../../src/logger.js';
import { optimizeExport } from '../../src/optimize/optimize-export.js';
import { maxAbsDiff, realArchModelDir } from './real-arch.js';
import { smoothPhoto } from './tiny-engine.js';

describe('unetBatchSizes', () => {
  const CASES: [number, number, number[]][] = [
    [10, 20, [1, 2, 20]],
    [10, 4, [1, 2, 4]],
    [10, 8, [1, 2, 4, 8]],
    [3, 4, [1, 2, 4]],
    [1, 20, [1, 2]],
    [10, 1, [1, 2]],
  ];
  it.each(CASES)('%i draws, max batch %i -> %j', (draws, maxBatch, expected) => {
    expect(unetBatchSizes(draws, maxBatch)).toEqual(expected);
  });
});

describe('chooseModelDir', () => {
  let source: string;
  beforeAll(async () => {
    source = await realArchModelDir();
    await optimizeExport({ modelDir: source });
  });

  it('takes a current copy, the copy itself, or the original when the copy is stale', async () => {
    expect(await chooseModelDir(source)).toMatchObject({ dir: path.join(source, 'optimized'), optimized: true });
    expect(await chooseModelDir(path.join(source, 'optimized'))).toMatchObject({ dir: path.join(source, 'optimized'), optimized: true });
    const none = await chooseModelDir(await realArchModelDir());
    expect([none.optimized, none.reason]).toEqual([false, 'no optimised copy (`npm run optimize` makes one)']);
    await utimes(path.join(source, 'unet', 'model.onnx'), new Date(), new Date(Date.now() + 5000));
    const stale = await chooseModelDir(source);
    expect([stale.dir, stale.optimized]).toEqual([source, false]);
    expect(stale.reason).toMatch(/stale: unet\/model.onnx changed/);
  });
});

describe('an edit on the optimised real-architecture models', () => {
  const lines: string[] = [];
  let original: EditResult;
  let optimised: EditResult;
  let warmUpEvaluations = 0;

  beforeAll(async () => {
    const source = await realArchModelDir();
    await optimizeExport({ modelDir: source });
    const request = {
      image: await smoothPhoto(64, 64),
      ref: 'a bowl of strawberries',
      query: 'a bowl of grapes',
      seed: 11,
      maskSeed: 11,
      steps: 10,
      maskDraws: 2,
    };
    const logger = createLogger('info', (line) => lines.push(line));
    const common = { modelDir: source, providers: ['cpu' as const], cpuThreads: 1, size: 64, maxBatch: 20 };
    const plain = await DiffEditEngine.create({ ...common, preferOptimized: false });
    const fast = await DiffEditEngine.create({ ...common, logger });
    try {
      await fast.warmUp();
      warmUpEvaluations = fast.models.unetEvaluations;
      original = await plain.run(request);
      optimised = await fast.run(request);
    } finally {
      await Promise.all([plain.close(), fast.close()]);
    }
  });

  it('says in one log line that it loads the optimised copy', () => {
    const said = lines.map((l) => JSON.parse(l) as { msg: string; optimized?: boolean }).filter((l) => l.msg.startsWith('models from'));
    expect(said).toHaveLength(1);
    expect(said[0]?.optimized).toBe(true);
    expect(said[0]?.msg).toMatch(/optimized \(optimised\)$/);
  });

  it('warms up at the batch sizes a default job uses (1, 2 and the 20-item mask)', () => {
    expect(warmUpEvaluations).toBe(1 + 2 + 20);
  });

  it('gives the same mask and nearly the same picture', () => {
    expect(optimised.latentMask).toEqual(original.latentMask);
    const a = original.output?.data ?? new Uint8Array();
    const b = optimised.output?.data ?? new Uint8Array(1);
    expect(maxAbsDiff(a, b)).toBeLessThanOrEqual(2);
  });
});

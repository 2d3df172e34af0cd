/**
 * `npm run bench [-- --models DIR] [--providers cpu] [--size 512] [--edits 3] [--sd-sized] [--mask-runs 5]
 *   [--reroll-runs 3] [--real-arch-size 128] [--reroll-only] [--steer-only] [--steer-runs 3] [--steer-batches 20,2]`
 *
 * Prints one JSON object, for the engine on the CPU by default (generated models unless --models is given):
 *  - UNet evaluations per second at batch 1, 2 and 20;
 *  - end-to-end milliseconds per edit with the defaults (50 steps, r = 0.8, n = 10 mask draws), per phase;
 *  - mask generation batched (all 20 UNet items in one call) vs one UNet item per call, on the tiny model (where
 *    call overhead dominates) and on a second generated model carrying one SD-like block (conv, fused attention,
 *    32 channels), whose cost is real compute as with SD weights on a CPU.
 *  - a first edit vs a Reroll (new edit seed, same mask seed) with the stage cache: the Reroll runs only the
 *    decoding. On the compute-bearing model above and on the real-architecture fixtures (test/fixtures/sd-real-arch,
 *    whose VAE has a spatial factor of 2: --real-arch-size 128 gives SD 1.5's 64 x 64 latents at 512 px).
 *  - steering (docs/steering.md): a first edit vs Smaller / Larger area (mask and inversion from the cache), and a
 *    job of 1, 2 and 4 variations (first edits, and with the mask and inversion cached), each relative to one; at
 *    MAX_BATCH 20 (4 candidates share each decoding call) and at the CPU default 2 (one call per candidate).
 * --sd-sized generates random models with SD 1.5 widths (hidden 768, 16 blocks of 320 channels), for GPU runs.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { MemoryStageCache } from '../src/engine/cache/memory-cache.js';
import { DiffEditEngine, type EditResult } from '../src/engine/engine.js';
import { PROVIDERS, type ProviderName } from '../src/engine/models/sessions.js';
import { createLogger } from '../src/logger.js';
import { realArchModelDir } from '../test/engine/real-arch.js';
import { generateTinyModels, type TinyModelOptions } from '../tools/tiny-models/generate.js';
import { median } from './stats.js';

const { values } = parseArgs({
  options: {
    models: { type: 'string' },
    providers: { type: 'string', default: 'cpu' },
    size: { type: 'string', default: '512' },
    edits: { type: 'string', default: '3' },
    'mask-runs': { type: 'string', default: '5' },
    'reroll-runs': { type: 'string', default: '3' },
    'real-arch-size': { type: 'string', default: '128' },
    'sd-sized': { type: 'boolean', default: false },
    'reroll-only': { type: 'boolean', default: false },
    'steer-only': { type: 'boolean', default: false },
    'steer-runs': { type: 'string', default: '3' },
    'steer-batches': { type: 'string', default: '20,2' },
  },
});

const size = Number(values.size);
const side = size / 8;
const providers = values.providers.split(',').filter((p): p is ProviderName => (PROVIDERS as readonly string[]).includes(p));
const logger = createLogger('warn');
const REQUEST = { ref: 'a bowl of strawberries', query: 'a bowl of grapes', seed: 1 } as const;

const round = (ms: number): number => Math.round(ms * 10) / 10;

async function timeIt(runs: number, fn: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn();
    times.push(performance.now() - t);
  }
  return median(times);
}

/** A `side`-px test picture; another `variant` is another picture (another cache key). */
async function photo(side = size, variant = 0): Promise<Buffer> {
  const data = Buffer.alloc(side * side * 3);
  for (let i = 0; i < side * side; i++) {
    data[i * 3] = (i % side) & 255;
    data[i * 3 + 1] = Math.floor(i / side) & 255;
    data[i * 3 + 2] = (128 + variant) & 255;
  }
  return sharp(data, { raw: { width: side, height: side, channels: 3 } })
    .jpeg()
    .toBuffer();
}

/**
 * Median ms of a first edit (a picture the cache has not seen) and of its Reroll (new edit seed, same mask seed:
 * the mask and the inversion come from the cache), over `runs` pictures, with the defaults (50 steps, r = 0.8).
 */
async function firstVsReroll(engine: DiffEditEngine, side: number, runs: number): Promise<Record<string, unknown>> {
  const first: EditResult[] = [];
  const reroll: EditResult[] = [];
  for (let i = 0; i < runs; i++) {
    const image = await photo(side, i + 1);
    first.push(await engine.run({ ...REQUEST, image, seed: 1, maskSeed: 1 }));
    reroll.push(await engine.run({ ...REQUEST, image, seed: 2, maskSeed: 1 }));
  }
  const firstMs = median(first.map((r) => r.timings.total));
  const rerollMs = median(reroll.map((r) => r.timings.total));
  const phases = (results: EditResult[]) =>
    Object.fromEntries(
      (['prepare', 'mask', 'invert', 'decode', 'render'] as const).map((key) => [key, round(median(results.map((r) => r.timings[key])))]),
    );
  return {
    firstEditMs: round(firstMs),
    rerollMs: round(rerollMs),
    rerollOverFirst: Math.round((rerollMs / firstMs) * 1000) / 1000,
    firstPhasesMs: phases(first),
    rerollPhasesMs: phases(reroll),
    firstUnetEvaluations: first[0]?.unetEvaluations ?? 0,
    rerollUnetEvaluations: reroll[0]?.unetEvaluations ?? 0,
  };
}

/** A model folder: the given one, or models generated with `options` into a temp folder (removed by `cleanup`). */
async function modelDir(options: TinyModelOptions, cleanup: string[]): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'diffedit-bench-'));
  cleanup.push(dir);
  await generateTinyModels(dir, options);
  return dir;
}

/** ms per UNet call for `batch` items at the model size. */
async function unetCallMs(engine: DiffEditEngine, batch: number, calls = 1, runs = 5): Promise<number> {
  const text = await engine.models.encodePrompts(['a bowl of grapes']);
  const latents = new Float32Array(batch * 4 * side * side).fill(0.1);
  const emb = new Float32Array(batch * text.data.length);
  for (let i = 0; i < batch; i++) emb.set(text.data, i * text.data.length);
  return timeIt(runs, async () => {
    for (let c = 0; c < calls; c++) await engine.models.predictNoise('standard', latents, [batch, 4, side, side], 481, emb);
  });
}

/** Median mask-phase ms of the two engines, alternating them so that drift in machine load hits both alike. */
async function maskPhases(a: DiffEditEngine, b: DiffEditEngine, image: Buffer, runs: number): Promise<[number, number]> {
  const ta: number[] = [];
  const tb: number[] = [];
  for (let i = 0; i < runs; i++) {
    ta.push((await a.run({ ...REQUEST, image, maskOnly: true })).timings.mask);
    tb.push((await b.run({ ...REQUEST, image, maskOnly: true })).timings.mask);
  }
  return [median(ta), median(tb)];
}

type Open = (dir: string, maxBatch: number, extra?: { cache?: MemoryStageCache; size?: number }) => Promise<DiffEditEngine>;

const COMPUTE_MODEL = 'generated, 1 SD-like block (32 channels, fused attention)';

/** UNet throughput, an edit's phases, and the mask phase batched vs one item per call. */
async function phaseReport(open: Open, dir: string, computeDir: string): Promise<Record<string, unknown>> {
  const image = await photo();
  const engine = await open(dir, 20);

  const unet: Record<string, number> = {};
  for (const batch of [1, 2, 20]) {
    const ms = await unetCallMs(engine, batch);
    unet[`batch ${batch}: evaluations/s`] = Math.round((batch / ms) * 1000);
    unet[`batch ${batch}: ms/call`] = round(ms);
  }

  const runs: EditResult[] = [];
  for (let i = 0; i < Number(values.edits); i++) runs.push(await engine.run({ ...REQUEST, image, seed: i }));
  const phase = (key: keyof EditResult['timings']): number => Math.round(median(runs.map((r) => r.timings[key])));

  // The mask's 20 UNet items on the tiny model: call overhead only.
  const maskWorkTiny = {
    '1 call x 20': round(await unetCallMs(engine, 20, 1, 9)),
    '10 calls x 2': round(await unetCallMs(engine, 2, 10, 9)),
    '20 calls x 1': round(await unetCallMs(engine, 1, 20, 9)),
  };

  // The mask phase on the tiny model (overhead-bound, like a GPU at small batch): batched vs one item per call.
  const [tinyBatched, tinyOneByOne] = await maskPhases(engine, await open(dir, 1), image, 31);

  // The mask phase with a UNet that computes (compute-bound, like SD on a CPU).
  const [batched, oneByOne] = await maskPhases(await open(computeDir, 20), await open(computeDir, 1), image, Number(values['mask-runs']));

  return {
    models: values.models ?? (values['sd-sized'] ? 'generated SD-sized random models' : 'generated tiny models'),
    providers: engine.models.providers,
    size,
    unet,
    editMs: {
      total: phase('total'),
      prepare: phase('prepare'),
      mask: phase('mask'),
      invert: phase('invert'),
      decode: phase('decode'),
      render: phase('render'),
      unetEvaluations: runs[0]?.unetEvaluations,
      unetCalls: runs[0]?.unetCalls,
    },
    maskUnetWorkMsTinyModel: maskWorkTiny,
    maskPhaseMsTinyModel: {
      batched: round(tinyBatched),
      oneItemPerCall: round(tinyOneByOne),
      speedup: Math.round((tinyOneByOne / tinyBatched) * 100) / 100,
    },
    maskPhaseMsComputeModel: {
      model: values.models ?? COMPUTE_MODEL,
      batched: round(batched),
      oneItemPerCall: round(oneByOne),
      speedup: Math.round((oneByOne / batched) * 100) / 100,
    },
  };
}

/** First edit vs Reroll with the stage cache (memory tier; the disk tier only adds a file read after a restart). */
async function rerollReport(open: Open, computeDir: string, cleanup: string[]): Promise<Record<string, unknown>> {
  const runs = Number(values['reroll-runs']);
  const cacheBytes = 1024 * 1024 * 1024;
  const compute = await firstVsReroll(await open(computeDir, 20, { cache: new MemoryStageCache(cacheBytes) }), size, runs);
  const realArchSize = Number(values['real-arch-size']);
  const realArchDir = await realArchModelDir();
  cleanup.push(realArchDir);
  const realArch = await firstVsReroll(
    await open(realArchDir, 20, { cache: new MemoryStageCache(cacheBytes), size: realArchSize }),
    realArchSize,
    runs,
  );
  return {
    rerollComputeModel: { model: values.models ?? COMPUTE_MODEL, size, ...compute },
    rerollRealArch: { model: 'test/fixtures/sd-real-arch (SD UNet and VAE architecture, tiny widths)', size: realArchSize, ...realArch },
  };
}

/** Median ms and the UNet work of `runs` jobs made by `job(i)` (the i-th run). */
async function measure(runs: number, job: (i: number) => Promise<EditResult>): Promise<{ ms: number; unetItems: number; unetCalls: number }> {
  const results: EditResult[] = [];
  for (let i = 0; i < runs; i++) results.push(await job(i));
  return {
    ms: round(median(results.map((r) => r.timings.total))),
    unetItems: results[0]?.unetEvaluations ?? 0,
    unetCalls: results[0]?.unetCalls ?? 0,
  };
}

/** ms and UNet work relative to `base`. */
function relative(cost: { ms: number; unetItems: number }, base: { ms: number; unetItems: number }): Record<string, number> {
  return { timeOverBase: Math.round((cost.ms / base.ms) * 100) / 100, unetItemsOverBase: Math.round((cost.unetItems / base.unetItems) * 100) / 100 };
}

/**
 * Smaller / Larger area against a first edit, and 1 / 2 / 4 variations against one, on `dir` with a stage cache.
 * Each run is another picture (another cache key), so that "first" really computes the mask and the inversion.
 */
async function steerReport(open: Open, dir: string): Promise<Record<string, unknown>> {
  const runs = Number(values['steer-runs']);
  const cacheBytes = 1024 * 1024 * 1024;
  let picture = 100;
  const fresh = async () => photo(size, picture++);
  const report: Record<string, unknown> = {};
  for (const maxBatch of values['steer-batches'].split(',').map(Number)) {
    const engine = await open(dir, maxBatch, { cache: new MemoryStageCache(cacheBytes) });
    const images: Buffer[] = [];
    const first = await measure(runs, async (i) => {
      images[i] = await fresh();
      return engine.run({ ...REQUEST, image: images[i], seed: 1, maskSeed: 1, variations: 1 });
    });
    const smaller = await measure(runs, (i) => engine.run({ ...REQUEST, image: images[i] as Buffer, seed: 1, maskSeed: 1, area: -1, variations: 1 }));
    const larger = await measure(runs, (i) => engine.run({ ...REQUEST, image: images[i] as Buffer, seed: 1, maskSeed: 1, area: 1, variations: 1 }));
    const variations: Record<string, unknown> = {};
    const cachedVariations: Record<string, unknown> = {};
    let one: { ms: number; unetItems: number } | undefined;
    let oneCached: { ms: number; unetItems: number } | undefined;
    for (const n of [1, 2, 4]) {
      const cost = await measure(runs, async () => engine.run({ ...REQUEST, image: await fresh(), seed: 1, maskSeed: 1, variations: n }));
      one ??= cost;
      variations[`${n}`] = { ...cost, ...relative(cost, one) };
      const cached = await measure(runs, (i) => engine.run({ ...REQUEST, image: images[i] as Buffer, seed: 10 + n, maskSeed: 1, variations: n }));
      oneCached ??= cached;
      cachedVariations[`${n}`] = { ...cached, ...relative(cached, oneCached) };
    }
    report[`maxBatch ${maxBatch}`] = {
      firstEdit: first,
      smallerArea: { ...smaller, ...relative(smaller, first) },
      largerArea: { ...larger, ...relative(larger, first) },
      variationsFirstEdit: variations,
      variationsMaskAndInversionCached: cachedVariations,
    };
  }
  return { steering: { model: values.models ?? COMPUTE_MODEL, size, runs, ...report } };
}

async function main(): Promise<void> {
  const cleanup: string[] = [];
  const engines: DiffEditEngine[] = [];
  const open: Open = async (dir, maxBatch, extra = {}) => {
    const engine = await DiffEditEngine.create({ modelDir: dir, providers, size, maxBatch, logger, ...extra });
    engines.push(engine);
    await engine.warmUp();
    return engine;
  };
  try {
    const dir =
      values.models ??
      (await modelDir(
        values['sd-sized'] ? { hiddenSize: 768, benchmarkBlocks: 16, benchmarkChannels: 320, benchmarkAttention: 'fused' } : {},
        cleanup,
      ));
    const computeDir = values.models ?? (await modelDir({ benchmarkBlocks: 1, benchmarkChannels: 32, benchmarkAttention: 'fused' }, cleanup));
    const report = values['steer-only']
      ? await steerReport(open, computeDir)
      : {
          ...(values['reroll-only'] ? {} : await phaseReport(open, dir, computeDir)),
          ...(await rerollReport(open, computeDir, cleanup)),
          ...(await steerReport(open, computeDir)),
        };
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } finally {
    await Promise.all(engines.map((e) => e.close()));
    await Promise.all(cleanup.map((dir) => rm(dir, { recursive: true, force: true })));
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});

/**
 * `npm run bench [-- --models DIR] [--providers cpu] [--size 512] [--edits 3] [--sd-sized]`
 *
 * Prints, for the engine on CPU by default (tiny generated models unless --models is given):
 *  - UNet evaluations per second at batch 1, 2 and 20;
 *  - end-to-end milliseconds per edit with the defaults (50 steps, r = 0.8, n = 10 mask draws), per phase;
 *  - mask generation batched (all draws in one UNet call) vs one draw per call.
 * --sd-sized generates random models with SD1.5's widths (hidden 768) and compute blocks, for GPU runs.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { DiffEditEngine, type EditResult } from '../src/engine/engine.js';
import { PROVIDERS, type ProviderName } from '../src/engine/models/sessions.js';
import { createLogger } from '../src/logger.js';
import { generateTinyModels } from '../tools/tiny-models/generate.js';

const { values } = parseArgs({
  options: {
    models: { type: 'string' },
    providers: { type: 'string', default: 'cpu' },
    size: { type: 'string', default: '512' },
    edits: { type: 'string', default: '3' },
    'sd-sized': { type: 'boolean', default: false },
    blocks: { type: 'string', default: '0' },
    channels: { type: 'string', default: '32' },
  },
});

const size = Number(values.size);
const edits = Number(values.edits);
const providers = values.providers.split(',').filter((p): p is ProviderName => (PROVIDERS as readonly string[]).includes(p));
const logger = createLogger('warn');

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

async function timeIt(runs: number, fn: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn();
    times.push(performance.now() - t);
  }
  return median(times);
}

async function photo(): Promise<Buffer> {
  const w = size;
  const h = size;
  const data = Buffer.alloc(w * h * 3);
  for (let i = 0; i < w * h; i++) {
    data[i * 3] = (i % w) & 255;
    data[i * 3 + 1] = Math.floor(i / w) & 255;
    data[i * 3 + 2] = 128;
  }
  return sharp(data, { raw: { width: w, height: h, channels: 3 } }).jpeg().toBuffer();
}

async function main(): Promise<void> {
  let dir = values.models;
  let temp: string | undefined;
  if (dir === undefined) {
    temp = await mkdtemp(path.join(os.tmpdir(), 'diffedit-bench-'));
    dir = temp;
    await generateTinyModels(
      dir,
      values['sd-sized']
        ? { hiddenSize: 768, benchmarkBlocks: 16, benchmarkChannels: 320 }
        : { benchmarkBlocks: Number(values.blocks), benchmarkChannels: Number(values.channels) },
    );
  }
  const engineFor = (maxBatch: number): Promise<DiffEditEngine> =>
    DiffEditEngine.create({ modelDir: dir, providers, size, maxBatch, logger });
  const engine = await engineFor(20);
  const small = await engineFor(2);
  try {
    const image = await photo();
    const request = { image, ref: 'a bowl of strawberries', query: 'a bowl of grapes', seed: 1 } as const;
    const warm = await engine.warmUp();
    await small.warmUp();

    // UNet throughput at the model size.
    const side = size / 8;
    const text = await engine.models.encodePrompts(['a bowl of grapes']);
    const unetRates: Record<string, number> = {};
    for (const batch of [1, 2, 20]) {
      const latents = new Float32Array(batch * 4 * side * side).fill(0.1);
      const emb = new Float32Array(batch * text.data.length);
      for (let i = 0; i < batch; i++) emb.set(text.data, i * text.data.length);
      const ms = await timeIt(5, () => engine.models.predictNoise('standard', latents, [batch, 4, side, side], 481, emb));
      unetRates[`batch ${batch}`] = Math.round((batch / ms) * 1000 * 10) / 10;
      unetRates[`batch ${batch} ms/call`] = Math.round(ms * 10) / 10;
    }

    // End-to-end edits with the defaults.
    const runs: EditResult[] = [];
    for (let i = 0; i < edits; i++) runs.push(await engine.run({ ...request, seed: i }));
    const phase = (key: keyof EditResult['timings']): number => Math.round(median(runs.map((r) => r.timings[key])));

    // Mask phase: all 10 draws x (ref, query) in one UNet call vs one draw (2 items) per call, alternating
    // the two so that drift in machine load hits both alike.
    const batchedTimes: number[] = [];
    const perDrawTimes: number[] = [];
    for (let i = 0; i < 15; i++) {
      batchedTimes.push((await engine.run({ ...request, maskOnly: true })).timings.mask);
      perDrawTimes.push((await small.run({ ...request, maskOnly: true })).timings.mask);
    }
    const batched = median(batchedTimes);
    const perDraw = median(perDrawTimes);
    // The same 20 UNet items as 1 call of 20, 10 calls of 2, and 20 calls of 1.
    const maskItems = async (batch: number): Promise<number> => {
      const latents = new Float32Array(batch * 4 * side * side).fill(0.1);
      const emb = new Float32Array(batch * text.data.length);
      for (let i = 0; i < batch; i++) emb.set(text.data, i * text.data.length);
      return timeIt(9, async () => {
        for (let c = 0; c < 20 / batch; c++) await engine.models.predictNoise('standard', latents, [batch, 4, side, side], 481, emb);
      });
    };
    const unetMaskWork = { '1 call x 20': await maskItems(20), '10 calls x 2': await maskItems(2), '20 calls x 1': await maskItems(1) };
    const report = {
      models: values.models ?? (values['sd-sized'] ? 'generated SD-sized random models' : 'generated tiny models'),
      providers: engine.models.providers,
      size,
      warmUpMs: warm,
      unetEvaluationsPerSecond: unetRates,
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
      maskPhaseMs: {
        batched: Math.round(batched * 10) / 10,
        perDraw: Math.round(perDraw * 10) / 10,
        speedup: Math.round((perDraw / batched) * 100) / 100,
      },
      maskUnetWorkMs: Object.fromEntries(Object.entries(unetMaskWork).map(([k, v]) => [k, Math.round(v * 10) / 10])),
    };
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } finally {
    await engine.close();
    await small.close();
    if (temp !== undefined) await rm(temp, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});

/**
 * `npx tsx bench/attention.ts [--batches 1,2] [--runs 3] [--mem-batch 8] [--mem-levels disabled,all] [--timeout 300]`
 *
 * What fused attention buys on onnxruntime-node's CPU EP. Generates two SD-like tiny UNets (hidden 768, 2 benchmark
 * blocks at 320 channels, fp32, 64x64 latents = 4096 tokens per self-attention) that differ only in how attention is
 * written: 'unfused' (MatMul, Mul, Softmax, MatMul: a TorchScript export, which onnxruntime's optimiser leaves alone)
 * and 'fused' (onnxruntime's contrib op com.microsoft.MultiHeadAttention). Then, each configuration in its own child
 * process (so one that runs out of memory takes only itself down, and maxRSS is its own):
 *  - UNet ms per call at each batch of --batches, graphOptimizationLevel 'disabled' and 'all': 1 warm-up, median of
 *    --runs timed calls;
 *  - peak RSS (process.resourceUsage().maxRSS) over two calls at --mem-batch (0: none), for each of --mem-levels
 *    (the first call allocates as it goes, later ones onnxruntime's planned memory pattern at once), plus the
 *    unfused model with enableMemPattern: false.
 * A watchdog kills a child when the machine's MemAvailable drops under 1.5 GB, and after --timeout seconds.
 * Prints one JSON object with every figure on stdout (progress goes to stderr).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import ort from 'onnxruntime-node';
import { generateTinyModels } from '../tools/tiny-models/generate.js';
import type { BenchmarkAttention } from '../tools/tiny-models/options.js';
import { mb, runChild, type Level, type Outcome } from './unet-child.js';

const MODEL = { hiddenSize: 768, benchmarkChannels: 320, benchmarkBlocks: 2, io: 'float32' } as const;
const LATENT = 64;

const round1 = (x: number): number => Math.round(x * 10) / 10;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      batches: { type: 'string', default: '1,2' },
      runs: { type: 'string', default: '3' },
      'mem-batch': { type: 'string', default: '8' },
      'mem-levels': { type: 'string', default: 'disabled,all' },
      timeout: { type: 'string', default: '300' },
    },
  });
  const batches = values.batches
    .split(',')
    .filter((b) => b !== '')
    .map(Number);
  const runs = Number(values.runs);
  const memBatch = Number(values['mem-batch']); // 0: no memory runs
  const memLevels = values['mem-levels'].split(',').filter((l): l is Level => l === 'disabled' || l === 'all');
  const timeoutS = Number(values.timeout);
  const variants: BenchmarkAttention[] = ['unfused', 'fused'];
  const levels: Level[] = ['disabled', 'all'];
  const started = performance.now();

  const temp = await mkdtemp(path.join(os.tmpdir(), 'attention-bench-'));
  try {
    const models: Record<string, string> = {};
    for (const v of variants) {
      const dir = path.join(temp, v);
      await generateTinyModels(dir, { ...MODEL, benchmarkAttention: v });
      models[v] = path.join(dir, 'unet', 'model.onnx');
    }

    const timing: Record<string, Record<string, Record<string, Outcome>>> = {};
    for (const v of variants) {
      for (const level of levels) {
        for (const batch of batches) {
          console.error(`timing ${v} ${level} batch ${batch} ...`);
          const outcome = await runChild({ model: models[v] as string, level, batch, latent: LATENT, warmups: 1, runs }, timeoutS);
          console.error(`  ${JSON.stringify(outcome)}`);
          ((timing[v] ??= {})[level] ??= {})[`batch${batch}`] = outcome;
        }
      }
    }

    // Two calls each: the first one allocates as it goes; later ones allocate onnxruntime's planned memory pattern
    // (all of a call's intermediate buffers at once); 'unfusedNoMemPattern' is the unfused model with that turned off.
    const memory: Record<string, Record<string, Outcome>> = {};
    const memVariants = [...variants.map((v) => ({ key: v, v, memPattern: true })), { key: 'unfusedNoMemPattern', v: 'unfused', memPattern: false }];
    for (const level of memBatch > 0 ? memLevels : []) {
      for (const { key, v, memPattern } of memVariants) {
        console.error(`memory ${key} ${level} batch ${memBatch} ...`);
        const job = { model: models[v] as string, level, batch: memBatch, latent: LATENT, warmups: 1, runs: 1, memPattern };
        const outcome = await runChild(job, timeoutS);
        console.error(`  ${JSON.stringify(outcome)}`);
        (memory[key] ??= {})[level] = outcome;
      }
    }

    const msOf = (v: string, level: string, batch: number): number | undefined => {
      const o = timing[v]?.[level]?.[`batch${batch}`];
      return o?.ok === true ? o.medianMs : undefined;
    };
    const speedup: Record<string, number | null> = {};
    for (const level of levels) {
      for (const batch of batches) {
        const u = msOf('unfused', level, batch);
        const f = msOf('fused', level, batch);
        speedup[`${level}.batch${batch}`] = u !== undefined && f !== undefined ? round1(u / f) : null;
      }
    }

    const report = {
      model: { ...MODEL, latent: `${LATENT}x${LATENT}`, selfAttentionTokens: LATENT * LATENT, heads: 8 },
      machine: { cpus: os.cpus().length, totalMemMb: mb(os.totalmem()), node: process.version, onnxruntime: ort.env.versions.common },
      session: { executionProviders: ['cpu'], extra: { session: { intra_op: { allow_spinning: '0' } } } },
      method: `each configuration in a child process; ms: median of ${runs} calls after 1 warm-up; memory: maxRSS of a child making 2 calls`,
      unetMsPerCall: timing,
      speedupUnfusedOverFused: speedup,
      peakRss: { batch: memBatch, ...memory },
      totalSeconds: Math.round((performance.now() - started) / 1000),
    };
    console.log(JSON.stringify(report, null, 2));
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
});

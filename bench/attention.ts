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
import { fork } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import ort from 'onnxruntime-node';
import { generateTinyModels } from '../tools/tiny-models/generate.js';
import type { BenchmarkAttention } from '../tools/tiny-models/options.js';
import { median } from './stats.js';

type Level = 'disabled' | 'all';

const MODEL = { hiddenSize: 768, benchmarkChannels: 320, benchmarkBlocks: 2, io: 'float32' } as const;
const LATENT = 64;
const TOKENS = 77;
const MIN_AVAILABLE_MB = 1536;

interface ChildJob {
  readonly model: string;
  readonly level: Level;
  readonly batch: number;
  readonly warmups: number;
  readonly runs: number;
  /** onnxruntime's enableMemPattern (default true). */
  readonly memPattern?: boolean;
}

interface ChildResult {
  readonly createMs: number;
  /** The warm-up calls (the first call allocates its buffers as it goes; with onnxruntime's memory pattern on, the
   * second one allocates the planned pattern: both are slower than the later calls when buffers are large). */
  readonly warmupsMs: number[];
  readonly runsMs: number[];
  readonly medianMs: number;
  /** RSS once the session exists, before the first call. */
  readonly rssAfterCreateMb: number;
  /** process.resourceUsage().maxRSS at the end: the peak over the whole child. */
  readonly maxRssMb: number;
  /** maxRSS after each call, warm-ups included (the first call and the later ones allocate differently). */
  readonly maxRssAfterCallMb: number[];
}

type Outcome = ({ ok: true } & ChildResult) | { ok: false; error: string };

const mb = (bytes: number): number => Math.round(bytes / 2 ** 20);
const round1 = (x: number): number => Math.round(x * 10) / 10;

/** A deterministic pseudo-random Float32Array in [-1, 1]. */
function wave(count: number, phase = 0): Float32Array {
  return Float32Array.from({ length: count }, (_, i) => Math.sin(i * 12.9898 + phase) * Math.cos(i * 0.37 + phase));
}

async function child(job: ChildJob): Promise<ChildResult> {
  const t0 = performance.now();
  const session = await ort.InferenceSession.create(job.model, {
    executionProviders: ['cpu'],
    graphOptimizationLevel: job.level,
    ...(job.memPattern === false ? { enableMemPattern: false } : {}),
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  });
  const createMs = performance.now() - t0;
  const rssAfterCreateMb = mb(process.memoryUsage().rss);
  const b = job.batch;
  const feeds = {
    sample: new ort.Tensor('float32', wave(b * 4 * LATENT * LATENT), [b, 4, LATENT, LATENT]),
    timestep: new ort.Tensor('float32', new Float32Array([500]), []),
    encoder_hidden_states: new ort.Tensor('float32', wave(b * TOKENS * MODEL.hiddenSize, 5), [b, TOKENS, MODEL.hiddenSize]),
  };
  const maxRss = (): number => Math.round(process.resourceUsage().maxRSS / 1024); // maxRSS is in KiB
  const maxRssAfterCallMb: number[] = [];
  const warmupsMs: number[] = [];
  for (let i = 0; i < job.warmups; i++) {
    const t = performance.now();
    await session.run(feeds);
    warmupsMs.push(Math.round(performance.now() - t));
    maxRssAfterCallMb.push(maxRss());
  }
  const runsMs: number[] = [];
  for (let i = 0; i < job.runs; i++) {
    const t = performance.now();
    const out = await session.run(feeds);
    runsMs.push(performance.now() - t);
    maxRssAfterCallMb.push(maxRss());
    if (out.out_sample?.dims.join(',') !== [b, 4, LATENT, LATENT].join(',')) throw new Error('unexpected out_sample shape');
  }
  await session.release();
  return {
    createMs: Math.round(createMs),
    warmupsMs,
    runsMs: runsMs.map(Math.round),
    medianMs: Math.round(median(runsMs)),
    rssAfterCreateMb,
    maxRssMb: maxRss(),
    maxRssAfterCallMb,
  };
}

async function availableMb(): Promise<number> {
  const info = await readFile('/proc/meminfo', 'utf8').catch(() => '');
  const m = /MemAvailable:\s+(\d+) kB/.exec(info);
  return m?.[1] === undefined ? Number.POSITIVE_INFINITY : Number(m[1]) / 1024;
}

/** Runs one job in a child process of this script; never throws. */
function runChild(job: ChildJob, timeoutS: number): Promise<Outcome> {
  return new Promise((resolve) => {
    const self = fileURLToPath(import.meta.url);
    const proc = fork(self, ['--child', JSON.stringify(job)], { execArgv: process.execArgv, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    let stderr = '';
    let result: ChildResult | undefined;
    let killedFor: string | undefined;
    proc.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    proc.on('message', (m) => (result = m as ChildResult));
    const kill = (why: string): void => {
      if (killedFor !== undefined || proc.exitCode !== null) return;
      killedFor = why;
      proc.kill('SIGKILL');
    };
    const timer = setTimeout(() => kill(`timeout after ${timeoutS} s`), timeoutS * 1000);
    const watchdog = setInterval(() => {
      void availableMb().then((free) => {
        if (free < MIN_AVAILABLE_MB) kill(`killed by the watchdog: MemAvailable ${Math.round(free)} MB < ${MIN_AVAILABLE_MB} MB`);
      });
    }, 100);
    proc.on('exit', (code, signal) => {
      clearTimeout(timer);
      clearInterval(watchdog);
      if (result !== undefined && code === 0) resolve({ ok: true, ...result });
      else {
        const why = killedFor ?? (signal !== null ? `killed by ${signal} (out of memory?)` : `exit code ${String(code)}`);
        resolve({ ok: false, error: `${why}${stderr.trim() !== '' ? `: ${stderr.trim().split('\n').slice(-3).join(' | ')}` : ''}` });
      }
    });
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      child: { type: 'string' },
      batches: { type: 'string', default: '1,2' },
      runs: { type: 'string', default: '3' },
      'mem-batch': { type: 'string', default: '8' },
      'mem-levels': { type: 'string', default: 'disabled,all' },
      timeout: { type: 'string', default: '300' },
    },
  });
  if (values.child !== undefined) {
    const result = await child(JSON.parse(values.child) as ChildJob);
    process.send?.(result);
    return;
  }

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
          const outcome = await runChild({ model: models[v] as string, level, batch, warmups: 1, runs }, timeoutS);
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
        const job = { model: models[v] as string, level, batch: memBatch, warmups: 1, runs: 1, memPattern };
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

/**
 * One UNet configuration timed in its own child process (so one that runs out of memory takes only itself down,
 * and maxRSS is its own), with a watchdog on the machine's free memory and a timeout. Feeds are built from the
 * session's metadata (timestep rank, text width), so generated UNets and real exports both fit.
 * Used by bench/attention.ts and bench/sd15-unet.ts.
 */
import { fork } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import ort from 'onnxruntime-node';
import { median } from './stats.js';

export type Level = 'disabled' | 'all';

/** Text tokens per prompt (CLIP). */
const TOKENS = 77;
const MIN_AVAILABLE_MB = 1536;
const CHILD_FLAG = '--unet-child';

export interface ChildJob {
  readonly model: string;
  readonly level: Level;
  readonly batch: number;
  /** Latent side (64 for 512 x 512 pictures). */
  readonly latent: number;
  readonly warmups: number;
  readonly runs: number;
  /** onnxruntime's enableMemPattern (default true). */
  readonly memPattern?: boolean;
  /** CPU threads (default: onnxruntime's, all cores). */
  readonly threads?: number;
}

export interface ChildResult {
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
  /** Largest |out_sample| value of the last call (a NaN or a blow-up shows here). */
  readonly maxAbsOutput: number;
}

export type Outcome = ({ ok: true } & ChildResult) | { ok: false; error: string };

export const mb = (bytes: number): number => Math.round(bytes / 2 ** 20);

/** A deterministic pseudo-random Float32Array in [-1, 1]. */
function wave(count: number, phase = 0): Float32Array {
  return Float32Array.from({ length: count }, (_, i) => Math.sin(i * 12.9898 + phase) * Math.cos(i * 0.37 + phase));
}

function feedsFor(session: ort.InferenceSession, batch: number, latent: number): Record<string, ort.Tensor> {
  const meta = new Map(session.inputMetadata.flatMap((m) => (m.isTensor ? [[m.name, m.shape] as const] : [])));
  const hidden = Number(meta.get('encoder_hidden_states')?.[2] ?? 768);
  const timestepRank = meta.get('timestep')?.length ?? 0;
  return {
    sample: new ort.Tensor('float32', wave(batch * 4 * latent * latent), [batch, 4, latent, latent]),
    timestep: new ort.Tensor('float32', new Float32Array(timestepRank === 0 ? 1 : batch).fill(500), timestepRank === 0 ? [] : [batch]),
    encoder_hidden_states: new ort.Tensor('float32', wave(batch * TOKENS * hidden, 5), [batch, TOKENS, hidden]),
  };
}

async function child(job: ChildJob): Promise<ChildResult> {
  const t0 = performance.now();
  const session = await ort.InferenceSession.create(job.model, {
    executionProviders: ['cpu'],
    graphOptimizationLevel: job.level,
    ...(job.memPattern === false ? { enableMemPattern: false } : {}),
    ...(job.threads !== undefined ? { intraOpNumThreads: job.threads } : {}),
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  });
  const createMs = performance.now() - t0;
  const rssAfterCreateMb = mb(process.memoryUsage().rss);
  const feeds = feedsFor(session, job.batch, job.latent);
  const maxRss = (): number => Math.round(process.resourceUsage().maxRSS / 1024); // maxRSS is in KiB
  const maxRssAfterCallMb: number[] = [];
  const call = async (): Promise<{ ms: number; out: Float32Array }> => {
    const t = performance.now();
    const result = await session.run(feeds);
    const ms = performance.now() - t;
    maxRssAfterCallMb.push(maxRss());
    const out = result['out_sample'];
    if (out?.dims.join(',') !== [job.batch, 4, job.latent, job.latent].join(',')) throw new Error('unexpected out_sample shape');
    return { ms, out: out.data as Float32Array };
  };
  const warmupsMs: number[] = [];
  for (let i = 0; i < job.warmups; i++) warmupsMs.push(Math.round((await call()).ms));
  const runsMs: number[] = [];
  let last: Float32Array = new Float32Array(0);
  for (let i = 0; i < job.runs; i++) {
    const { ms, out } = await call();
    runsMs.push(ms);
    last = out;
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
    maxAbsOutput: last.reduce((m, v) => (Number.isNaN(v) ? NaN : Math.max(m, Math.abs(v))), 0),
  };
}

async function availableMb(): Promise<number> {
  const info = await readFile('/proc/meminfo', 'utf8').catch(() => '');
  const m = /MemAvailable:\s+(\d+) kB/.exec(info);
  return m?.[1] === undefined ? Number.POSITIVE_INFINITY : Number(m[1]) / 1024;
}

/**
 * Runs one job in a child process; never throws. The child is killed after `timeoutS`, when the machine's
 * MemAvailable drops under 1.5 GB, or when its own RSS passes `maxRssMb`.
 */
export function runChild(job: ChildJob, timeoutS: number, maxRssMb = Number.POSITIVE_INFINITY): Promise<Outcome> {
  return new Promise((resolve) => {
    const self = fileURLToPath(import.meta.url);
    const proc = fork(self, [CHILD_FLAG, JSON.stringify(job)], { execArgv: process.execArgv, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
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
      void readFile(`/proc/${proc.pid}/status`, 'utf8').then(
        (status) => {
          const rss = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
          if (rss > maxRssMb) kill(`killed at ${Math.round(rss)} MB RSS (cap ${maxRssMb} MB)`);
        },
        () => undefined,
      );
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

if (process.argv[2] === CHILD_FLAG) {
  child(JSON.parse(process.argv[3] ?? '{}') as ChildJob).then(
    (result) => process.send?.(result),
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : String(error));
      process.exit(1);
    },
  );
}

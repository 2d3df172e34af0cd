/**
 * `npm run bench:queue [-- --jobs 12 --sequential 10]`: QUEUE_BACKEND=redis against memory mode, on the tiny models
 * and the CPU (so the engine's own time is small and the queue's cost shows). Needs redis-server on PATH; starts its
 * own on 127.0.0.1 and worker processes like the tests do. Prints one JSON object:
 *  - overheadMsPerJob: median ms per job submitted alone, Redis path (one worker) minus memory mode;
 *  - jobsPerMinute: `--jobs` jobs submitted at once, with 1 and with 2 workers (each worker one CPU thread).
 */
import { backendOptions } from '../test/queue/redis/backend-options.js';
import { parseArgs } from 'node:util';
import type { EditBackend } from '../src/bot/edit-backend.js';
import { JobQueue } from '../src/queue/memory/job-queue.js';
import { MemoryBackend } from '../src/queue/memory/backend.js';
import { RedisBackend } from '../src/queue/redis/backend.js';
import { smoothPhoto, tinyEngine } from '../test/engine/tiny-engine.js';
import { startRedis } from '../test/queue/redis/redis-server.js';
import { startWorker, type WorkerProcess } from '../test/queue/redis/worker-process.js';
import { median } from './stats.js';
import { testHandover } from '../test/queue/redis/handover.js';

const { values } = parseArgs({ options: { jobs: { type: 'string', default: '12' }, sequential: { type: 'string', default: '10' } } });
const JOBS = Number(values.jobs);
const SEQUENTIAL = Number(values.sequential);
const photo = await smoothPhoto();
const hooks = { onPosition: () => undefined, onStart: () => undefined, onProgress: () => undefined };

/** One job through `backend`, for user `n`, in ms. */
async function job(backend: EditBackend, n: number): Promise<number> {
  const started = performance.now();
  const slot = await backend.reserve(`user${n}`);
  await slot.submit({ image: photo, ref: 'a bowl of strawberries', query: 'a bowl of grapes', seed: n }, hooks, testHandover(`user${n}`));
  return performance.now() - started;
}

/** Median ms per job, each submitted alone (after one warm-up job). */
async function sequential(backend: EditBackend): Promise<number> {
  await job(backend, 0);
  const times: number[] = [];
  for (let n = 1; n <= SEQUENTIAL; n++) times.push(await job(backend, n));
  return median(times);
}

/** Jobs per minute with JOBS jobs submitted at once. */
async function throughput(backend: EditBackend): Promise<number> {
  const started = performance.now();
  await Promise.all(Array.from({ length: JOBS }, (_, n) => job(backend, n)));
  return (JOBS / (performance.now() - started)) * 60_000;
}

const engine = await tinyEngine();
const memory = new MemoryBackend(new JobQueue({ perUserLimit: 100, globalLimit: 1000 }), engine);
const memoryMs = await sequential(memory);
await memory.shutdown({ cancelRunning: false });
await engine.close();

const redis = await startRedis();
const workers: WorkerProcess[] = [await startWorker(redis.url)];
const backend = await RedisBackend.open(
  backendOptions(redis.url, { perUserLimit: 100, globalLimit: 1000, maxInlinePictureBytes: 10 * 2 ** 20, pollMs: 250 }),
);
try {
  const redisMs = await sequential(backend);
  const one = await throughput(backend);
  workers.push(await startWorker(redis.url));
  await job(backend, 0);
  const two = await throughput(backend);
  const round = (x: number) => Math.round(x * 10) / 10;
  process.stdout.write(
    `${JSON.stringify(
      {
        jobs: JOBS,
        msPerJob: { memory: round(memoryMs), redis: round(redisMs) },
        overheadMsPerJob: round(redisMs - memoryMs),
        jobsPerMinute: { oneWorker: round(one), twoWorkers: round(two) },
      },
      null,
      2,
    )}\n`,
  );
} finally {
  await backend.shutdown({ cancelRunning: true });
  for (const worker of workers) worker.kill('SIGTERM');
  await Promise.all(workers.map((w) => w.exited));
  await redis.stop();
}

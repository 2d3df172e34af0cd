/**
 * The worker's own duties against a real redis-server, in this process with the tiny engine: closing finishes the
 * running job; past the grace period the job is handed back and another worker finishes it, once; a job past its
 * deadline is stopped and its user told why. The bot side is the real RedisBackend.
 */
import { backendOptions } from './backend-options.js';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { EditHooks, Orphan } from '../../../src/bot/edit-backend.js';
import type { EditRunner } from '../../../src/queue/memory/backend.js';
import { RedisBackend } from '../../../src/queue/redis/backend.js';
import type { DiffEditEngine } from '../../../src/engine/engine.js';
import { ErrorCode } from '../../../src/errors.js';
import { silentLogger } from '../../../src/logger.js';
import { EditWorker } from '../../../src/queue/redis/worker.js';
import { smoothPhoto, tinyEngine } from '../../engine/tiny-engine.js';
import { HAS_REDIS, startRedis, type RedisServer } from './redis-server.js';
import { testHandover } from './handover.js';

describe.skipIf(!HAS_REDIS)('EditWorker', () => {
  let server: RedisServer;
  let engine: DiffEditEngine;
  let photo: Buffer;
  let backend: RedisBackend;
  const workers: EditWorker[] = [];

  beforeAll(async () => {
    [server, engine, photo] = await Promise.all([startRedis(), tinyEngine(), smoothPhoto()]);
    backend = await openBackend();
  });

  /** The bot side, as one bot process opens it. */
  function openBackend(): Promise<RedisBackend> {
    return RedisBackend.open(backendOptions(server.url));
  }

  afterEach(async () => {
    for (const worker of workers.splice(0)) await worker.close(0);
  });

  afterAll(async () => {
    await backend.shutdown({ cancelRunning: true });
    await engine.close();
    await server.stop();
  });

  async function worker(runner: EditRunner, jobTimeoutMs = 60_000): Promise<EditWorker> {
    const started = new EditWorker({ redisUrl: server.url, engine: runner, jobTimeoutMs, lockMs: 2000, logger: silentLogger });
    workers.push(started);
    await started.ready();
    return started;
  }

  /** The engine, each run held until `gate` resolves or its signal is aborted (then the engine sees the abort). */
  function held(gate: Promise<void>): EditRunner {
    return {
      run: async (request, controls) => {
        await Promise.race([gate, new Promise((r) => controls?.signal?.addEventListener('abort', r))]);
        return engine.run(request, controls);
      },
    };
  }

  /** Submits one job; resolves `started` when a worker takes it. */
  async function submit(seed: number, through = backend) {
    const slot = await through.reserve('alice');
    let starts = 0;
    const hooks: EditHooks = { onPosition: () => undefined, onStart: () => void starts++, onProgress: () => undefined };
    const request = { image: photo, ref: 'a bowl of strawberries', query: 'a bowl of grapes', seed, maskSeed: seed };
    const output = slot.submit(request, hooks, testHandover());
    return { output, request, starts: () => starts };
  }

  const until = async (predicate: () => boolean, what: string) => {
    for (const deadline = Date.now() + 10_000; !predicate(); await new Promise((r) => setTimeout(r, 10))) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    }
  };

  it('closing waits for the running job, which is delivered whole', async () => {
    let open: () => void = () => undefined;
    const first = await worker(held(new Promise((r) => (open = r))));
    const job = await submit(1);
    await until(() => job.starts() === 1, 'the job to start');
    const closing = first.close(30_000);
    open();
    const output = await job.output;
    await closing;
    expect(Buffer.compare(output.png, (await engine.run(job.request)).png)).toBe(0);
  });

  it('past the grace period the job is handed back; another worker finishes it and it is delivered once', async () => {
    const first = await worker(held(new Promise(() => undefined)));
    const job = await submit(2);
    await until(() => job.starts() === 1, 'the job to start');
    await first.close(100);
    await worker(engine);
    const output = await job.output;
    expect(job.starts()).toBe(2);
    expect(Buffer.compare(output.png, (await engine.run(job.request)).png)).toBe(0);
  });

  it('a job past its deadline is stopped and its user told why', async () => {
    await worker(held(new Promise(() => undefined)), 1000);
    const job = await submit(3);
    await expect(job.output).rejects.toMatchObject({
      code: ErrorCode.JobTimedOut,
      message: 'Your job took longer than 1 second and was stopped. Try again, perhaps with fewer steps.',
    });
  });

  it('a bot stopping past its grace leaves the running job in Redis; another bot process adopts it and delivers it once', async () => {
    let open: () => void = () => undefined;
    await worker(held(new Promise((r) => (open = r))));
    const leaving = await openBackend();
    const job = await submit(4, leaving);
    await until(() => job.starts() === 1, 'the job to start');
    await leaving.shutdown({ cancelRunning: true });
    // Not cancelled: its user hears nothing from the leaving bot...
    await expect(job.output).rejects.toMatchObject({ code: ErrorCode.HandedOver });

    // ...and the next bot process takes the delivery over (the leaving one's heartbeat is gone).
    const orphans: Orphan[] = [];
    backend.adoptOrphans((orphan) => Promise.resolve(void orphans.push(orphan)));
    await until(() => orphans.length === 1, 'the delivery to be adopted');
    const [orphan] = orphans;
    if (orphan === undefined) throw new Error('no orphan');
    // Followed by its new bot process, the running job shows as started and reports its steps again.
    const seen = { starts: 0, steps: 0 };
    const output = orphan.follow({ onPosition: () => undefined, onStart: () => seen.starts++, onProgress: () => seen.steps++ });
    await until(() => seen.starts === 1, 'the adopted job shown as started');
    open();
    expect(Buffer.compare((await output).png, (await engine.run(job.request)).png)).toBe(0);
    expect(seen.steps).toBeGreaterThan(0);
    expect(Buffer.compare(Buffer.from(orphan.image), photo)).toBe(0);
    expect(orphan.target).toEqual(testHandover().target);
    expect(await orphan.claimDelivery()).toBe(true);
    await orphan.settleDelivery();
    expect(await orphan.claimDelivery()).toBe(false);
  });
  it("a worker that lost its job's lock (frozen past it, so the job is another worker's) stops computing it at once", async () => {
    let first: AbortSignal | undefined;
    // The first run waits until it is stopped; later runs (the job taken again) compute.
    await worker({
      run: async (request, controls) => {
        if (first !== undefined) return engine.run(request, controls);
        first = controls?.signal;
        await new Promise((r) => first?.addEventListener('abort', r));
        return engine.run(request, controls);
      },
    });
    const job = await submit(5);
    await until(() => first !== undefined, 'the job to start');
    // What a thawed worker finds: its lock holds another worker's token (it lapses in 2 s, as a real one would).
    const client = new Redis(server.url);
    try {
      const [lock] = await client.keys('bull:diffedit-edits:*:lock');
      if (lock === undefined) throw new Error('no lock');
      await client.set(lock, 'another-worker', 'PX', 2000);
    } finally {
      client.disconnect();
    }
    await until(() => first?.aborted === true, 'the lost job to stop');
    // The job, stalled once its foreign lock lapsed, is taken again (here by the same, now free, worker) and delivered.
    const output = await job.output;
    expect(job.starts()).toBe(2);
    expect(Buffer.compare(output.png, (await engine.run(job.request)).png)).toBe(0);
  });
});

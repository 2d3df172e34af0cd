/**
 * The Redis backend's shared state against a real redis-server, no workers: caps that hold across bot processes,
 * round-robin order and the positions users are told, refusals that give the place back, and a shutdown that
 * tells waiting jobs and leaves nothing behind in Redis.
 */
import { backendOptions } from './backend-options.js';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { EditHooks } from '../../../src/bot/edit-backend.js';
import { RESTART_WAITING_MESSAGE } from '../../../src/queue/refusals.js';
import { RedisBackend, type RedisBackendOptions } from '../../../src/queue/redis/backend.js';
import { EDIT_QUEUE } from '../../../src/queue/redis/protocol.js';
import { ErrorCode } from '../../../src/errors.js';
import { HAS_REDIS, startRedis, type RedisServer } from './redis-server.js';
import { recordingLogger, until } from '../../bot/harness.js';
import { testHandover } from './handover.js';

/** BullMQ's hash of each job (our job ids are UUIDs). */
const JOB_KEYS = 'bull:diffedit-edits:????????-????-????-????-????????????';

describe.skipIf(!HAS_REDIS)('RedisBackend', () => {
  let server: RedisServer;
  let client: Redis;
  const backends: RedisBackend[] = [];

  beforeAll(async () => {
    server = await startRedis();
    client = new Redis(server.url);
    // The Redis-away test kills the server under it: ioredis reconnects, and says so only here.
    client.on('error', () => undefined);
  });

  afterEach(async () => {
    for (const backend of backends.splice(0)) await backend.shutdown({ cancelRunning: true });
    await client.flushall();
  });

  afterAll(async () => {
    client.disconnect();
    await server.stop();
  });

  async function backend(options: Partial<RedisBackendOptions> = {}): Promise<RedisBackend> {
    const opened = await RedisBackend.open(backendOptions(server.url, { perUserLimit: 2, globalLimit: 3, maxInlinePictureBytes: 1024, ...options }));
    backends.push(opened);
    return opened;
  }

  const codeOf = (settled: PromiseSettledResult<unknown>) => (settled.status === 'rejected' ? (settled.reason as { code?: string }).code : 'ok');
  const request = (bytes = 16) => ({ image: new Uint8Array(bytes), ref: 'a cat', query: 'a dog' });

  it('two bot processes share the caps: of 10 users asking at once, exactly 3 get a place', async () => {
    const [a, b] = [await backend(), await backend()];
    const users = Array.from({ length: 10 }, (_, i) => `user${i}`);
    const settled = await Promise.allSettled(users.map((user, i) => (i % 2 === 0 ? a : b).reserve(user)));
    expect(settled.map(codeOf).sort()).toEqual([...Array<string>(3).fill('ok'), ...Array<string>(7).fill(ErrorCode.QueueFull)].sort());
    expect(await client.zcard('diffedit:caps:all')).toBe(3);
    // The metrics gauges count the whole queue, whichever process holds the places.
    expect([await a.counts(), await b.counts()]).toEqual([
      { waiting: 3, running: 0 },
      { waiting: 3, running: 0 },
    ]);
  });

  it('one user asking 5 times at once through two processes gets 2 places', async () => {
    const [a, b] = [await backend({ globalLimit: 20 }), await backend({ globalLimit: 20 })];
    const settled = await Promise.allSettled(Array.from({ length: 5 }, (_, i) => (i % 2 === 0 ? a : b).reserve('alice')));
    expect(settled.map(codeOf).sort()).toEqual(['ok', 'ok', ErrorCode.UserQueueFull, ErrorCode.UserQueueFull, ErrorCode.UserQueueFull].sort());
  });

  it('round-robin: alice, alice, bob line up as alice, bob, alice, and everyone is told their place', async () => {
    const queue = await backend({ globalLimit: 20 });
    const positions = new Map<string, number[]>();
    const hooks = (name: string): EditHooks => ({
      onPosition: (p) => positions.set(name, [...(positions.get(name) ?? []), p]),
      onStart: () => undefined,
      onProgress: () => undefined,
    });
    const slots = [await queue.reserve('alice'), await queue.reserve('alice'), await queue.reserve('bob')];
    const names = ['alice1', 'alice2', 'bob1'];
    // One after another (each in line before the next), as users would: concurrent adds may reach Redis in any order.
    const runs: Promise<unknown>[] = [];
    for (const [i, slot] of slots.entries()) {
      const name = names[i] ?? '';
      runs.push(slot.submit(request(), hooks(name), testHandover()));
      await until(() => positions.has(name), 5000, `${name} in line`);
    }
    await until(() => positions.get('alice2')?.at(-1) === 3 && positions.get('bob1')?.at(-1) === 2, 5000, 'positions');
    expect(slots.map((s) => s.position())).toEqual([1, 3, 2]);
    expect(queue.waiting).toBe(3);
    expect(await client.keys(JOB_KEYS)).toHaveLength(3);

    // Shutdown: each waiting job is told, and nothing is left in Redis (no job, no place in the caps).
    await queue.shutdown({ cancelRunning: false });
    for (const settled of await Promise.allSettled(runs)) {
      expect(settled).toMatchObject({ status: 'rejected', reason: { code: ErrorCode.Aborted, message: RESTART_WAITING_MESSAGE } });
    }
    expect(await client.zcard('diffedit:caps:all')).toBe(0);
    expect(await client.keys(JOB_KEYS)).toEqual([]);
    // Their users were told: no pending delivery is left for another bot process to make.
    expect(await client.keys('diffedit:delivery*')).toEqual([]);
  });

  it('no worker alive: a job still waiting after QUEUE_WAIT_MS is withdrawn, its user told, and nothing left in Redis', async () => {
    const queue = await backend({ queueWaitMs: 300 });
    const slot = await queue.reserve('alice');
    await expect(slot.submit(request(), hooks(), testHandover())).rejects.toMatchObject({
      code: ErrorCode.QueueWaitExpired,
      message: 'No GPU worker took your job within 1 second, so it was withdrawn; try again later.',
    });
    expect(await client.keys(JOB_KEYS)).toEqual([]);
    expect(await client.zcard('diffedit:caps:all')).toBe(0);
    expect(await client.keys('diffedit:delivery*')).toEqual([]);
  });

  it('Redis loses its data while a job waits (a restart without persistence): the user is told the job was lost', async () => {
    const logger = recordingLogger();
    const queue = await backend({ logger });
    const slot = await queue.reserve('alice');
    const positions: number[] = [];
    const run = slot.submit(request(), { ...hooks(), onPosition: (p) => positions.push(p) }, testHandover());
    await until(() => positions.length > 0, 5000, 'the job in line');
    await client.flushall();
    await expect(run).rejects.toMatchObject({
      code: ErrorCode.JobLost,
      message: 'Your job was lost because the job queue restarted; run the command again.',
    });
    expect(logger.lines.some((l) => l.msg === 'a queued job is gone from Redis: its user is told it was lost')).toBe(true);
    // New jobs are served at once.
    const next = await queue.reserve('alice');
    await next.release();
  });

  it('Redis away (down, not back) past QUEUE_WAIT_MS + JOB_TIMEOUT_MS: the user is told the job timed out all the same', async () => {
    const queue = await backend({ queueWaitMs: 300, jobTimeoutMs: 300 });
    const slot = await queue.reserve('alice');
    const positions: number[] = [];
    const run = slot.submit(request(), { ...hooks(), onPosition: (p) => positions.push(p) }, testHandover());
    await until(() => positions.length > 0, 5000, 'the job in line');
    await server.kill();
    const killedAt = Date.now();
    try {
      await expect(run).rejects.toMatchObject({ code: ErrorCode.JobTimedOut });
      // Within a poll or two of the deadline (600 ms from queueing), though no Redis call can answer.
      expect(Date.now() - killedAt).toBeLessThan(3000);
    } finally {
      server = await startRedis(server.port);
    }
  });

  it('no worker connected for noWorkerMs: new jobs are refused at once; a worker connecting lifts it', async () => {
    const queue = await backend({ noWorkerMs: 200, heartbeatMs: 50 });
    const refused = async () => {
      for (;;) {
        const attempt = await queue.reserve('alice').then(
          async (slot) => void (await slot.release()),
          (error: unknown) => error,
        );
        if (attempt !== undefined) return attempt;
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    expect(await refused()).toMatchObject({
      code: ErrorCode.NoWorker,
      message: 'No GPU worker is running right now, so the bot cannot take jobs; try again later.',
    });
    expect(queue.workers()).toBe(0);
    const worker = new Worker(EDIT_QUEUE, () => Promise.resolve(undefined), { connection: { url: server.url } });
    try {
      await worker.waitUntilReady();
      await until(() => queue.workers() === 1, 5000, 'the worker to be seen');
      const slot = await queue.reserve('alice');
      await slot.release();
    } finally {
      await worker.close();
    }
  });

  it('jobs adopted from a dead bot process show their places again, even when one could not be read at first, and are bounded too: lost from Redis, their new owner hears so', async () => {
    // The dying process beats once (at start), the next one looks for orphans every 50 ms.
    const [dying, next] = [await backend({ heartbeatMs: 600_000 }), await backend({ heartbeatMs: 50 })];
    const positions: number[] = [];
    for (const user of ['alice', 'bob']) {
      const slot = await dying.reserve(user);
      void slot.submit(request(), { ...hooks(), onPosition: (p) => positions.push(p) }, testHandover()).catch(() => undefined);
    }
    await until(() => positions.length === 2, 5000, 'the jobs in line');
    // A Redis blip as the first adopted job is read: it is followed on a later scan, not dropped with the rest.
    const getJob = vi.spyOn(Queue.prototype, 'getJob').mockRejectedValueOnce(new Error('Connection is closed.'));
    // As the bot does: each orphan is followed until its outcome.
    const adopted: { positions: number[]; outcome: Promise<unknown> }[] = [];
    next.adoptOrphans((orphan) => {
      const followed = { positions: [] as number[], outcome: Promise.resolve() as Promise<unknown> };
      followed.outcome = orphan.follow({ ...hooks(), onPosition: (p) => followed.positions.push(p) });
      adopted.push(followed);
      return followed.outcome.then(
        () => undefined,
        () => undefined,
      );
    });
    // The dying process's heartbeat lapses (a SIGKILL): the next one adopts its deliveries.
    await client.del(...(await client.keys('diffedit:bot:*')));
    await until(() => adopted.length === 2 && adopted.every((a) => a.positions.length > 0), 5000, 'the adopted jobs’ places');
    expect(adopted.map((a) => a.positions).sort()).toEqual([[1], [2]]);
    expect(getJob.mock.calls.length).toBe(3);
    getJob.mockRestore();
    expect(next.waiting).toBe(2);
    await client.flushall();
    for (const { outcome } of adopted) await expect(outcome).rejects.toMatchObject({ code: ErrorCode.JobLost });
  });

  it('warns at start-up when Redis may evict keys (maxmemory-policy other than noeviction)', async () => {
    await client.config('SET', 'maxmemory-policy', 'allkeys-lru');
    try {
      const logger = recordingLogger();
      await backend({ logger });
      expect(logger.lines.filter((l) => l.level === 'warn').map((l) => l.fields['policy'])).toEqual(['allkeys-lru']);
      const quiet = recordingLogger();
      await client.config('SET', 'maxmemory-policy', 'noeviction');
      await backend({ logger: quiet });
      expect(quiet.lines.filter((l) => l.level === 'warn')).toEqual([]);
    } finally {
      await client.config('SET', 'maxmemory-policy', 'noeviction');
    }
  });

  it('a picture above REDIS_MAX_PICTURE_MB is refused clearly and its place given back', async () => {
    const queue = await backend();
    const slot = await queue.reserve('alice');
    await expect(slot.submit(request(2048), hooks(), testHandover())).rejects.toMatchObject({
      code: ErrorCode.ImageTooLarge,
      message: /too large for the queue/,
    });
    expect(await client.zcard('diffedit:caps:all')).toBe(0);
  });
});

function hooks(): EditHooks {
  return { onPosition: () => undefined, onStart: () => undefined, onProgress: () => undefined };
}

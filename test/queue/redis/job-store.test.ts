/**
 * The job store in Redis, on a real redis-server: what the buttons need comes back byte for byte (fields the store
 * does not know included), the byte cap holds with two bot processes saving at once, least recently used jobs go
 * first, and an undelivered result is taken by one process only.
 */
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RedisJobStore } from '../../../src/queue/redis/job-store.js';
import { HAS_REDIS, startRedis, type RedisServer } from './redis-server.js';
import { newJob } from '../../bot/stored-jobs.js';

const KB = 1000;

/** A recognisable picture: every byte tells which job it belongs to. */
const picture = (tag: number, length = 10 * KB) => new Uint8Array(length).map((_, i) => (tag * 31 + i) & 0xff);

describe.skipIf(!HAS_REDIS)('RedisJobStore', () => {
  let server: RedisServer;
  let admin: Redis;
  const clients: Redis[] = [];

  beforeAll(async () => {
    server = await startRedis();
    admin = new Redis(server.url);
  });

  afterEach(async () => {
    for (const client of clients.splice(0)) client.disconnect();
    await admin.flushall();
  });

  afterAll(async () => {
    admin.disconnect();
    await server.stop();
  });

  /** A store as one bot process opens it. */
  function store(maxBytes = 1e9): RedisJobStore {
    const client = new Redis(server.url);
    clients.push(client);
    return new RedisJobStore(client, maxBytes);
  }

  it("saves a job and loads it back, picture bytes and a mask job's mask included, from another process", async () => {
    const latentMask = { width: 4, height: 2, bits: Buffer.from([0b10100101]).toString('base64') };
    const saved = await store().save({ ...newJob({ kind: 'mask' }), latentMask }, picture(7));
    const loaded = await store().load(saved.id);
    expect(loaded?.job).toEqual(saved);
    expect(loaded?.job.latentMask).toEqual(latentMask);
    expect(Buffer.compare(Buffer.from(loaded?.image ?? []), Buffer.from(picture(7)))).toBe(0);
    expect(await store().load('AAAAAAAAAAAAAAAA')).toBeUndefined();
    expect(await store().load('../../etc/passwd')).toBeUndefined();
  });

  it('keeps the byte cap: the least recently used jobs go first, a load counts as a use', async () => {
    const probe = store();
    const one = await probe.save(newJob(), picture(0));
    const perJob = await probe.usedBytes();
    await admin.flushall();

    const capped = store(perJob * 3);
    const [a, b, c] = [await capped.save(newJob(), picture(1)), await capped.save(newJob(), picture(2)), await capped.save(newJob(), picture(3))];
    await capped.load(a.id); // a is now more recent than b
    const d = await capped.save(newJob(), picture(4));
    const kept = await Promise.all([a, b, c, d].map(async (job) => (await capped.load(job.id)) !== undefined));
    expect(kept).toEqual([true, false, true, true]);
    expect(await capped.usedBytes()).toBe(perJob * 3);
    expect(one.id).not.toBe(a.id);
  });

  it('two processes saving 40 jobs at once never leave more than the cap in Redis', async () => {
    const probe = store();
    await probe.save(newJob(), picture(0));
    const perJob = await probe.usedBytes();
    await admin.flushall();

    const [p, q] = [store(perJob * 5), store(perJob * 5)];
    await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? p : q).save(newJob(), picture(i))));
    expect(await p.usedBytes()).toBe(perJob * 5);
    expect(await admin.zcard('diffedit:store:lru')).toBe(5);
    expect(await admin.keys('diffedit:store:job:*')).toHaveLength(5);
  });

  it('an undelivered result counts in the cap, is taken by one process only, and is dropped once delivered', async () => {
    const [p, q] = [store(), store()];
    const job = await p.save(newJob(), picture(1));
    const before = await p.usedBytes();
    await p.keepUndelivered(job.id, picture(9, 3 * KB));
    expect(await p.usedBytes()).toBe(before + 3 * KB);
    expect(await q.undelivered()).toEqual([job.id]);

    const taken = await Promise.all([p.takeUndelivered(job.id), q.takeUndelivered(job.id)]);
    expect(taken.filter((t) => t !== undefined)).toHaveLength(1);
    const [winner] = taken.filter((t) => t !== undefined);
    expect(Buffer.compare(Buffer.from(winner?.result ?? []), Buffer.from(picture(9, 3 * KB)))).toBe(0);

    // Not delivered this time: back in the list for the next start.
    await p.settleUndelivered(job.id, false);
    expect(await q.undelivered()).toEqual([job.id]);
    await q.takeUndelivered(job.id);
    await q.settleUndelivered(job.id, true);
    expect(await p.undelivered()).toEqual([]);
    expect(await p.usedBytes()).toBe(before);
    expect(await p.load(job.id)).toBeDefined();
  });

  it('deleting a job gives its bytes back', async () => {
    const s = store();
    const job = await s.save(newJob(), picture(1));
    await s.keepUndelivered(job.id, picture(2, KB));
    await s.delete(job.id);
    expect([await s.usedBytes(), await s.load(job.id), await s.undelivered()]).toEqual([0, undefined, []]);
  });
});

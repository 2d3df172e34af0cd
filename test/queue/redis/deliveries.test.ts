/**
 * Pending deliveries on a real redis-server: a live process keeps its own, a dead one's are adopted by exactly one
 * other process, and a job is claimed for delivery by one process at a time and never again once settled.
 */
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DeliveryLedger } from '../../../src/queue/redis/deliveries.js';
import { testHandover } from './handover.js';
import { HAS_REDIS, startRedis, type RedisServer } from './redis-server.js';

describe.skipIf(!HAS_REDIS)('DeliveryLedger', () => {
  let server: RedisServer;
  let admin: Redis;
  const ledgers: DeliveryLedger[] = [];
  const clients: Redis[] = [];

  beforeAll(async () => {
    server = await startRedis();
    admin = new Redis(server.url);
  });

  afterEach(async () => {
    for (const ledger of ledgers.splice(0)) await ledger.stop();
    for (const client of clients.splice(0)) client.disconnect();
    await admin.flushall();
  });

  afterAll(async () => {
    admin.disconnect();
    await server.stop();
  });

  async function ledger(owner: string): Promise<DeliveryLedger> {
    const client = new Redis(server.url);
    clients.push(client);
    const opened = new DeliveryLedger(client, owner, 60_000);
    await opened.start();
    ledgers.push(opened);
    return opened;
  }

  const pending = (jobId: string) => ({ jobId, ...testHandover('alice') });

  it('a live owner keeps its deliveries; once its heartbeat is gone exactly one other process adopts each', async () => {
    const [a, b, c] = [await ledger('a'), await ledger('b'), await ledger('c')];
    await a.add(pending('job1'));
    await a.add(pending('job2'));
    expect(await b.adoptOrphans()).toEqual([]);

    await a.stop();
    const adopted = await Promise.all([b.adoptOrphans(), c.adoptOrphans()]);
    expect(
      adopted
        .flat()
        .map((p) => p.jobId)
        .sort(),
    ).toEqual(['job1', 'job2']);
    expect(adopted.flat()[0]).toEqual(expect.objectContaining({ target: pending('x').target, job: pending('x').job }));
    // Adopted by a live process: nobody takes them again.
    expect([await b.adoptOrphans(), await c.adoptOrphans()]).toEqual([[], []]);
  });

  it('one claim at a time, repeatable by its holder; a settled job is never claimed again', async () => {
    const [a, b] = [await ledger('a'), await ledger('b')];
    await a.add(pending('job1'));
    expect(await Promise.all([a.claim('job1', 60_000), b.claim('job1', 60_000)])).toEqual(['ok', 'busy']);
    expect(await a.claim('job1', 60_000)).toBe('ok');
    await a.settle('job1');
    expect([await a.claim('job1', 60_000), await b.claim('job1', 60_000)]).toEqual(['done', 'done']);
    expect(await admin.keys('diffedit:delivery:*')).toEqual([]);
  });

  it('a claim whose holder died mid-delivery lapses, and another process may deliver', async () => {
    const [a, b] = [await ledger('a'), await ledger('b')];
    expect(await a.claim('job1', 50)).toBe('ok');
    await expect.poll(() => b.claim('job1', 60_000), { timeout: 2000, interval: 20 }).toBe('ok');
  });
});

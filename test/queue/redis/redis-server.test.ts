/** The throwaway redis-server the Redis tests run against: loopback only, no persistence, gone after stop(). */
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { HAS_REDIS, startRedis } from './redis-server.js';

describe.skipIf(!HAS_REDIS)('test redis-server', () => {
  it('answers on 127.0.0.1 without persistence and is gone after stop()', async () => {
    const server = await startRedis();
    const client = new Redis(server.url, { maxRetriesPerRequest: 0 });
    try {
      expect(await client.config('GET', 'bind')).toEqual(['bind', '127.0.0.1']);
      expect(await client.config('GET', 'save')).toEqual(['save', '']);
      expect(await client.config('GET', 'appendonly')).toEqual(['appendonly', 'no']);
    } finally {
      client.disconnect();
      await server.stop();
    }
    // Signal 0 only checks whether the process exists.
    expect(() => process.kill(server.pid, 0)).toThrow();
  });
});

/**
 * Test and bench support: RedisBackend options for one bot process against the redis-server at `redisUrl`, with
 * deadlines far beyond any test's length (a test that wants one short passes it in `overrides`).
 */
import type { RedisBackendOptions } from '../../../src/queue/redis/backend.js';
import { silentLogger } from '../../../src/logger.js';

export function backendOptions(redisUrl: string, overrides: Partial<RedisBackendOptions> = {}): RedisBackendOptions {
  return {
    redisUrl,
    perUserLimit: 5,
    globalLimit: 20,
    maxInlinePictureBytes: 2 ** 20,
    reserveTtlMs: 60_000,
    pollMs: 50,
    deliveryClaimMs: 60_000,
    heartbeatMs: 2000,
    queueWaitMs: 600_000,
    jobTimeoutMs: 600_000,
    noWorkerMs: 600_000,
    logger: silentLogger,
    ...overrides,
  };
}

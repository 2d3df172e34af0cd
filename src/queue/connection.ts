/** One way to open Redis for BullMQ and for our own keys, on both sides. */
import { Redis } from 'ioredis';

/**
 * A connection to `url`. BullMQ needs `maxRetriesPerRequest: null` on connections it blocks on; ioredis reconnects
 * on its own with a capped backoff, so a Redis that goes away is waited for, not a crash.
 */
export function openRedis(url: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, retryStrategy: (times) => Math.min(times * 200, 2000) });
}

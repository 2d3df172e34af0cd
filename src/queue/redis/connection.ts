/** One way to open Redis for BullMQ and for our own keys, on both sides. */
import type { ConnectionOptions } from 'bullmq';
import { Redis } from 'ioredis';
import type { Logger } from '../../logger.js';

/** ioredis reconnects on its own with a capped backoff: a Redis that goes away is waited for, not a crash. */
const retryStrategy = (times: number): number => Math.min(times * 200, 2000);

/**
 * Connection options for BullMQ's Queue, QueueEvents and Worker: BullMQ opens (and closes) its own clients from them
 * and listens for their errors. It needs `maxRetriesPerRequest: null` on the connections it blocks on.
 */
export function bullConnection(url: string): ConnectionOptions {
  return { url, maxRetriesPerRequest: null, retryStrategy };
}

/**
 * A client for our own commands (the caps). No offline queue: while Redis is away a command fails at once, so a
 * user is refused in time instead of a job hanging.
 */
export function openRedis(url: string, logger: Logger): Redis {
  const client = new Redis(url, { maxRetriesPerRequest: 1, enableOfflineQueue: false, retryStrategy });
  client.on('error', (error) => logger.warn('redis connection error', { error }));
  return client;
}

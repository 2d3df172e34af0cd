/**
 * Per-user and global caps on waiting jobs, shared by every bot process through Redis. A reservation is a member
 * of two sorted sets (the user's and everyone's) scored by when it expires; one Lua script drops expired ones,
 * counts and adds, so two processes can never both take the last place. Bots add (reserve) and remove (release,
 * on an early exit); the worker removes when the job starts, so the caps count waiting jobs, as in memory mode.
 *
 * Expiry only guards against leaks: a reservation expires if its bot dies while downloading; once the job is in
 * Redis it holds its place until a worker starts it.
 */
import type { Redis } from 'ioredis';
import { queueFull, userQueueFull } from '../refusals.js';
import { KEY_PREFIX } from './protocol.js';

const RESERVE = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[2])
local mine = redis.call('ZCARD', KEYS[1])
if mine >= tonumber(ARGV[4]) then return {'user', mine} end
local all = redis.call('ZCARD', KEYS[2])
if all >= tonumber(ARGV[5]) then return {'all', all} end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
return {'ok', mine + 1}
`;

const userKey = (userId: string) => `${KEY_PREFIX}caps:user:${userId}`;
const ALL_KEY = `${KEY_PREFIX}caps:all`;

/** Caps on waiting jobs, in Redis. */
export class RedisCaps {
  constructor(
    private readonly redis: Redis,
    private readonly limits: { readonly perUser: number; readonly global: number },
  ) {}

  /**
   * Takes a place that expires after `ttlMs` unless held; returns the job's place among its user's waiting jobs
   * (1 for the first), or throws UserQueueFull / QueueFull.
   */
  async reserve(slotId: string, userId: string, ttlMs: number): Promise<number> {
    const now = Date.now();
    const [verdict, count] = (await this.redis.eval(
      RESERVE,
      2,
      userKey(userId),
      ALL_KEY,
      slotId,
      now,
      now + ttlMs,
      this.limits.perUser,
      this.limits.global,
    )) as [string, number];
    if (verdict === 'user') throw userQueueFull(userId, count, this.limits.perUser);
    if (verdict === 'all') throw queueFull(userId, count, this.limits.global);
    return count;
  }

  /** The job is in Redis now: it keeps its place until a worker starts it. */
  async hold(slotId: string, userId: string): Promise<void> {
    await this.redis.multi().zadd(userKey(userId), 'XX', '+inf', slotId).zadd(ALL_KEY, 'XX', '+inf', slotId).exec();
  }

  /** Places taken in all, every bot process's: jobs downloading or waiting for a worker. */
  waiting(): Promise<number> {
    return this.redis.zcount(ALL_KEY, Date.now(), '+inf');
  }

  /** Gives the place back (idempotent). */
  release(slotId: string, userId: string): Promise<void> {
    return releasePlace(this.redis, slotId, userId);
  }
}

/** Gives a reservation's place back (idempotent): what a worker does when the job starts. */
export async function releasePlace(redis: Redis, slotId: string, userId: string): Promise<void> {
  await redis.multi().zrem(userKey(userId), slotId).zrem(ALL_KEY, slotId).exec();
}

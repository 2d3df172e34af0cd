/**
 * The job store in Redis (QUEUE_BACKEND=redis), so that any bot process can answer any button. A job is one hash
 * (`json`: the StoredJob as the file store writes it, whatever fields it has; `img`: the input picture; `out`: a
 * result no route reached; `bytes`: what the job counts in the cap), a sorted set orders jobs by last use, one
 * counter holds the bytes in use, and a set lists the jobs holding an undelivered result. Saving, keeping a result
 * and deleting are Lua scripts that also evict least recently used jobs, so the byte cap holds with several bot
 * processes writing at once.
 */
import type { Redis } from 'ioredis';
import { DiffEditError, ErrorCode } from '../../errors.js';
import { type Logger, silentLogger } from '../../logger.js';
import { KEY_PREFIX } from './protocol.js';
import { isJobId, parseJob, storedJob, type JobStore, type NewJob, type StoredJob } from '../../bot/job-store.js';

const JOB_PREFIX = `${KEY_PREFIX}store:job:`;
const LRU_KEY = `${KEY_PREFIX}store:lru`;
const BYTES_KEY = `${KEY_PREFIX}store:bytes`;
const UNDELIVERED_KEY = `${KEY_PREFIX}store:undelivered`;
/**
 * The LRU order's clock: a counter, not the time, so that every use gets a strictly greater score even within one
 * millisecond or across processes whose clocks differ (equal scores would fall back to ordering by id, at random).
 */
const CLOCK_KEY = `${KEY_PREFIX}store:clock`;
const KEYS = [LRU_KEY, BYTES_KEY, UNDELIVERED_KEY, CLOCK_KEY] as const;

/**
 * Shared by the scripts: KEYS = lru, bytes, undelivered, clock; ARGV[1] = the job prefix, ARGV[2] = the cap. Removes least
 * recently used jobs, never `keep`, until the bytes in use fit the cap; returns how many went.
 */
const EVICT = `
local function remove(id)
  local key = ARGV[1] .. id
  local bytes = tonumber(redis.call('HGET', key, 'bytes') or '0')
  redis.call('DEL', key)
  redis.call('ZREM', KEYS[1], id)
  redis.call('SREM', KEYS[3], id)
  return redis.call('DECRBY', KEYS[2], bytes)
end
local function evict(keep)
  local total = tonumber(redis.call('GET', KEYS[2]) or '0')
  local evicted = 0
  while total > tonumber(ARGV[2]) do
    local oldest = redis.call('ZRANGE', KEYS[1], 0, 1)
    local victim = oldest[1]
    if victim == keep then victim = oldest[2] end
    if victim == nil then break end
    total = remove(victim)
    evicted = evicted + 1
  end
  return evicted
end
`;

/** ARGV[3] = id, [4] = json, [5] = picture, [6] = bytes. */
const SAVE = `${EVICT}
redis.call('HSET', ARGV[1] .. ARGV[3], 'json', ARGV[4], 'img', ARGV[5], 'bytes', ARGV[6])
redis.call('ZADD', KEYS[1], redis.call('INCR', KEYS[4]), ARGV[3])
redis.call('INCRBY', KEYS[2], ARGV[6])
return evict(ARGV[3])
`;

/** ARGV[3] = id, [4] = the result. Returns -1 when the job is gone, else the jobs evicted. */
const KEEP_UNDELIVERED = `${EVICT}
local key = ARGV[1] .. ARGV[3]
if redis.call('EXISTS', key) == 0 then return -1 end
local delta = string.len(ARGV[4]) - redis.call('HSTRLEN', key, 'out')
redis.call('HSET', key, 'out', ARGV[4])
redis.call('HINCRBY', key, 'bytes', delta)
redis.call('INCRBY', KEYS[2], delta)
redis.call('SADD', KEYS[3], ARGV[3])
return evict(ARGV[3])
`;

/** ARGV[3] = id: a use, which makes it the most recently used job (if it is still there). */
const TOUCH = `
if redis.call('ZSCORE', KEYS[1], ARGV[3]) then redis.call('ZADD', KEYS[1], 'XX', redis.call('INCR', KEYS[4]), ARGV[3]) end
return 0
`;

/** ARGV[3] = id. */
const DELETE = `${EVICT}
if redis.call('EXISTS', ARGV[1] .. ARGV[3]) == 1 then remove(ARGV[3]) end
return 0
`;

/** ARGV[3] = id: drops the delivered result. */
const DROP_RESULT = `
local key = ARGV[1] .. ARGV[3]
local bytes = redis.call('HSTRLEN', key, 'out')
if bytes == 0 then return 0 end
redis.call('HDEL', key, 'out')
redis.call('HINCRBY', key, 'bytes', -bytes)
redis.call('DECRBY', KEYS[2], bytes)
return bytes
`;

/** Finished jobs in Redis, with an LRU byte cap shared by every bot process. */
export class RedisJobStore implements JobStore {
  readonly #logger: Logger;

  constructor(
    private readonly redis: Redis,
    private readonly maxBytes: number,
    logger: Logger = silentLogger,
  ) {
    if (!(maxBytes > 0)) throw new RangeError(`maxBytes must be positive, got ${maxBytes}`);
    this.#logger = logger;
  }

  /** Bytes of all jobs together (pictures, JSON and undelivered results), as the cap counts them. */
  async usedBytes(): Promise<number> {
    return Number((await this.redis.get(BYTES_KEY)) ?? 0);
  }

  async save(job: NewJob, image: Uint8Array): Promise<StoredJob> {
    const stored = storedJob(job, image);
    const json = Buffer.from(JSON.stringify(stored));
    const picture = Buffer.from(image.buffer, image.byteOffset, image.byteLength);
    const evicted = await this.run(SAVE, stored.id, json, picture, json.byteLength + image.byteLength);
    if (evicted > 0) this.#logger.info('evicted old jobs', { jobs: evicted });
    return stored;
  }

  async load(id: string): Promise<{ job: StoredJob; image: Uint8Array } | undefined> {
    if (!isJobId(id)) {
      this.#logger.warn('refused a malformed job id', { id: id.slice(0, 100) });
      return undefined;
    }
    const key = JOB_PREFIX + id;
    const replies = await this.redis
      .multi()
      .hgetBuffer(key, 'json')
      .hgetBuffer(key, 'img')
      .eval(TOUCH, KEYS.length, ...KEYS, JOB_PREFIX, this.maxBytes, id)
      .exec();
    const [json, image] = (replies ?? []).map(([, value]) => value) as [Buffer | null, Buffer | null];
    if (json === null || image === null) return undefined;
    const job = parseJob(json.toString('utf8'), id);
    if (job === undefined || job.imageBytes !== image.byteLength) {
      this.#logger.warn('stored job is corrupt', { job: id });
      return undefined;
    }
    return { job, image: new Uint8Array(image) };
  }

  async delete(id: string): Promise<void> {
    if (isJobId(id)) await this.run(DELETE, id);
  }

  async keepUndelivered(id: string, result: Uint8Array): Promise<void> {
    if (!isJobId(id)) throw new RangeError(`not a job id: ${id}`);
    const kept = await this.run(KEEP_UNDELIVERED, id, Buffer.from(result.buffer, result.byteOffset, result.byteLength));
    if (kept < 0) throw new DiffEditError(ErrorCode.StoreFailed, 'The job was evicted before its result could be kept.', { job: id });
  }

  undelivered(): Promise<string[]> {
    return this.redis.smembers(UNDELIVERED_KEY);
  }

  /** Taken by removing it from the set: of two bot processes starting at once, one gets it. */
  async takeUndelivered(id: string): Promise<{ job: StoredJob; result: Uint8Array } | undefined> {
    if ((await this.redis.srem(UNDELIVERED_KEY, id)) !== 1) return undefined;
    const [saved, result] = await Promise.all([this.load(id), this.redis.hgetBuffer(JOB_PREFIX + id, 'out')]);
    return saved === undefined || result === null ? undefined : { job: saved.job, result: new Uint8Array(result) };
  }

  async settleUndelivered(id: string, delivered: boolean): Promise<void> {
    if (delivered) await this.run(DROP_RESULT, id);
    // Only while the job (and its result) is still there: an evicted job is not listed again.
    else if ((await this.redis.hexists(JOB_PREFIX + id, 'out')) === 1) await this.redis.sadd(UNDELIVERED_KEY, id);
  }

  close(): Promise<void> {
    this.redis.disconnect();
    return Promise.resolve();
  }

  private async run(script: string, ...args: (string | number | Buffer)[]): Promise<number> {
    return Number(await this.redis.eval(script, KEYS.length, ...KEYS, JOB_PREFIX, this.maxBytes, ...args));
  }
}

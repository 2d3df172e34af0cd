/**
 * Pending deliveries (QUEUE_BACKEND=redis): what a bot process needs to deliver a job it did not submit, kept in
 * Redis from the moment the job is queued until its user holds the result. Each bot process keeps a heartbeat key
 * alive; a pending delivery whose owner's heartbeat is gone (the process died, or stopped without finishing it) is
 * adopted by the next bot process that looks, in one Lua script, so two processes never both adopt it.
 *
 * Delivery happens at most once per job: the process about to deliver claims the job (a key with a deadline, so a
 * process that dies mid-delivery leaves it to another), and a delivered job leaves a marker for a day. A claim that
 * runs out mid-delivery can only repeat what is idempotent: the edit of the reply, or a post with the same nonce.
 */
import type { Redis } from 'ioredis';
import type { DeliveryTarget } from '../../bot/delivery.js';
import type { NewJob } from '../../bot/job-store.js';
import { KEY_PREFIX } from './protocol.js';

/** A job's delivery, as any bot process can carry it out. */
export interface PendingDelivery {
  /** The queue's job id. */
  readonly jobId: string;
  /** Where and to whom. */
  readonly target: DeliveryTarget;
  /** What the job store keeps for the result's buttons (the picture comes from the queued job). */
  readonly job: NewJob;
}

/** How a claim went. */
export type Claim = 'ok' | 'busy' | 'done';

const ownerKey = (owner: string) => `${KEY_PREFIX}bot:${owner}`;
const recordKey = (jobId: string) => `${KEY_PREFIX}delivery:${jobId}`;
const claimKey = (jobId: string) => `${KEY_PREFIX}delivery-claim:${jobId}`;
const doneKey = (jobId: string) => `${KEY_PREFIX}delivered:${jobId}`;
const INDEX_KEY = `${KEY_PREFIX}deliveries`;
/** How long a delivered job is remembered as delivered: far beyond any retry. */
const DONE_TTL_S = 86_400;

/** KEYS[1] = the index; ARGV[1] = this owner, [2] = the heartbeat prefix, [3] = the record prefix. Returns the adopted records. */
const ADOPT = `
local adopted = {}
for _, jobId in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local key = ARGV[3] .. jobId
  local owner = redis.call('HGET', key, 'owner')
  if not owner then
    redis.call('ZREM', KEYS[1], jobId)
  elseif owner ~= ARGV[1] and redis.call('EXISTS', ARGV[2] .. owner) == 0 then
    redis.call('HSET', key, 'owner', ARGV[1])
    table.insert(adopted, redis.call('HGET', key, 'record'))
  end
end
return adopted
`;

/** KEYS = claim, done; ARGV = owner, ttl ms. */
const CLAIM = `
if redis.call('EXISTS', KEYS[2]) == 1 then return 'done' end
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 'ok' end
if redis.call('GET', KEYS[1]) == ARGV[1] then return 'ok' end
return 'busy'
`;

/** The pending deliveries as one bot process sees them. */
export class DeliveryLedger {
  private heartbeat: NodeJS.Timeout | undefined;

  constructor(
    private readonly redis: Redis,
    /** This bot process. */
    readonly owner: string,
    private readonly heartbeatMs: number,
  ) {}

  /** Keeps this process's heartbeat alive (it lapses after three missed beats). */
  async start(): Promise<void> {
    await this.beat();
    this.heartbeat = setInterval(() => void this.beat().catch(() => undefined), this.heartbeatMs);
  }

  /** Stops the heartbeat and removes it, so other processes adopt what this one leaves at once. */
  async stop(): Promise<void> {
    clearInterval(this.heartbeat);
    await this.redis.del(ownerKey(this.owner)).catch(() => undefined);
  }

  /** Records a delivery this process owns. */
  async add(pending: PendingDelivery): Promise<void> {
    await this.redis
      .multi()
      .hset(recordKey(pending.jobId), 'owner', this.owner, 'record', JSON.stringify(pending))
      .zadd(INDEX_KEY, Date.now(), pending.jobId)
      .exec();
  }

  /** Takes over the deliveries whose owners are gone. */
  async adoptOrphans(): Promise<PendingDelivery[]> {
    const records = (await this.redis.eval(ADOPT, 1, INDEX_KEY, this.owner, ownerKey(''), recordKey(''))) as string[];
    return records.map((record) => JSON.parse(record) as PendingDelivery);
  }

  /** Claims the job's delivery for `ttlMs` (repeatable by the same process). */
  async claim(jobId: string, ttlMs: number): Promise<Claim> {
    return (await this.redis.eval(CLAIM, 2, claimKey(jobId), doneKey(jobId), this.owner, ttlMs)) as Claim;
  }

  /** The user holds the result, or was told why not: the delivery is over. */
  async settle(jobId: string): Promise<void> {
    await this.redis.multi().set(doneKey(jobId), this.owner, 'EX', DONE_TTL_S).del(recordKey(jobId), claimKey(jobId)).zrem(INDEX_KEY, jobId).exec();
  }

  /** Forgets a delivery this process will not make and no other should (the user was told already). */
  async drop(jobId: string): Promise<void> {
    await this.redis.multi().del(recordKey(jobId)).zrem(INDEX_KEY, jobId).exec();
  }

  private async beat(): Promise<void> {
    await this.redis.set(ownerKey(this.owner), String(Date.now()), 'PX', this.heartbeatMs * 3);
  }
}

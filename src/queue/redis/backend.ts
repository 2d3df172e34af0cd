/**
 * QUEUE_BACKEND=redis: edits run on GPU workers (`npm run worker`, any number, any machine) that share one BullMQ
 * queue in Redis. This process keeps Discord, admission and delivery; through Redis go the request with its picture
 * inline, progress (job.updateProgress), and the outcome.
 *
 * Caps: per user and in all, atomically in Redis (caps.ts), so several bot processes share them.
 * Fairness: BullMQ priorities, not per-user lists. A job's priority is its place among its user's waiting jobs when
 * it was reserved (1 for a user's first), and BullMQ takes the lowest priority first, FIFO within one: everyone's
 * first waiting job goes before anyone's second, which is round-robin across users for as long as they keep jobs
 * waiting. Unlike memory mode, a priority is fixed once queued.
 * Positions: this job's rank among the prioritized jobs plus the jobs running, polled while it waits (the same
 * "#N in queue" as memory mode, counting every worker's running job).
 * Restarts: each job's delivery is recorded in Redis when it is queued (deliveries.ts); a bot process that
 * dies leaves it to the next one that looks, which follows the job to its outcome. The finished job (picture and
 * result) stays in BullMQ until its delivery is settled, then is removed.
 */
import { randomUUID } from 'node:crypto';
import { Queue, QueueEvents, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { EditRequest } from '../../engine/engine.js';
import { DiffEditError, ErrorCode, isDiffEditError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { callHook } from '../../util/call-hook.js';
import { settleWithin } from '../../util/settle-within.js';
import { RedisCaps } from './caps.js';
import { bullConnection, openRedis } from './connection.js';
import { DeliveryLedger, type PendingDelivery } from './deliveries.js';
import {
  asProgress,
  checkInlineSize,
  decodeOutcome,
  decodeRequest,
  EDIT_QUEUE,
  encodeRequest,
  type EditJobData,
  type EditOutcome,
} from './protocol.js';
import type { DeliveryGuard, EditBackend, EditHooks, EditOutput, EditSlot, Handover, Orphan } from '../../bot/edit-backend.js';
import { jobLost, jobTimedOut, noWorker, queueWaitExpired, RESTART_WAITING_MESSAGE, SHUTTING_DOWN_MESSAGE } from '../refusals.js';

/** What the backend is built from. */
export interface RedisBackendOptions {
  readonly redisUrl: string;
  readonly perUserLimit: number;
  readonly globalLimit: number;
  readonly maxInlinePictureBytes: number;
  /** How long a reservation holds its place before its job is queued (a download's deadline and some). */
  readonly reserveTtlMs: number;
  /** How often waiting jobs' positions are read. */
  readonly pollMs: number;
  /** How long a claim to deliver a job holds: longer than a delivery's retries (a dead claimant's lapses after it). */
  readonly deliveryClaimMs: number;
  /** This process's heartbeat period; its deliveries are adopted by others three missed beats after it dies. */
  readonly heartbeatMs: number;
  /** QUEUE_WAIT_MS: a job no worker has taken after this long is withdrawn and its user told. */
  readonly queueWaitMs: number;
  /** JOB_TIMEOUT_MS: with queueWaitMs, the most a job may take in all before this process stops waiting for it. */
  readonly jobTimeoutMs: number;
  /** With no worker connected for this long, new jobs are refused at once instead of waiting QUEUE_WAIT_MS for nothing. */
  readonly noWorkerMs: number;
  readonly logger: Logger;
}

/**
 * Redis memory: a finished job keeps its picture and its result (base64) until its delivery is settled, when the bot
 * removes it; these bounds only cap what no bot process came back for (a day, 200 jobs). Failed jobs (only
 * unexplained errors: ours travel as outcomes) stay a day for a look.
 */
const REMOVE_ON_COMPLETE = { age: 86_400, count: 200 };
const REMOVE_ON_FAIL = { age: 86_400, count: 100 };
/** How long closing BullMQ's clients may take at shutdown. */
const CLOSE_MS = 2000;
/** Event stream length: completed events carry the result PNG, so keep the stream short (a few jobs' worth). */
const EVENTS_MAX_LEN = 1000;

/** A job in Redis that this process follows: one it queued, or one adopted from a bot process that died. */
interface LocalJob {
  readonly hooks: EditHooks;
  /** Taken over from a dead bot process: at shutdown it is left to the next one rather than cancelled. */
  readonly adopted: boolean;
  state: 'waiting' | 'running';
  position: number | undefined;
  /** When it was put in Redis (undefined until then): its deadlines count from here. */
  queuedAt: number | undefined;
  /** Rejects once the job is abandoned: raced against its outcome. */
  readonly abandoned: Promise<never>;
  /** Stops waiting for the outcome (shutdown, a deadline, the job lost). */
  abandon(error: DiffEditError): void;
}

/** A job to follow, waiting until told otherwise. */
function localJob(hooks: EditHooks, adopted: boolean, queuedAt: number | undefined): LocalJob {
  return { hooks, adopted, state: 'waiting', position: undefined, queuedAt, ...abandonable() };
}

/** Edits through a shared BullMQ queue. */
export class RedisBackend implements EditBackend {
  private readonly jobs = new Map<string, LocalJob>();
  private reserved = 0;
  private closing = false;
  private closed: Promise<void> | undefined;
  private poll: NodeJS.Timeout | undefined;
  private polling = false;
  private watching = false;
  private looking: NodeJS.Timeout | undefined;
  /** Workers connected when last looked, and when one last was (start-up counts: workers get time to connect). */
  private workersSeen = 0;
  private workerSeenAt = Date.now();
  private adopting: NodeJS.Timeout | undefined;
  /** Deliveries adopted and followed here, not yet settled, by job id: a scan never takes one twice. */
  private readonly adopted = new Set<string>();
  /** Deliveries adopted in Redis whose job could not be read yet: each scan tries them again. */
  private readonly unfollowed = new Map<string, PendingDelivery>();
  private scanning = false;

  private constructor(
    private readonly options: RedisBackendOptions,
    private readonly redis: Redis,
    private readonly caps: RedisCaps,
    private readonly queue: Queue<EditJobData, EditOutcome>,
    private readonly events: QueueEvents,
    private readonly ledger: DeliveryLedger,
  ) {
    events.on('active', ({ jobId }) => this.started(jobId));
    // Back in line (a worker handed it back on shutdown): its place is read again, as for any waiting job.
    events.on('waiting', ({ jobId }) => {
      const job = this.jobs.get(jobId);
      if (job?.state !== 'running') return;
      job.state = 'waiting';
      job.position = undefined;
      void this.updatePositions();
    });
    events.on('progress', ({ jobId, data }) => {
      const progress = asProgress(data);
      const job = this.jobs.get(jobId);
      if (job !== undefined && progress !== undefined) {
        if (job.state === 'waiting') this.started(jobId);
        notify(options.logger, () => job.hooks.onProgress(progress));
      }
    });
  }

  /** Connects to Redis and waits until the queue and its events are ready. */
  static async open(options: RedisBackendOptions): Promise<RedisBackend> {
    const { redisUrl, logger } = options;
    const redis = openRedis(redisUrl, logger);
    const queue = new Queue<EditJobData, EditOutcome>(EDIT_QUEUE, {
      connection: bullConnection(redisUrl),
      streams: { events: { maxLen: EVENTS_MAX_LEN } },
    });
    const events = new QueueEvents(EDIT_QUEUE, { connection: bullConnection(redisUrl) });
    // waitUntilFinished listens once per waiting job: as many as QUEUE_MAX, more than Node's default warning level.
    for (const emitter of [queue, events]) emitter.setMaxListeners(options.globalLimit + 10);
    queue.on('error', (error) => logger.warn('queue connection error', { error }));
    events.on('error', (error) => logger.warn('queue events connection error', { error }));
    await Promise.all([queue.waitUntilReady(), events.waitUntilReady(), redis.status === 'ready' ? undefined : once(redis, 'ready')]);
    await warnOnEviction(redis, logger);
    const ledger = new DeliveryLedger(redis, randomUUID(), options.heartbeatMs);
    await ledger.start();
    const caps = new RedisCaps(redis, { perUser: options.perUserLimit, global: options.globalLimit });
    const backend = new RedisBackend(options, redis, caps, queue, events, ledger);
    backend.lookForWorkers();
    return backend;
  }

  async reserve(userId: string): Promise<EditSlot> {
    if (this.closing) throw new DiffEditError(ErrorCode.ShuttingDown, SHUTTING_DOWN_MESSAGE, { userId });
    const unseenMs = Date.now() - this.workerSeenAt;
    if (unseenMs > this.options.noWorkerMs) throw noWorker(userId, unseenMs);
    const slotId = randomUUID();
    const rank = await this.redisCall(() => this.caps.reserve(slotId, userId, this.options.reserveTtlMs));
    this.reserved++;
    let taken = false;
    const give = async (): Promise<void> => {
      if (taken) return;
      taken = true;
      this.reserved--;
      await this.caps.release(slotId, userId).catch((error: unknown) => this.options.logger.warn('could not release a place', { error }));
    };
    return {
      submit: (request, hooks, handover) => {
        if (taken) return Promise.reject(new Error(`slot ${slotId} was already used`));
        taken = true;
        this.reserved--;
        const outcome = this.submit(slotId, userId, rank, request, hooks, handover).catch(async (error: unknown) => {
          await this.caps.release(slotId, userId).catch(() => undefined);
          // This process tells its user why (or, handed over, another process delivers): no one else should.
          if (!isDiffEditError(error, ErrorCode.HandedOver)) await this.ledger.drop(slotId).catch(() => undefined);
          throw error;
        });
        // As in memory mode: a job cancelled by shutdown before its caller awaits it is no unhandled rejection.
        outcome.catch(() => undefined);
        return outcome;
      },
      position: () => this.jobs.get(slotId)?.position,
      release: give,
      ...this.guard(slotId),
    };
  }

  async counts(): Promise<{ waiting: number; running: number }> {
    const [waiting, running] = await Promise.all([this.caps.waiting(), this.queue.getActiveCount()]);
    return { waiting, running };
  }

  workers(): number {
    return this.workersSeen;
  }

  /** Counts the workers connected to the queue (BullMQ names its worker connections), every heartbeat. */
  private lookForWorkers(): void {
    const look = async (): Promise<void> => {
      try {
        this.workersSeen = await this.queue.getWorkersCount();
        if (this.workersSeen > 0) this.workerSeenAt = Date.now();
      } catch (error) {
        this.options.logger.debug('could not count workers', { error });
      }
    };
    void look();
    this.looking = setInterval(() => void look(), this.options.heartbeatMs);
  }

  adoptOrphans(take: (orphan: Orphan) => Promise<void>): void {
    const scan = async (): Promise<void> => {
      if (this.closing || this.scanning) return;
      this.scanning = true;
      try {
        await this.adoptNow(take);
      } finally {
        this.scanning = false;
      }
    };
    void scan();
    this.adopting ??= setInterval(() => void scan(), this.options.heartbeatMs);
  }

  /** One scan: takes over what dead processes left, then follows each adopted job whose data can be read. */
  private async adoptNow(take: (orphan: Orphan) => Promise<void>): Promise<void> {
    const { logger } = this.options;
    try {
      for (const pending of await this.ledger.adoptOrphans()) {
        logger.info('took over a delivery its bot process left', { job: pending.jobId, user: pending.target.userId });
        this.unfollowed.set(pending.jobId, pending);
      }
    } catch (error) {
      logger.warn('could not look for deliveries left by other bot processes', { error });
    }
    // Adopted in Redis, so no other process will: one whose job cannot be read now is tried again next scan.
    for (const [jobId, pending] of this.unfollowed) {
      if (this.adopted.has(jobId)) continue;
      try {
        const orphan = await this.orphan(pending);
        this.unfollowed.delete(jobId);
        this.adopted.add(jobId);
        void take(orphan).finally(() => this.adopted.delete(jobId));
      } catch (error) {
        logger.warn('could not read an adopted job: trying again', { job: jobId, error });
      }
    }
  }

  /**
   * Claims and settles one job's delivery in Redis; a settled job leaves BullMQ (its picture and result with it).
   * With Redis away at that moment the result is delivered anyway: a repeat is unlikely and idempotent, a loss is not.
   */
  private guard(jobId: string): DeliveryGuard {
    const { logger, deliveryClaimMs } = this.options;
    return {
      claimDelivery: async () => {
        try {
          return (await this.ledger.claim(jobId, deliveryClaimMs)) === 'ok';
        } catch (error) {
          logger.warn('could not claim a delivery in Redis: delivering anyway', { job: jobId, error });
          return true;
        }
      },
      settleDelivery: async () => {
        try {
          await this.ledger.settle(jobId);
          await this.queue.remove(jobId);
        } catch (error) {
          logger.warn('could not settle a delivery in Redis', { job: jobId, error });
        }
      },
    };
  }

  /**
   * An adopted delivery with its job's picture. Followed, the job gets positions and progress as this process's own
   * do, and the same deadlines, counted from when the dead process queued it. A job BullMQ no longer has is lost.
   */
  private async orphan(pending: PendingDelivery): Promise<Orphan> {
    const { jobId } = pending;
    const job: Job<EditJobData, EditOutcome> | undefined = await this.queue.getJob(jobId);
    const follow = async (hooks: EditHooks): Promise<EditOutput> => {
      if (job === undefined) {
        throw new DiffEditError(ErrorCode.JobExpired, 'Your job was lost while the bot restarted; run the command again.', { job: jobId });
      }
      const local = localJob(hooks, true, job.timestamp);
      this.jobs.set(jobId, local);
      try {
        // Running already: shown as started (unread, it is shown so at its next progress report).
        if ((await job.getState().catch(() => 'unknown')) === 'active') this.started(jobId);
        return await this.outcome(job, local);
      } finally {
        this.jobs.delete(jobId);
      }
    };
    const image = job === undefined ? new Uint8Array(0) : decodeRequest(job.data).image;
    return { ...pending, image, follow, ...this.guard(jobId) };
  }

  /** Waits for a followed job's outcome, its position polled while it waits; rejects once it is abandoned. */
  private async outcome(job: Job<EditJobData, EditOutcome>, local: LocalJob): Promise<EditOutput> {
    this.startPolling();
    await this.updatePositions();
    return decodeOutcome(await Promise.race([job.waitUntilFinished(this.events), local.abandoned]));
  }

  get waiting(): number {
    let waiting = this.reserved;
    for (const job of this.jobs.values()) if (job.state === 'waiting') waiting++;
    return waiting;
  }

  get running(): number {
    let running = 0;
    for (const job of this.jobs.values()) if (job.state === 'running') running++;
    return running;
  }

  async shutdown(options: { cancelRunning: boolean }): Promise<void> {
    this.closing = true;
    for (const [jobId, job] of this.jobs) {
      if (job.state !== 'waiting' || job.adopted) continue;
      // 0: a worker has it already (it runs and is waited for like a running job).
      if ((await this.queue.remove(jobId).catch(() => 0)) === 1)
        job.abandon(new DiffEditError(ErrorCode.Aborted, RESTART_WAITING_MESSAGE, { job: jobId }));
    }
    // Left to the next bot process: the worker finishes the job and that process delivers it (pending in Redis).
    // Adopted jobs always are (their users' own bot process is gone already); this process's own when told to.
    for (const [jobId, job] of this.jobs) if (options.cancelRunning || job.adopted) job.abandon(handedOver(jobId));
    while (this.jobs.size > 0) await new Promise((r) => setTimeout(r, 50));
    this.closed ??= this.close();
    await this.closed;
  }

  private async close(): Promise<void> {
    clearInterval(this.poll);
    clearInterval(this.adopting);
    clearInterval(this.looking);
    await this.ledger.stop();
    // Bounded: BullMQ's close waits for its client's 'end', which a client still reconnecting (Redis away, or just
    // back) never emits; the process is on its way out.
    await Promise.allSettled([this.events.close(), this.queue.close()].map((closing) => settleWithin(closing, CLOSE_MS)));
    this.redis.disconnect();
  }

  private async submit(
    slotId: string,
    userId: string,
    rank: number,
    request: EditRequest,
    hooks: EditHooks,
    handover: Handover,
  ): Promise<EditOutput> {
    checkInlineSize(request.image.byteLength, this.options.maxInlinePictureBytes);
    const local = localJob(hooks, false, undefined);
    this.jobs.set(slotId, local);
    try {
      await this.redisCall(() => this.ledger.add({ jobId: slotId, ...handover }));
      const job = await this.redisCall(() =>
        this.queue.add('edit', encodeRequest(slotId, userId, request), {
          jobId: slotId,
          priority: rank,
          removeOnComplete: REMOVE_ON_COMPLETE,
          removeOnFail: REMOVE_ON_FAIL,
        }),
      );
      local.queuedAt = Date.now();
      await this.caps.hold(slotId, userId).catch(() => undefined);
      return await this.outcome(job, local);
    } finally {
      this.jobs.delete(slotId);
    }
  }

  private started(jobId: string): void {
    const job = this.jobs.get(jobId);
    if (job === undefined || job.state === 'running') return;
    job.state = 'running';
    job.position = 1;
    notify(this.options.logger, () => job.hooks.onStart());
  }

  private startPolling(): void {
    this.poll ??= setInterval(() => {
      void this.updatePositions();
      void this.watch();
    }, this.options.pollMs);
  }

  /** Reads the line once and tells each waiting job of ours whose place changed. */
  private async updatePositions(): Promise<void> {
    const waiting = [...this.jobs].filter(([, job]) => job.state === 'waiting');
    if (waiting.length === 0 || this.polling) return;
    this.polling = true;
    try {
      const [line, active] = await Promise.all([this.queue.getRanges(['prioritized'], 0, -1, true), this.queue.getActiveCount()]);
      for (const [jobId, job] of waiting) {
        const index = line.indexOf(jobId);
        if (index === -1 || job.state !== 'waiting') continue;
        const position = index + 1 + active;
        if (position === job.position) continue;
        job.position = position;
        notify(this.options.logger, () => job.hooks.onPosition(position));
      }
    } catch (error) {
      this.options.logger.warn('could not read queue positions', { error });
    } finally {
      this.polling = false;
    }
  }

  /**
   * The bounds on waiting that BullMQ's waitUntilFinished lacks: a job Redis no longer knows (restarted empty) never
   * sends an event, and a queue with no worker never moves. Each of this process's queued jobs is checked every poll.
   */
  private async watch(): Promise<void> {
    if (this.watching) return;
    this.watching = true;
    try {
      for (const [jobId, job] of this.jobs) if (job.queuedAt !== undefined) await this.check(jobId, job, Date.now() - job.queuedAt);
    } finally {
      this.watching = false;
    }
  }

  /**
   * One job's bounds: past QUEUE_WAIT_MS + JOB_TIMEOUT_MS in all (a worker that froze, a lock that keeps lapsing,
   * Redis away) -> told it timed out, whatever the workers still do; lost from Redis -> told so; still waiting past
   * QUEUE_WAIT_MS -> withdrawn and told. Each Redis read is bounded, and the total deadline needs none: while Redis is
   * away (BullMQ's clients queue commands until it is back) the checks go on and the total bound still holds.
   */
  private async check(jobId: string, job: LocalJob, waited: number): Promise<void> {
    const { queueWaitMs, jobTimeoutMs, pollMs, logger } = this.options;
    const ask = <T>(call: Promise<T>): Promise<T> => settleWithin(call, 4 * pollMs);
    try {
      if (waited > queueWaitMs + jobTimeoutMs) {
        // Withdrawn as well, where no worker holds a live lock on it: a frozen worker that thaws (or the stall check
        // that would hand it to another) then finds nothing to compute for a user who has been told already.
        const removed = await ask(this.queue.remove(jobId)).catch(() => 0);
        logger.warn('a job outlived its total deadline: its user is told', { job: jobId, waitedMs: waited, withdrawn: removed === 1 });
        job.abandon(jobTimedOut(queueWaitMs + jobTimeoutMs, { job: jobId }));
        return;
      }
      const state = await ask(this.queue.getJobState(jobId));
      if (state === 'unknown') {
        logger.warn('a queued job is gone from Redis: its user is told it was lost', { job: jobId });
        job.abandon(jobLost({ job: jobId }));
      } else if ((state === 'prioritized' || state === 'waiting') && waited > queueWaitMs && (await ask(this.queue.remove(jobId))) === 1) {
        logger.warn('no worker took a job in time: withdrawn', { job: jobId, waitedMs: waited });
        job.abandon(queueWaitExpired(queueWaitMs, { job: jobId }));
      }
    } catch (error) {
      logger.warn('could not check a queued job', { job: jobId, error });
    }
  }

  /** Runs a Redis call; a connection failure becomes the typed refusal users read. */
  private async redisCall<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      if (isDiffEditError(error)) throw error;
      throw new DiffEditError(
        ErrorCode.QueueUnavailable,
        'The job queue is unavailable right now; try again in a few minutes.',
        { cause: String(error) },
        { cause: error },
      );
    }
  }
}

/**
 * BullMQ needs `maxmemory-policy noeviction`: under any other policy a full Redis silently drops jobs, caps and
 * delivery records (docs/redis-mode.md). Said once at start-up; a Redis that refuses CONFIG (managed ones) is not.
 */
async function warnOnEviction(redis: Redis, logger: Logger): Promise<void> {
  try {
    const [, policy] = (await redis.config('GET', 'maxmemory-policy')) as [string, string];
    if (policy !== 'noeviction') {
      logger.warn('Redis may evict keys (maxmemory-policy is not noeviction): jobs can be lost; see docs/redis-mode.md', { policy });
    }
  } catch (error) {
    logger.debug('could not read Redis maxmemory-policy', { error });
  }
}

/** Stopped waiting at shutdown: the job stays pending in Redis for the next bot process to deliver. */
function handedOver(jobId: string): DiffEditError {
  return new DiffEditError(ErrorCode.HandedOver, 'Left to the next bot process.', { job: jobId });
}

/** Not node:events' once: that rejects on the 'error' events ioredis emits while it retries, and we wait them out. */
function once(emitter: Redis, event: string): Promise<void> {
  return new Promise((resolve) => emitter.once(event, () => resolve()));
}

/** A throwing hook is the caller's bug: log it, never let it break the backend. */
function notify(logger: Logger, call: () => void): void {
  callHook(logger, 'backend hook threw', {}, call);
}

/** A promise that only ever rejects, when `abandon` is called: raced against a job's end to stop waiting for it. */
function abandonable(): { abandoned: Promise<never>; abandon: (error: DiffEditError) => void } {
  let abandon: (error: DiffEditError) => void = () => undefined;
  const abandoned = new Promise<never>((_, reject) => {
    abandon = reject;
  });
  // Abandoned before anything raced it (shutdown or the wait check while the job is still being added, an orphan
  // already known lost): not an unhandled rejection; a later race still sees it.
  abandoned.catch(() => undefined);
  return { abandoned, abandon };
}

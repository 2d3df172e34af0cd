/**
 * A GPU worker (QUEUE_BACKEND=redis): one engine, one job at a time from the shared queue. It gives the job's place
 * in the caps back when the job starts, reports progress (phase and step), stops a job at its deadline, and on
 * close finishes its job or, past the grace period, hands it back to the queue for another worker.
 */
import { UnrecoverableError, WaitingError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { jobTimedOut } from '../refusals.js';
import type { EditRunner } from '../memory/backend.js';
import type { Logger } from '../../logger.js';
import { releasePlace } from './caps.js';
import { bullConnection, openRedis } from './connection.js';
import { decodeRequest, EDIT_QUEUE, encodeError, encodeOutput, type EditJobData, type EditOutcome } from './protocol.js';

/** What a worker is built from. */
export interface EditWorkerOptions {
  readonly redisUrl: string;
  readonly engine: EditRunner;
  readonly jobTimeoutMs: number;
  /** BullMQ's lock on a job; a dead worker's job is taken again after about this long. */
  readonly lockMs: number;
  readonly logger: Logger;
}

/** A running worker. */
export class EditWorker {
  private readonly worker: Worker<EditJobData, EditOutcome>;
  private readonly redis: Redis;
  /** Aborted when close() gives up waiting: the running job is handed back. */
  private readonly handBack = new AbortController();
  /** The running jobs' "lock lost" switches, by job id: another worker has the job, so this one stops computing it. */
  private readonly lockLost = new Map<string, AbortController>();

  constructor(private readonly options: EditWorkerOptions) {
    const { redisUrl, lockMs, logger } = options;
    this.redis = openRedis(redisUrl, logger);
    this.worker = new Worker<EditJobData, EditOutcome>(EDIT_QUEUE, (job, token) => this.process(job, token), {
      connection: bullConnection(redisUrl),
      concurrency: 1,
      lockDuration: lockMs,
      // Look for dead workers' jobs as often as their locks can expire.
      stalledInterval: lockMs,
    });
    this.worker.on('error', (error) => logger.warn('worker error', { error }));
    this.worker.on('stalled', (jobId) => logger.warn('a job lost its worker: taken again', { job: jobId }));
    // This process was frozen (SIGSTOP, a hung driver) past its lock: the job is another worker's now.
    this.worker.on('lockRenewalFailed', (jobIds) => {
      for (const jobId of jobIds) this.lockLost.get(jobId)?.abort();
    });
  }

  /** Resolves once the worker is connected and taking jobs. */
  async ready(): Promise<void> {
    await this.worker.waitUntilReady();
  }

  /** Stops taking jobs; waits up to `graceMs` for the running one, then hands it back to the queue. */
  async close(graceMs: number): Promise<void> {
    const closing = this.worker.close();
    const timer = setTimeout(() => this.handBack.abort(), graceMs);
    try {
      await closing;
    } finally {
      clearTimeout(timer);
      this.redis.disconnect();
    }
  }

  private async process(job: Job<EditJobData, EditOutcome>, token: string | undefined): Promise<EditOutcome> {
    const { engine, jobTimeoutMs, logger } = this.options;
    const { slotId, userId } = job.data;
    const started = Date.now();
    logger.info('job started', { job: job.id, user: userId, attempt: job.attemptsStarted });
    await releasePlace(this.redis, slotId, userId);
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), jobTimeoutMs);
    const lost = new AbortController();
    this.lockLost.set(String(job.id), lost);
    const signal = AbortSignal.any([deadline.signal, this.handBack.signal, lost.signal]);
    try {
      const result = await engine.run(decodeRequest(job.data), {
        signal,
        onProgress: (progress) => {
          job.updateProgress({ ...progress }).catch((error: unknown) => logger.warn('progress report failed', { job: job.id, error }));
        },
      });
      logger.info('job done', { job: job.id, user: userId, ms: Date.now() - started });
      return encodeOutput(result);
    } catch (error) {
      if (lost.signal.aborted) {
        // Not ours to finish or to fail: BullMQ refuses either without the lock; the worker takes new work.
        logger.warn("lost the job's lock to another worker: stopped computing it", { job: job.id });
        throw error;
      }
      if (this.handBack.signal.aborted) {
        logger.warn('shutting down: job handed back to the queue', { job: job.id });
        await job.moveToWait(token);
        throw new WaitingError();
      }
      if (deadline.signal.aborted) return encodeError(jobTimedOut(jobTimeoutMs, { job: job.id, userId }));
      logger.error('job failed', { job: job.id, user: userId, error });
      try {
        return encodeError(error);
      } catch {
        // Not ours to explain: fail the job without retries; the bot tells its user with a logged reference.
        throw new UnrecoverableError(error instanceof Error ? error.message : String(error));
      }
    } finally {
      clearTimeout(timer);
      this.lockLost.delete(String(job.id));
    }
  }
}

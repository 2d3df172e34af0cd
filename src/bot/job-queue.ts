/**
 * The line in front of the one engine: a p-queue with concurrency 1, plus per-user and global caps on waiting jobs,
 * position reports for the "you are #3" status line, cancellation, and a graceful shutdown.
 */
import PQueue from 'p-queue';
import { DiffEditError, ErrorCode } from '../errors.js';
import { type Logger, silentLogger } from '../logger.js';

/** Hooks a caller passes to follow its job. */
export interface QueueCallbacks {
  /**
   * The job's new 1-based place, counting the running job (the first job waiting behind a running one is #2), called
   * whenever it changes. Not called for the place at enqueue time: read {@link JobQueue.positionOf} for that.
   */
  onPosition?(position: number): void;
  /** The job leaves the line and its task starts. */
  onStart?(): void;
}

/** A job handed to {@link JobQueue.enqueue}. */
export interface QueuedJob<T> {
  /** Settles with the task's outcome, or rejects with Aborted when the job is cancelled before it starts. */
  readonly promise: Promise<T>;
  /** Identifies the job for {@link JobQueue.positionOf}. */
  readonly id: number;
  /** Removes a waiting job (its promise rejects with Aborted) or aborts a running job's signal; no-op once done. */
  cancel(reason?: string): void;
}

/** Options of {@link JobQueue}. */
export interface JobQueueOptions {
  /** Waiting (not yet started) jobs one user may have; default {@link DEFAULT_PER_USER_LIMIT}. */
  readonly perUserLimit?: number;
  /** Waiting jobs in all; default {@link DEFAULT_GLOBAL_LIMIT}. */
  readonly globalLimit?: number;
  /** Where queue events go (debug level); default silent. */
  readonly logger?: Logger;
}

/** Default {@link JobQueueOptions.perUserLimit}. */
export const DEFAULT_PER_USER_LIMIT = 2;

/** Default {@link JobQueueOptions.globalLimit}. */
export const DEFAULT_GLOBAL_LIMIT = 20;

type State = 'waiting' | 'running' | 'done';

interface Entry {
  readonly id: number;
  readonly userId: string;
  readonly callbacks: QueueCallbacks;
  /** Aborted to take a waiting job out of p-queue. */
  readonly unqueue: AbortController;
  /** The signal the task sees. */
  readonly run: AbortController;
  state: State;
  lastPosition: number | undefined;
}

/** Runs one job at a time, in arrival order. */
export class JobQueue {
  readonly #queue = new PQueue({ concurrency: 1 });
  readonly #perUserLimit: number;
  readonly #globalLimit: number;
  readonly #logger: Logger;
  /** Waiting jobs in arrival order: p-queue's order too, since every job has the same priority. */
  readonly #waiting: Entry[] = [];
  #running: Entry | undefined;
  #nextId = 1;
  #closing = false;

  constructor(options: JobQueueOptions = {}) {
    this.#perUserLimit = positiveInteger('perUserLimit', options.perUserLimit ?? DEFAULT_PER_USER_LIMIT);
    this.#globalLimit = positiveInteger('globalLimit', options.globalLimit ?? DEFAULT_GLOBAL_LIMIT);
    this.#logger = options.logger ?? silentLogger;
  }

  /**
   * Queues `task`, which gets an AbortSignal aborted on cancel or forced shutdown. Throws synchronously, before
   * queueing anything, a DiffEditError UserQueueFull / QueueFull / ShuttingDown. When the queue is idle the task
   * starts (and onStart fires) before this returns.
   */
  enqueue<T>(userId: string, task: (signal: AbortSignal) => Promise<T>, callbacks: QueueCallbacks = {}): QueuedJob<T> {
    if (this.#closing) {
      throw new DiffEditError(ErrorCode.ShuttingDown, 'The bot is restarting and takes no new jobs right now; try again in a minute.');
    }
    const mine = this.#waiting.filter((entry) => entry.userId === userId).length;
    if (mine >= this.#perUserLimit) {
      throw new DiffEditError(
        ErrorCode.UserQueueFull,
        `You already have ${mine} ${mine === 1 ? 'job' : 'jobs'} waiting; wait for one to start before adding another.`,
        { userId, waiting: mine, limit: this.#perUserLimit },
      );
    }
    if (this.#waiting.length >= this.#globalLimit) {
      throw new DiffEditError(ErrorCode.QueueFull, 'The queue is full right now; try again in a few minutes.', {
        waiting: this.#waiting.length,
        limit: this.#globalLimit,
      });
    }

    const entry: Entry = {
      id: this.#nextId++,
      userId,
      callbacks,
      unqueue: new AbortController(),
      run: new AbortController(),
      state: 'waiting',
      lastPosition: undefined,
    };
    // Registered before add(): p-queue may start the task synchronously.
    this.#waiting.push(entry);
    entry.lastPosition = this.positionOf(entry.id);
    this.#logger.debug('job queued', { job: entry.id, user: userId, position: entry.lastPosition });

    const promise = this.#queue.add(() => this.#execute(entry, task), { signal: entry.unqueue.signal });
    // A job cancelled (e.g. by shutdown) before its caller got round to awaiting it must not count as an unhandled
    // rejection, which would end the process; the caller still sees the rejection on `promise`.
    promise.catch(() => undefined);
    return { promise, id: entry.id, cancel: (reason) => this.#cancel(entry, reason) };
  }

  /** Place of a job (1 = running, or next when nothing runs), undefined when done, cancelled or unknown. */
  positionOf(id: number): number | undefined {
    if (this.#running?.id === id) return 1;
    const index = this.#waiting.findIndex((entry) => entry.id === id);
    return index === -1 ? undefined : index + 1 + (this.#running === undefined ? 0 : 1);
  }

  /** Jobs waiting to start. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /** Jobs running: 0 or 1. */
  get running(): number {
    return this.#running === undefined ? 0 : 1;
  }

  /**
   * Stops taking jobs (enqueue throws ShuttingDown), cancels waiting ones (their promises reject with Aborted), and
   * either waits for the running one or, with `cancelRunning`, aborts its signal; resolves when idle. May be called
   * again, e.g. with `cancelRunning: true` once a grace period has passed.
   */
  async shutdown(options: { cancelRunning: boolean }): Promise<void> {
    this.#closing = true;
    for (const entry of [...this.#waiting]) this.#cancel(entry, 'The bot is restarting; your job was cancelled. Try again in a minute.');
    if (options.cancelRunning && this.#running !== undefined) {
      this.#cancel(this.#running, 'The bot is restarting; your job was stopped. Try again in a minute.');
    }
    await this.#queue.onIdle();
  }

  async #execute<T>(entry: Entry, task: (signal: AbortSignal) => Promise<T>): Promise<T> {
    this.#remove(entry);
    entry.state = 'running';
    this.#running = entry;
    this.#logger.debug('job started', { job: entry.id, user: entry.userId, waiting: this.#waiting.length });
    this.#notify(entry, 'onStart', () => entry.callbacks.onStart?.());
    this.#reportPositions();
    const started = Date.now();
    try {
      return await task(entry.run.signal);
    } catch (error) {
      this.#logger.debug('job failed', { job: entry.id, error });
      throw error;
    } finally {
      entry.state = 'done';
      this.#running = undefined;
      this.#logger.debug('job ended', { job: entry.id, ms: Date.now() - started });
      this.#reportPositions();
    }
  }

  #cancel(entry: Entry, reason = 'The job was cancelled.'): void {
    const error = new DiffEditError(ErrorCode.Aborted, reason, { job: entry.id });
    if (entry.state === 'waiting') {
      entry.state = 'done';
      this.#remove(entry);
      // p-queue drops the task and rejects the job's promise with this reason.
      entry.unqueue.abort(error);
      this.#logger.debug('waiting job cancelled', { job: entry.id, reason });
      this.#reportPositions();
    } else if (entry.state === 'running' && !entry.run.signal.aborted) {
      // The task decides how fast it stops; the queue stays busy until it has, so the engine never runs two jobs.
      entry.run.abort(error);
      this.#logger.debug('running job aborted', { job: entry.id, reason });
    }
  }

  #remove(entry: Entry): void {
    const index = this.#waiting.indexOf(entry);
    if (index !== -1) this.#waiting.splice(index, 1);
  }

  /** Tells every waiting job whose place changed. */
  #reportPositions(): void {
    for (const entry of [...this.#waiting]) {
      const position = this.positionOf(entry.id);
      if (position === undefined || position === entry.lastPosition) continue;
      entry.lastPosition = position;
      this.#notify(entry, 'onPosition', () => entry.callbacks.onPosition?.(position));
    }
  }

  /** A throwing callback is the caller's bug: log it, never let it break the queue. */
  #notify(entry: Entry, name: string, call: () => void): void {
    try {
      call();
    } catch (error) {
      this.#logger.warn(`queue ${name} callback threw`, { job: entry.id, error });
    }
  }
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, got ${value}`);
  return value;
}

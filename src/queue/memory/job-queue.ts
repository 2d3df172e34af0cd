/**
 * The line in front of the one engine: one job runs at a time, the others wait their turn.
 *
 * A job's life is a straight line for the caller:
 *
 *     const ticket = queue.reserve(userId);   // admission: throws ShuttingDown / UserQueueFull / QueueFull at once
 *     await interaction.deferReply();
 *     const image = await download(...);      // outside the engine's slot, but the ticket counts toward the caps
 *     const result = await ticket.run((signal) => engine.run(..., signal), { onPosition, onStart });
 *     // on any early exit before run(): ticket.release()
 *
 * A ticket is reserved (counted, not yet in line), then queued (in line), then running, then done. The caps on waiting
 * jobs count reserved and queued tickets, so a user cannot get round them by starting many downloads at once.
 *
 * Fairness: round-robin across users, FIFO within a user. Every run() call and every time a job leaves the engine
 * takes the next number of a monotonic sequence (no wall time). A user with queued jobs is keyed by
 * max(sequence when their last job left the engine, sequence when their oldest queued job was queued), i.e. the
 * moment since which they have been waiting without a job, and the smallest key goes next. "Left the engine" rather
 * than "started": with concurrency 1 no other job starts in between, but other users do queue in between, and a user
 * whose job just finished must go behind them (A queues a1, a2, a3, then B queues b1 while a1 runs: a1, b1, a2, a3).
 * A user's "left" number is kept only while they have queued jobs; once their line is empty, any later job is queued
 * after it anyway.
 *
 * Positions are not stored: {@link JobQueue} simulates the order in which the queued jobs would start given the current
 * state (no new arrivals), and the engine picks the first of that same simulation, so what a user is told and what
 * happens cannot drift apart. After every change (queue, start, cancel, end) each queued job whose place changed gets
 * onPosition.
 *
 * Deadlines: with `jobTimeoutMs`, a running task's signal is aborted with JobTimedOut when its time is up, run()
 * rejects at once, and the queue moves on even if the task never settles: a hung engine call must not stall everyone.
 * A forced shutdown abandons the running task the same way, so the bot can exit within its grace period.
 *
 * Hand-written rather than p-queue: p-queue's value is its scheduler, and here the scheduler is the whole point
 * (fair pick at the moment a slot frees, simulated positions, abandoning a task that never settles, resolving a
 * forced shutdown without waiting for it). With p-queue those would all live beside it anyway, and its own bookkeeping
 * (pending count, onIdle) would wait for abandoned tasks. What remains for it, a mutex of one, is a field.
 */
import { DiffEditError, ErrorCode } from '../../errors.js';
import { type Logger, silentLogger } from '../../logger.js';
import { callHook } from '../../util/call-hook.js';
import { jobTimedOut, queueFull, RESTART_RUNNING_MESSAGE, RESTART_WAITING_MESSAGE, SHUTTING_DOWN_MESSAGE, userQueueFull } from '../refusals.js';

/** Hooks a caller passes to {@link Ticket.run} to follow its job. Throwing ones are logged and ignored. */
export interface QueueCallbacks {
  /**
   * The job's new 1-based place, counting the running job (the first job waiting behind a running one is #2), called
   * whenever it changes while the job is queued. Not called for the place at run() time: read
   * {@link Ticket.position} for that.
   */
  onPosition?(position: number): void;
  /** The job leaves the line and its task starts (called just before the task). */
  onStart?(): void;
}

/** A place in the queue, taken by {@link JobQueue.reserve}. */
export interface Ticket {
  /** Identifies the job in logs and error details. */
  readonly id: number;
  /** Whose job it is: the caps and the round-robin are per user. */
  readonly userId: string;
  /**
   * Puts the job in line; `task` gets an AbortSignal aborted on cancel, deadline or forced shutdown. Resolves with the
   * task's value; rejects with DiffEditError Aborted (cancelled, shutdown), JobTimedOut (deadline), or the task's own
   * error. On an idle queue the task starts (and onStart fires) before this returns. Call at most once.
   */
  run<T>(task: (signal: AbortSignal) => Promise<T>, callbacks?: QueueCallbacks): Promise<T>;
  /** 1-based place counting the running job; undefined while only reserved (not yet run()) or once done. */
  position(): number | undefined;
  /** Gives the reservation back (no-op once run() was called, or once done). */
  release(): void;
  /**
   * Cancels: a reserved or queued job's run() rejects with Aborted (`reason` as its message); a running job's signal
   * is aborted with that error, and the engine's slot stays taken until the task settles (or its deadline passes).
   * No-op once done.
   */
  cancel(reason?: string): void;
}

/** Options of {@link JobQueue}. */
export interface JobQueueOptions {
  /** Waiting (reserved or queued, not running) jobs one user may have; default {@link DEFAULT_PER_USER_LIMIT}. */
  readonly perUserLimit?: number;
  /** Waiting jobs in all; default {@link DEFAULT_GLOBAL_LIMIT}. */
  readonly globalLimit?: number;
  /** How long a running task may take before it is aborted and abandoned; default: no deadline. */
  readonly jobTimeoutMs?: number;
  /** Where queue events go (debug level; warn for deadlines and throwing callbacks); default silent. */
  readonly logger?: Logger;
}

/** Default {@link JobQueueOptions.perUserLimit}. */
export const DEFAULT_PER_USER_LIMIT = 2;

/** Default {@link JobQueueOptions.globalLimit}. */
export const DEFAULT_GLOBAL_LIMIT = 20;

/** setTimeout fires at once for longer delays. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

const DEFAULT_CANCEL_MESSAGE = 'The job was cancelled.';

type State = 'reserved' | 'queued' | 'running' | 'done';

interface Entry {
  readonly id: number;
  readonly userId: string;
  state: State;
  /** Set when cancelled while reserved: run() rejects with it. */
  cancelled: DiffEditError | undefined;
  /** run() was called. */
  ran: boolean;
  /** Sequence number taken at run(). */
  queuedSeq: number;
  callbacks: QueueCallbacks;
  task: ((signal: AbortSignal) => Promise<unknown>) | undefined;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  /** The signal the task sees; created at start. */
  controller: AbortController | undefined;
  timer: ReturnType<typeof setTimeout> | undefined;
  startedAt: number;
  /** Last place reported through onPosition (or read at run() time). */
  lastPosition: number | undefined;
}

/** A user with queued jobs. */
interface UserLine {
  /** Queued jobs, oldest first. */
  readonly queue: Entry[];
  /** Sequence number when this user's last job left the engine while this line existed; -Infinity if none. */
  lastLeft: number;
}

/** Runs one job at a time, round-robin across users, FIFO within a user. */
export class JobQueue {
  readonly #perUserLimit: number;
  readonly #globalLimit: number;
  readonly #jobTimeoutMs: number | undefined;
  readonly #logger: Logger;
  /** Reserved and queued tickets: what the caps count. */
  readonly #waiting = new Set<Entry>();
  /** Users with queued jobs, by user id. */
  readonly #lines = new Map<string, UserLine>();
  #running: Entry | undefined;
  #seq = 0;
  #nextId = 1;
  #closing = false;
  /** Bumped by every position report, so an outer report stops when a callback triggered a newer one. */
  #reportGeneration = 0;
  /** Shutdown calls waiting for the engine to be free. */
  #idleWaiters: Array<() => void> = [];

  constructor(options: JobQueueOptions = {}) {
    this.#perUserLimit = positiveInteger('perUserLimit', options.perUserLimit ?? DEFAULT_PER_USER_LIMIT);
    this.#globalLimit = positiveInteger('globalLimit', options.globalLimit ?? DEFAULT_GLOBAL_LIMIT);
    if (options.jobTimeoutMs !== undefined && positiveInteger('jobTimeoutMs', options.jobTimeoutMs) > MAX_TIMEOUT_MS) {
      throw new RangeError(`jobTimeoutMs must be at most ${MAX_TIMEOUT_MS}, got ${options.jobTimeoutMs}`);
    }
    this.#jobTimeoutMs = options.jobTimeoutMs;
    this.#logger = options.logger ?? silentLogger;
  }

  /**
   * Takes a place for `userId`'s next job, or throws a DiffEditError ShuttingDown / UserQueueFull / QueueFull. The
   * ticket counts toward both caps until it starts running, is released or cancelled.
   */
  reserve(userId: string): Ticket {
    if (this.#closing) throw new DiffEditError(ErrorCode.ShuttingDown, SHUTTING_DOWN_MESSAGE, { userId });
    let mine = 0;
    for (const entry of this.#waiting) if (entry.userId === userId) mine++;
    if (mine >= this.#perUserLimit) throw userQueueFull(userId, mine, this.#perUserLimit);
    if (this.#waiting.size >= this.#globalLimit) throw queueFull(userId, this.#waiting.size, this.#globalLimit);

    const entry: Entry = {
      id: this.#nextId++,
      userId,
      state: 'reserved',
      cancelled: undefined,
      ran: false,
      queuedSeq: 0,
      callbacks: {},
      task: undefined,
      resolve: () => undefined,
      reject: () => undefined,
      controller: undefined,
      timer: undefined,
      startedAt: 0,
      lastPosition: undefined,
    };
    this.#waiting.add(entry);
    this.#logger.debug('job reserved', { job: entry.id, user: userId, waiting: this.#waiting.size });
    return {
      id: entry.id,
      userId,
      run: (task, callbacks) => this.#run(entry, task, callbacks),
      position: () => this.#positionOf(entry),
      release: () => this.#release(entry),
      cancel: (reason) => this.#cancel(entry, reason ?? DEFAULT_CANCEL_MESSAGE),
    };
  }

  /** Jobs not running yet: reserved (e.g. still downloading) and queued. */
  get waiting(): number {
    return this.#waiting.size;
  }

  /** Jobs running: 0 or 1. */
  get running(): number {
    return this.#running === undefined ? 0 : 1;
  }

  /**
   * Stops taking reservations (reserve throws ShuttingDown), cancels every reserved and queued job (their run()
   * rejects with Aborted, at once or as soon as it is called), then either waits for the running job (which may still
   * hit its deadline) or, with `cancelRunning`, aborts its signal, rejects its run() with Aborted and resolves without
   * waiting for the task. May be called again, e.g. with `cancelRunning: true` once a grace period has passed; an
   * earlier call still waiting resolves then too.
   */
  async shutdown(options: { cancelRunning: boolean }): Promise<void> {
    if (!this.#closing) {
      this.#closing = true;
      this.#logger.debug('queue shutting down', { waiting: this.#waiting.size, running: this.running });
    }
    // Nobody is left to move up: no position reports while emptying the line.
    for (const entry of [...this.#waiting]) this.#cancel(entry, RESTART_WAITING_MESSAGE, false);
    const running = this.#running;
    if (options.cancelRunning && running !== undefined) {
      this.#abandon(running, new DiffEditError(ErrorCode.Aborted, RESTART_RUNNING_MESSAGE, { job: running.id, userId: running.userId }));
    }
    if (this.#running === undefined) return;
    await new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
  }

  #run<T>(entry: Entry, task: (signal: AbortSignal) => Promise<T>, callbacks: QueueCallbacks = {}): Promise<T> {
    if (entry.ran) return Promise.reject(new Error(`run() was already called on ticket ${entry.id}`));
    entry.ran = true;
    if (entry.cancelled !== undefined) return Promise.reject(entry.cancelled);
    if (entry.state !== 'reserved') return Promise.reject(new Error(`ticket ${entry.id} was released; reserve a new one`));

    const promise = new Promise<T>((resolve, reject) => {
      entry.resolve = (value) => resolve(value as T);
      entry.reject = reject;
    });
    // A job cancelled (e.g. by shutdown) before its caller got round to awaiting it must not count as an unhandled
    // rejection, which would end the process; the caller still sees the rejection on the promise it got.
    promise.catch(() => undefined);

    entry.state = 'queued';
    entry.task = task;
    entry.callbacks = callbacks;
    entry.queuedSeq = ++this.#seq;
    let line = this.#lines.get(entry.userId);
    if (line === undefined) {
      line = { queue: [], lastLeft: -Infinity };
      this.#lines.set(entry.userId, line);
    }
    line.queue.push(entry);
    entry.lastPosition = this.#positionOf(entry);
    this.#logger.debug('job queued', { job: entry.id, user: entry.userId, position: entry.lastPosition });

    this.#pump();
    // A newcomer may go ahead of others under round-robin: tell them (no-op when it started at once, see #start).
    if (entry.state === 'queued') this.#reportPositions();
    return promise;
  }

  #release(entry: Entry): void {
    if (entry.state !== 'reserved') return;
    entry.state = 'done';
    this.#waiting.delete(entry);
    this.#logger.debug('job reservation released', { job: entry.id, user: entry.userId });
  }

  #cancel(entry: Entry, reason: string, report = true): void {
    const error = new DiffEditError(ErrorCode.Aborted, reason, { job: entry.id, userId: entry.userId });
    switch (entry.state) {
      case 'reserved':
        entry.state = 'done';
        entry.cancelled = error;
        this.#waiting.delete(entry);
        this.#logger.debug('reserved job cancelled', { job: entry.id, reason });
        return;
      case 'queued':
        entry.state = 'done';
        this.#unqueue(entry);
        this.#logger.debug('queued job cancelled', { job: entry.id, reason });
        entry.reject(error);
        if (report) this.#reportPositions();
        return;
      case 'running':
        // The task decides how fast it stops; the slot stays taken until it has (or its deadline passes), so the
        // engine never runs two jobs.
        if (entry.controller !== undefined && !entry.controller.signal.aborted) {
          this.#logger.debug('running job aborted', { job: entry.id, reason });
          entry.controller.abort(error);
        }
        return;
      case 'done':
        return;
    }
  }

  /** Takes a queued entry out of its user's line and out of the counts. */
  #unqueue(entry: Entry): void {
    this.#waiting.delete(entry);
    const line = this.#lines.get(entry.userId);
    if (line === undefined) return;
    const index = line.queue.indexOf(entry);
    if (index !== -1) line.queue.splice(index, 1);
    if (line.queue.length === 0) this.#lines.delete(entry.userId);
  }

  /** Starts the fairest queued job if the engine is free; otherwise, or with nothing queued, wakes shutdown. */
  #pump(): void {
    if (this.#running === undefined) {
      const next = this.#order()[0];
      if (next !== undefined) this.#start(next);
    }
    if (this.#running === undefined && this.#idleWaiters.length > 0) {
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const wake of waiters) wake();
    }
  }

  #start(entry: Entry): void {
    this.#unqueue(entry);
    entry.state = 'running';
    this.#running = entry;
    const controller = new AbortController();
    entry.controller = controller;
    entry.startedAt = Date.now();
    this.#logger.debug('job started', { job: entry.id, user: entry.userId, waiting: this.#waiting.size });
    if (this.#jobTimeoutMs !== undefined) {
      const timeoutMs = this.#jobTimeoutMs;
      entry.timer = setTimeout(() => {
        entry.timer = undefined;
        this.#logger.warn('job passed its deadline: aborted and abandoned', { job: entry.id, user: entry.userId, timeoutMs });
        this.#abandon(entry, jobTimedOut(timeoutMs, { job: entry.id, userId: entry.userId }));
      }, timeoutMs);
    }
    this.#notify(entry, 'onStart', () => entry.callbacks.onStart?.());

    // onStart may have cancelled or shut down; an abandoned job's task is not started at all.
    if (entry.state === 'running') {
      const task = entry.task;
      entry.task = undefined;
      let outcome: Promise<unknown>;
      try {
        outcome = task === undefined ? Promise.resolve(undefined) : Promise.resolve(task(controller.signal));
      } catch (error) {
        // The task's own thrown value, passed on unchanged as a synchronous throw would be.
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
        outcome = Promise.reject(error);
      }
      // Handled right away, so an abandoned task that rejects later is never an unhandled rejection.
      void outcome.then(
        (value) => this.#settled(entry, () => entry.resolve(value)),
        (error: unknown) => this.#settled(entry, () => entry.reject(error), error),
      );
    }
    this.#reportPositions();
  }

  /** The task settled: hand its outcome over, free the engine and start the next job. */
  #settled(entry: Entry, settle: () => void, error?: unknown): void {
    if (entry.state !== 'running') {
      this.#logger.debug('abandoned job settled', { job: entry.id, ...(error === undefined ? {} : { error }) });
      return;
    }
    this.#leave(entry);
    if (error === undefined) this.#logger.debug('job ended', { job: entry.id, ms: Date.now() - entry.startedAt });
    else this.#logger.debug('job failed', { job: entry.id, ms: Date.now() - entry.startedAt, error });
    settle();
    this.#pump();
  }

  /** Gives up on a running job: aborts its signal, rejects its run() with `error` and moves on without waiting. */
  #abandon(entry: Entry, error: DiffEditError): void {
    if (entry.state !== 'running') return;
    this.#leave(entry);
    if (entry.controller !== undefined && !entry.controller.signal.aborted) entry.controller.abort(error);
    this.#logger.debug('running job abandoned', { job: entry.id, code: error.code, ms: Date.now() - entry.startedAt });
    entry.reject(error);
    this.#pump();
  }

  /** Marks the running job done, frees the engine and stamps its user's line. */
  #leave(entry: Entry): void {
    clearTimeout(entry.timer);
    entry.timer = undefined;
    entry.state = 'done';
    this.#running = undefined;
    const seq = ++this.#seq;
    const line = this.#lines.get(entry.userId);
    if (line !== undefined) line.lastLeft = seq;
  }

  /**
   * The queued jobs in the order they would start given the current state: the running job leaves first, then each
   * step picks the user with the smallest max(last left, oldest queued) and stamps them as having left right after.
   */
  #order(): Entry[] {
    let seq = this.#seq;
    const lines = new Map<string, { queue: readonly Entry[]; next: number; lastLeft: number }>();
    for (const [userId, line] of this.#lines) lines.set(userId, { queue: line.queue, next: 0, lastLeft: line.lastLeft });
    if (this.#running !== undefined) {
      const line = lines.get(this.#running.userId);
      seq++;
      if (line !== undefined) line.lastLeft = seq;
    }
    const order: Entry[] = [];
    for (;;) {
      let best: { queue: readonly Entry[]; next: number; lastLeft: number } | undefined;
      let bestKey = Infinity;
      for (const line of lines.values()) {
        const head = line.queue[line.next];
        if (head === undefined) continue;
        const key = Math.max(line.lastLeft, head.queuedSeq);
        if (key < bestKey) {
          best = line;
          bestKey = key;
        }
      }
      const head = best?.queue[best.next];
      if (best === undefined || head === undefined) return order;
      order.push(head);
      best.next++;
      best.lastLeft = ++seq;
    }
  }

  #positionOf(entry: Entry): number | undefined {
    if (entry.state === 'running') return 1;
    if (entry.state !== 'queued') return undefined;
    const index = this.#order().indexOf(entry);
    return index === -1 ? undefined : index + 1 + this.running;
  }

  /** Tells every queued job whose place changed. */
  #reportPositions(): void {
    const generation = ++this.#reportGeneration;
    const offset = 1 + this.running;
    const order = this.#order();
    for (const [index, entry] of order.entries()) {
      // A callback changed the queue and a newer report has told everyone their place since.
      if (generation !== this.#reportGeneration) return;
      const position = index + offset;
      if (entry.state !== 'queued' || entry.lastPosition === position) continue;
      entry.lastPosition = position;
      this.#notify(entry, 'onPosition', () => entry.callbacks.onPosition?.(position));
    }
  }

  /** A throwing callback is the caller's bug: log it, never let it break the queue. */
  #notify(entry: Entry, name: string, call: () => void): void {
    callHook(this.#logger, `queue ${name} callback threw`, { job: entry.id }, call);
  }
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, got ${value}`);
  return value;
}

import { afterEach, describe, expect, it, vi } from 'vitest';
import { JobQueue, type JobQueueOptions, type QueueCallbacks, type Ticket } from '../../../src/queue/memory/job-queue.js';
import { DiffEditError, ErrorCode } from '../../../src/errors.js';
import type { LogFields, Logger } from '../../../src/logger.js';

interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

interface LogLine {
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly message: string;
  readonly fields: LogFields;
}

function recordingLogger(): Logger & { readonly lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at =
    (level: LogLine['level']) =>
    (message: string, fields: LogFields = {}): void => {
      lines.push({ level, message, fields });
    };
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** Lets every pending promise reaction run (real timers only). */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

type Outcome = { readonly value: string } | { readonly error: unknown };

/** A job whose task records its start and finishes only when its gate opens. */
interface Job {
  readonly name: string;
  readonly ticket: Ticket;
  readonly gate: Deferred<void>;
  /** Places reported through onPosition. */
  readonly positions: number[];
  signal: AbortSignal | undefined;
  result: Promise<string> | undefined;
  outcome: Promise<Outcome> | undefined;
  /** ticket.position() read right after run(). */
  placeAtRun: number | undefined;
}

class Harness {
  readonly queue: JobQueue;
  readonly starts: string[] = [];
  readonly jobs: Job[] = [];
  /** Tasks between their start and their return, and the most there ever were. */
  active = 0;
  maxActive = 0;
  #current: Job | undefined;

  constructor(options: JobQueueOptions = {}) {
    this.queue = new JobQueue({ perUserLimit: 10, globalLimit: 50, ...options });
  }

  reserve(user: string, name: string): Job {
    const job: Job = {
      name,
      ticket: this.queue.reserve(user),
      gate: deferred(),
      positions: [],
      signal: undefined,
      result: undefined,
      outcome: undefined,
      placeAtRun: undefined,
    };
    this.jobs.push(job);
    return job;
  }

  run(job: Job, extra: QueueCallbacks = {}): Job {
    job.result = job.ticket.run(
      async (signal) => {
        this.starts.push(job.name);
        this.maxActive = Math.max(this.maxActive, ++this.active);
        this.#current = job;
        job.signal = signal;
        try {
          await job.gate.promise;
          return job.name;
        } finally {
          this.active--;
        }
      },
      {
        onPosition: (position) => {
          job.positions.push(position);
          extra.onPosition?.(position);
        },
        onStart: () => extra.onStart?.(),
      },
    );
    job.outcome = job.result.then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    );
    job.placeAtRun = job.ticket.position();
    return job;
  }

  add(user: string, name: string, extra: QueueCallbacks = {}): Job {
    return this.run(this.reserve(user, name), extra);
  }

  job(name: string): Job {
    const job = this.jobs.find((j) => j.name === name);
    if (job === undefined) throw new Error(`no job ${name}`);
    return job;
  }

  /** Lets the running job's task return and waits until its run() has settled (the next job has started by then). */
  async finishRunning(): Promise<void> {
    const job = this.#current;
    if (this.queue.running === 0 || job === undefined) throw new Error('nothing is running');
    job.gate.resolve();
    await job.outcome;
  }

  async drain(): Promise<void> {
    while (this.queue.running > 0) await this.finishRunning();
  }

  /** position() of every job, by name. */
  places(): Record<string, number | undefined> {
    return Object.fromEntries(this.jobs.map((job) => [job.name, job.ticket.position()]));
  }

  /** The place each job was last told: its latest onPosition, or what it read at run() time. */
  told(): Record<string, number | undefined> {
    return Object.fromEntries(this.jobs.map((job) => [job.name, job.positions.at(-1) ?? job.placeAtRun]));
  }
}

async function rejection(promise: Promise<unknown> | undefined): Promise<DiffEditError> {
  if (promise === undefined) throw new Error('no promise');
  const error: unknown = await promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e,
  );
  if (!(error instanceof DiffEditError)) throw new Error(`expected a DiffEditError, got ${String(error)}`);
  return error;
}

function thrown(run: () => unknown): DiffEditError {
  try {
    run();
  } catch (error) {
    if (error instanceof DiffEditError) return error;
    throw error;
  }
  throw new Error('expected a throw');
}

/** Steps "user:name" reserve and run a job; "done" lets the running job finish. Then the queue is drained. */
async function startOrder(steps: readonly string[]): Promise<{ starts: string[]; arrivals: Map<string, string[]> }> {
  const harness = new Harness();
  const arrivals = new Map<string, string[]>();
  for (const step of steps) {
    if (step === 'done') {
      await harness.finishRunning();
      continue;
    }
    const [user = '', name = ''] = step.split(':');
    arrivals.set(user, [...(arrivals.get(user) ?? []), name]);
    harness.add(user, name);
  }
  await harness.drain();
  return { starts: harness.starts, arrivals };
}

const RESTART_WAITING = 'The bot is restarting; your job was cancelled. Try again in a minute.';
const RESTART_RUNNING = 'The bot is restarting; your job was stopped. Try again in a minute.';

afterEach(() => {
  vi.useRealTimers();
});

describe('JobQueue fairness', () => {
  it.each([
    { case: 'the design example, engine idle', steps: ['A:a1', 'A:a2', 'A:a3', 'B:b1'], starts: ['a1', 'b1', 'a2', 'a3'] },
    { case: 'the design example, engine busy', steps: ['X:x', 'A:a1', 'A:a2', 'A:a3', 'B:b1'], starts: ['x', 'a1', 'b1', 'a2', 'a3'] },
    { case: 'three users', steps: ['A:a1', 'A:a2', 'B:b1', 'B:b2', 'C:c1'], starts: ['a1', 'b1', 'c1', 'a2', 'b2'] },
    { case: 'alternating arrivals', steps: ['X:x', 'A:a1', 'B:b1', 'A:a2', 'B:b2', 'A:a3'], starts: ['x', 'a1', 'b1', 'a2', 'b2', 'a3'] },
    {
      // b1 arrives after a2 but while a1 runs: A has just been served, so B goes first.
      case: 'a newcomer while a user is served',
      steps: ['X:x', 'A:a1', 'A:a2', 'done', 'B:b1'],
      starts: ['x', 'a1', 'b1', 'a2'],
    },
    {
      // A waits since a2 left, before b1 was queued; then C (queued while b1 ran) has waited longer than B's b2.
      case: 'arrivals between completions',
      steps: ['A:a1', 'A:a2', 'done', 'B:b1', 'A:a3', 'done', 'C:c1'],
      starts: ['a1', 'a2', 'b1', 'a3', 'c1'],
    },
    {
      case: 'a late user slots in by waiting time',
      steps: ['X:x', 'A:a1', 'A:a2', 'B:b1', 'B:b2', 'done', 'done', 'C:c1'],
      starts: ['x', 'a1', 'b1', 'a2', 'c1', 'b2'],
    },
    { case: 'one user only', steps: ['A:a1', 'A:a2', 'A:a3', 'A:a4'], starts: ['a1', 'a2', 'a3', 'a4'] },
  ])('round-robin across users, FIFO within one: $case', async ({ steps, starts: expected }) => {
    const { starts, arrivals } = await startOrder(steps);
    expect(starts).toEqual(expected);
    for (const [user, names] of arrivals) {
      expect(
        starts.filter((name) => names.includes(name)),
        `FIFO for ${user}`,
      ).toEqual(names);
    }
  });

  it('never runs two tasks at once', async () => {
    const harness = new Harness();
    for (const [i, name] of ['a', 'b', 'c', 'd', 'e'].entries()) harness.add(`user${i % 2}`, name);
    while (harness.queue.running > 0) {
      expect([harness.active, harness.queue.running]).toEqual([1, 1]);
      await harness.finishRunning();
    }
    expect([harness.maxActive, harness.active]).toEqual([1, 0]);
    expect(await Promise.all(harness.jobs.map((job) => job.result as Promise<string>))).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(harness.starts).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect([harness.queue.waiting, harness.queue.running]).toEqual([0, 0]);
  });

  it('leaves reserved tickets out of the line until run() is called', async () => {
    const harness = new Harness();
    harness.add('X', 'x');
    const downloading = harness.reserve('A', 'a1');
    harness.add('B', 'b1');
    expect(harness.places()).toEqual({ x: 1, a1: undefined, b1: 2 });
    harness.run(downloading); // queued after b1
    expect(harness.places()).toEqual({ x: 1, a1: 3, b1: 2 });
    await harness.drain();
    expect(harness.starts).toEqual(['x', 'b1', 'a1']);
  });

  it('starts a job on an idle queue before run() returns', () => {
    const harness = new Harness();
    let started = false;
    const job = harness.add('u', 'a', { onStart: () => (started = true) });
    expect([started, harness.starts, job.placeAtRun, harness.queue.running, harness.queue.waiting]).toEqual([true, ['a'], 1, 1, 0]);
  });
});

describe('JobQueue positions', () => {
  it('tells each queued job exactly the place the simulated order gives, through a newcomer, a cancel and starts', async () => {
    const harness = new Harness();
    const check = (places: Record<string, number | undefined>): void => {
      expect(harness.places()).toEqual(places);
      // What every queued job was told matches where it stands now.
      for (const [name, place] of Object.entries(places)) {
        if (place !== undefined && place > 1) expect(harness.told()[name], `told ${name}`).toBe(place);
      }
    };

    harness.add('X', 'x');
    harness.add('A', 'a1');
    harness.add('A', 'a2');
    check({ x: 1, a1: 2, a2: 3 });

    harness.add('B', 'b1'); // round-robin: b1 goes ahead of a2
    check({ x: 1, a1: 2, a2: 4, b1: 3 });
    expect(harness.job('a2').positions).toEqual([4]);
    expect(harness.job('b1').positions).toEqual([]); // its place at run() time is read, not reported

    harness.job('a1').ticket.cancel('You cancelled this job.');
    const cancelled = await rejection(harness.job('a1').result);
    expect([cancelled.code, cancelled.message, cancelled.details]).toEqual([
      ErrorCode.Aborted,
      'You cancelled this job.',
      { job: harness.job('a1').ticket.id, userId: 'A' },
    ]);
    check({ x: 1, a1: undefined, a2: 2, b1: 3 }); // a2 takes A's turn; b1 stays third

    harness.add('C', 'c1');
    check({ x: 1, a1: undefined, a2: 2, b1: 3, c1: 4 });

    await harness.finishRunning(); // x
    check({ x: undefined, a1: undefined, a2: 1, b1: 2, c1: 3 });
    await harness.finishRunning(); // a2
    check({ x: undefined, a1: undefined, a2: undefined, b1: 1, c1: 2 });
    await harness.drain();

    expect(harness.starts).toEqual(['x', 'a2', 'b1', 'c1']);
    expect(Object.fromEntries(harness.jobs.map((job) => [job.name, job.positions]))).toEqual({
      x: [],
      a1: [],
      a2: [4, 2],
      b1: [2],
      c1: [3, 2],
    });
  });

  it('reports no place for a reserved, released, finished or cancelled ticket', async () => {
    const harness = new Harness();
    const reserved = harness.reserve('u', 'r');
    const released = harness.reserve('u', 'l');
    released.ticket.release();
    const cancelled = harness.reserve('v', 'c');
    cancelled.ticket.cancel();
    harness.add('w', 'done');
    await harness.drain();
    expect(harness.places()).toEqual({ r: undefined, l: undefined, c: undefined, done: undefined });
    expect(reserved.ticket.position()).toBeUndefined();
  });
});

describe('JobQueue caps', () => {
  it.each([
    {
      case: 'per user',
      held: ['alice', 'alice'],
      next: 'alice',
      code: ErrorCode.UserQueueFull,
      message: 'You already have 2 jobs waiting; wait for one to start before adding another.',
      details: { userId: 'alice', waiting: 2, limit: 2 },
    },
    {
      case: 'in all',
      held: ['alice', 'bob', 'carol'],
      next: 'dave',
      code: ErrorCode.QueueFull,
      message: 'The queue is full right now; try again in a few minutes.',
      details: { userId: 'dave', waiting: 3, limit: 3 },
    },
  ])('counts reserved (downloading) tickets: full $case', ({ held, next, code, message, details }) => {
    const queue = new JobQueue({ perUserLimit: 2, globalLimit: 3 });
    for (const user of held) queue.reserve(user);
    const error = thrown(() => queue.reserve(next));
    expect([error.code, error.message, error.details]).toEqual([code, message, details]);
    expect(queue.waiting).toBe(held.length);
  });

  it('frees a place on release() and cancel(), and once a job starts running', () => {
    const queue = new JobQueue({ perUserLimit: 2, globalLimit: 3 });
    const a1 = queue.reserve('alice');
    const a2 = queue.reserve('alice');
    expect(thrown(() => queue.reserve('alice')).code).toBe(ErrorCode.UserQueueFull);

    a1.release();
    a1.release(); // twice: still one place
    expect(queue.waiting).toBe(1);
    const a3 = queue.reserve('alice');
    queue.reserve('bob');
    expect(thrown(() => queue.reserve('carol')).code).toBe(ErrorCode.QueueFull);

    a3.cancel();
    expect(queue.waiting).toBe(2);

    // a2 starts on the idle engine: running jobs do not count as waiting, and release() is a no-op now.
    void a2.run(() => new Promise<never>(() => undefined));
    a2.release();
    expect([queue.running, queue.waiting, a2.position()]).toEqual([1, 1, 1]);
    queue.reserve('alice');
    queue.reserve('alice');
    expect(thrown(() => queue.reserve('alice')).code).toBe(ErrorCode.UserQueueFull);
  });

  it('counts a queued job until it starts', async () => {
    const harness = new Harness({ perUserLimit: 1, globalLimit: 5 });
    harness.add('alice', 'running');
    harness.add('alice', 'queued');
    expect(thrown(() => harness.queue.reserve('alice')).code).toBe(ErrorCode.UserQueueFull);
    await harness.finishRunning();
    expect(harness.queue.waiting).toBe(0);
    harness.add('alice', 'next');
    expect(harness.places()).toEqual({ running: undefined, queued: 1, next: 2 });
  });

  it.each([
    { perUserLimit: 0 },
    { globalLimit: 1.5 },
    { jobTimeoutMs: 0 },
    { jobTimeoutMs: -1000 },
    { jobTimeoutMs: Number.NaN },
    { jobTimeoutMs: 2 ** 31 }, // setTimeout would fire at once
  ])('refuses nonsensical options %o', (options) => {
    expect(() => new JobQueue(options)).toThrow(RangeError);
  });
});

describe('JobQueue outcomes and cancellation', () => {
  it('hands over the task error and goes on with the next job', async () => {
    const queue = new JobQueue();
    const boom = new Error('engine exploded');
    const failing = queue.reserve('u').run(() => Promise.reject(boom));
    const syncThrow = queue.reserve('u').run(() => {
      throw new Error('threw before returning a promise');
    });
    const next = queue.reserve('v').run(() => Promise.resolve('fine'));
    await expect(failing).rejects.toBe(boom);
    await expect(syncThrow).rejects.toThrow('threw before returning a promise');
    await expect(next).resolves.toBe('fine');
  });

  it('rejects a second run(), and run() after release()', async () => {
    const queue = new JobQueue();
    const ticket = queue.reserve('u');
    await expect(ticket.run(() => Promise.resolve(1))).resolves.toBe(1);
    await expect(ticket.run(() => Promise.resolve(2))).rejects.toThrow('run() was already called');
    const released = queue.reserve('u');
    released.release();
    await expect(released.run(() => Promise.resolve(3))).rejects.toThrow('was released');
  });

  it('rejects run() of a ticket cancelled while reserved, without calling the task', async () => {
    const queue = new JobQueue();
    const ticket = queue.reserve('u');
    ticket.cancel();
    const task = vi.fn(() => Promise.resolve('never'));
    const error = await rejection(ticket.run(task));
    expect([error.code, error.message]).toEqual([ErrorCode.Aborted, 'The job was cancelled.']);
    expect(task).not.toHaveBeenCalled();
  });

  it('aborts a running job on cancel and starts the next only once its task has returned', async () => {
    const harness = new Harness();
    const stop = deferred();
    const a = harness.queue.reserve('u');
    let aSignal: AbortSignal | undefined;
    const aResult = a.run((signal) => {
      aSignal = signal;
      harness.starts.push('a');
      // Like the engine: notices the abort, then takes a while to stop.
      return new Promise<string>((_resolve, reject) => {
        signal.addEventListener('abort', () => void stop.promise.then(() => reject(signal.reason as Error)));
      });
    });
    harness.add('v', 'b');

    a.cancel('Stopped.');
    expect(aSignal?.aborted).toBe(true);
    await settle();
    expect([harness.starts, harness.queue.running, a.position()]).toEqual([['a'], 1, 1]);

    stop.resolve();
    const error = await rejection(aResult);
    expect([error.code, error.message]).toEqual([ErrorCode.Aborted, 'Stopped.']);
    expect(harness.starts).toEqual(['a', 'b']);
    a.cancel(); // once done: nothing happens
    await harness.drain();
  });
});

describe('JobQueue deadline', () => {
  it('abandons a task that never settles: aborts its signal, rejects JobTimedOut, starts the next job', async () => {
    vi.useFakeTimers();
    const logger = recordingLogger();
    const harness = new Harness({ jobTimeoutMs: 60_000, logger });
    const hung = deferred<string>();
    const a = harness.queue.reserve('u');
    let aSignal: AbortSignal | undefined;
    const aResult = a.run((signal) => {
      aSignal = signal;
      return hung.promise; // ignores its signal
    });
    const aOutcome = rejection(aResult);
    harness.add('v', 'b');

    vi.advanceTimersByTime(59_999);
    expect([aSignal?.aborted, harness.starts, harness.queue.running]).toEqual([false, [], 1]);

    vi.advanceTimersByTime(1);
    const error = await aOutcome;
    expect([error.code, error.message, error.details]).toEqual([
      ErrorCode.JobTimedOut,
      'Your job took longer than 1 minute and was stopped. Try again, perhaps with fewer steps.',
      { job: a.id, userId: 'u', timeoutMs: 60_000 },
    ]);
    expect(aSignal?.reason).toBe(error);
    expect(harness.starts).toEqual(['b']);
    expect([a.position(), harness.job('b').ticket.position()]).toEqual([undefined, 1]);
    expect(logger.lines.filter((line) => line.level === 'warn').map((line) => line.fields['job'])).toEqual([a.id]);

    // The abandoned task settling late changes nothing and is no unhandled rejection.
    vi.useRealTimers();
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      hung.reject(new Error('late failure'));
      await settle();
      await settle();
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    expect(unhandled).toEqual([]);
    expect([harness.queue.running, harness.job('b').ticket.position()]).toEqual([1, 1]);
    await harness.drain();
    await expect(harness.job('b').result).resolves.toBe('b');
  });

  it('clears the deadline of a task that settles in time', async () => {
    vi.useFakeTimers();
    const harness = new Harness({ jobTimeoutMs: 1000 });
    harness.add('u', 'a');
    expect(vi.getTimerCount()).toBe(1);
    await harness.drain();
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(5000);
    await expect(harness.job('a').result).resolves.toBe('a');
  });

  it('sets no deadline without jobTimeoutMs', () => {
    vi.useFakeTimers();
    new Harness().add('u', 'a');
    expect(vi.getTimerCount()).toBe(0);
  });

  it.each([
    { jobTimeoutMs: 30_000, text: '30 seconds' },
    { jobTimeoutMs: 60_000, text: '1 minute' },
    { jobTimeoutMs: 90_000, text: '1.5 minutes' },
    { jobTimeoutMs: 600_000, text: '10 minutes' },
  ])('says how long a job may take: $jobTimeoutMs ms is "$text"', async ({ jobTimeoutMs, text }) => {
    vi.useFakeTimers();
    const queue = new JobQueue({ jobTimeoutMs });
    const result = rejection(queue.reserve('u').run(() => new Promise<never>(() => undefined)));
    vi.advanceTimersByTime(jobTimeoutMs);
    expect((await result).message).toBe(`Your job took longer than ${text} and was stopped. Try again, perhaps with fewer steps.`);
  });
});

describe('JobQueue shutdown', () => {
  it('without cancelRunning: refuses reservations, cancels reserved and queued jobs, waits for the running one', async () => {
    const harness = new Harness();
    const a = harness.add('u1', 'a');
    const b = harness.add('u2', 'b');
    const downloading = harness.reserve('u3', 'c');

    let idle = false;
    const done = harness.queue.shutdown({ cancelRunning: false }).then(() => (idle = true));

    const refused = thrown(() => harness.queue.reserve('u4'));
    expect([refused.code, refused.message]).toEqual([
      ErrorCode.ShuttingDown,
      'The bot is restarting and takes no new jobs right now; try again in a minute.',
    ]);
    const queued = await rejection(b.result);
    expect([queued.code, queued.message]).toEqual([ErrorCode.Aborted, RESTART_WAITING]);
    harness.run(downloading);
    const late = await rejection(downloading.result);
    expect([late.code, late.message]).toEqual([ErrorCode.Aborted, RESTART_WAITING]);
    expect([harness.queue.waiting, harness.queue.running]).toEqual([0, 1]);

    await settle();
    expect([idle, a.signal?.aborted]).toEqual([false, false]);

    await harness.finishRunning();
    await done;
    expect(idle).toBe(true);
    await expect(a.result).resolves.toBe('a');
    expect(harness.starts).toEqual(['a']);
    expect(b.positions).toEqual([]); // no position noise while the line is emptied
  });

  it('with cancelRunning: aborts the running task and resolves although the task ignores its signal', async () => {
    const harness = new Harness();
    const a = harness.add('u1', 'a'); // its gate never opens: ignores the abort
    const b = harness.add('u2', 'b');

    await harness.queue.shutdown({ cancelRunning: true });
    expect([harness.queue.running, harness.queue.waiting]).toEqual([0, 0]);
    const stopped = await rejection(a.result);
    expect([stopped.code, stopped.message]).toEqual([ErrorCode.Aborted, RESTART_RUNNING]);
    expect(a.signal?.reason).toBe(stopped);
    expect((await rejection(b.result)).code).toBe(ErrorCode.Aborted);
    expect(harness.starts).toEqual(['a']);
  });

  it('escalates a graceful shutdown when called again with cancelRunning', async () => {
    const harness = new Harness();
    const a = harness.add('u1', 'a'); // ignores its signal

    const graceful = harness.queue.shutdown({ cancelRunning: false });
    expect(a.signal?.aborted).toBe(false);
    await harness.queue.shutdown({ cancelRunning: true });
    await graceful;
    expect(a.signal?.aborted).toBe(true);
    expect((await rejection(a.result)).code).toBe(ErrorCode.Aborted);
  });

  it('rejects run() of a ticket reserved before shutdown with Aborted, without calling the task', async () => {
    const queue = new JobQueue();
    const ticket = queue.reserve('u');
    await queue.shutdown({ cancelRunning: false }); // idle: resolves at once
    const task = vi.fn(() => Promise.resolve('never'));
    const error = await rejection(ticket.run(task));
    expect([error.code, error.message]).toEqual([ErrorCode.Aborted, RESTART_WAITING]);
    expect(task).not.toHaveBeenCalled();
    expect(ticket.position()).toBeUndefined();
  });
});

describe('JobQueue callbacks', () => {
  it('logs and ignores throwing callbacks', async () => {
    const logger = recordingLogger();
    const harness = new Harness({ logger });
    const bad = (): never => {
      throw new Error('bad callback');
    };
    harness.add('u1', 'x', { onStart: bad });
    const y = harness.add('u2', 'y', { onStart: bad, onPosition: bad });
    const z = harness.add('u3', 'z', { onStart: bad, onPosition: bad });
    await harness.drain();

    expect(harness.starts).toEqual(['x', 'y', 'z']);
    expect(await Promise.all(harness.jobs.map((job) => job.result as Promise<string>))).toEqual(['x', 'y', 'z']);
    expect(z.positions).toEqual([2]); // called (and threw) when y started
    const warnings = logger.lines.filter((line) => line.level === 'warn').map((line) => [line.message, line.fields['job']]);
    expect(warnings).toEqual([
      ['queue onStart callback threw', harness.job('x').ticket.id],
      ['queue onStart callback threw', y.ticket.id],
      ['queue onPosition callback threw', z.ticket.id],
      ['queue onStart callback threw', z.ticket.id],
    ]);
  });

  it('keeps positions right when an onPosition callback cancels another job', async () => {
    const harness = new Harness();
    harness.add('X', 'x');
    harness.add('A', 'a');
    const b = harness.add('B', 'b', {
      onPosition: (position) => {
        if (position === 2) harness.job('c').ticket.cancel('by b');
      },
    });
    const c = harness.add('C', 'c');
    const d = harness.add('D', 'd');
    harness.job('a').ticket.cancel();
    expect((await rejection(c.result)).message).toBe('by b');
    expect(harness.places()).toEqual({ x: 1, a: undefined, b: 2, c: undefined, d: 3 });
    expect([b.positions, d.positions]).toEqual([[2], [3]]);
    await harness.drain();
    expect(harness.starts).toEqual(['x', 'b', 'd']);
  });
});

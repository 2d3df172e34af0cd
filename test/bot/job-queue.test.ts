import { describe, expect, it } from 'vitest';
import { JobQueue, type QueuedJob } from '../../src/bot/job-queue.js';
import { DiffEditError, ErrorCode } from '../../src/errors.js';

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

/** A job whose task logs its start and end and finishes only when `finish` is resolved. */
interface Gated {
  readonly job: QueuedJob<string>;
  readonly started: Promise<AbortSignal>;
  readonly finish: Deferred<void>;
  readonly positions: number[];
}

function gated(queue: JobQueue, user: string, name: string, log: string[]): Gated {
  const started = deferred<AbortSignal>();
  const finish = deferred();
  const positions: number[] = [];
  const job = queue.enqueue(
    user,
    async (signal) => {
      log.push(`start ${name}`);
      started.resolve(signal);
      await finish.promise;
      log.push(`end ${name}`);
      return name;
    },
    { onPosition: (position) => positions.push(position) },
  );
  return { job, started: started.promise, finish, positions };
}

async function rejection(promise: Promise<unknown>): Promise<DiffEditError> {
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

describe('JobQueue', () => {
  it('runs one job at a time, in arrival order', async () => {
    const queue = new JobQueue({ perUserLimit: 5, globalLimit: 5 });
    const log: string[] = [];
    let active = 0;
    let maxActive = 0;
    const jobs = ['a', 'b', 'c', 'd'].map((name, i) =>
      queue.enqueue(`user${i % 2}`, async () => {
        active++;
        maxActive = Math.max(maxActive, active);
        log.push(`start ${name}`);
        await new Promise((resolve) => setTimeout(resolve, 5));
        log.push(`end ${name}`);
        active--;
        return name;
      }),
    );
    expect(await Promise.all(jobs.map((job) => job.promise))).toEqual(['a', 'b', 'c', 'd']);
    expect(log).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c', 'start d', 'end d']);
    expect(maxActive).toBe(1);
    expect([queue.waiting, queue.running]).toEqual([0, 0]);
  });

  it('starts a job on an idle queue at once', () => {
    const queue = new JobQueue({ perUserLimit: 2, globalLimit: 20 });
    let started = false;
    const job = queue.enqueue('u', () => new Promise<void>(() => undefined), { onStart: () => (started = true) });
    expect(started).toBe(true);
    expect([queue.running, queue.waiting, queue.positionOf(job.id)]).toEqual([1, 0, 1]);
  });

  it('reports places 1, 2, 3, then 1, 2 as the first job finishes, then 1', async () => {
    const queue = new JobQueue({ perUserLimit: 2, globalLimit: 20 });
    const log: string[] = [];
    const [a, b, c] = [gated(queue, 'u1', 'a', log), gated(queue, 'u2', 'b', log), gated(queue, 'u3', 'c', log)] as const;
    await a.started;
    expect([a, b, c].map((g) => queue.positionOf(g.job.id))).toEqual([1, 2, 3]);
    expect([queue.running, queue.waiting]).toEqual([1, 2]);

    a.finish.resolve();
    await b.started;
    expect([a, b, c].map((g) => queue.positionOf(g.job.id))).toEqual([undefined, 1, 2]);
    expect(b.positions).toEqual([1]);
    expect(c.positions).toEqual([2]);

    b.finish.resolve();
    await c.started;
    expect(c.positions).toEqual([2, 1]);
    c.finish.resolve();
    expect(await Promise.all([a, b, c].map((g) => g.job.promise))).toEqual(['a', 'b', 'c']);
    expect(a.positions).toEqual([]); // started at once: never moved
  });

  it('refuses a third waiting job of one user but accepts another user', async () => {
    const queue = new JobQueue({ perUserLimit: 2, globalLimit: 20 });
    const log: string[] = [];
    const running = gated(queue, 'alice', 'r', log); // running: does not count as waiting
    await running.started;
    gated(queue, 'alice', 'w1', log);
    gated(queue, 'alice', 'w2', log);

    const error = thrown(() => gated(queue, 'alice', 'w3', log));
    expect(error.code).toBe(ErrorCode.UserQueueFull);
    expect(error.message).toBe('You already have 2 jobs waiting; wait for one to start before adding another.');

    const bob = gated(queue, 'bob', 'b', log);
    expect(queue.positionOf(bob.job.id)).toBe(4);
    expect(queue.waiting).toBe(3);
  });

  it('refuses any job once the global number of waiting jobs is reached', async () => {
    const queue = new JobQueue({ perUserLimit: 2, globalLimit: 3 });
    const log: string[] = [];
    await gated(queue, 'u0', 'r', log).started;
    for (const user of ['u1', 'u2', 'u3']) gated(queue, user, user, log);

    const error = thrown(() => gated(queue, 'u4', 'late', log));
    expect(error.code).toBe(ErrorCode.QueueFull);
    expect(error.message).toBe('The queue is full right now; try again in a few minutes.');
    expect(queue.waiting).toBe(3);
  });

  it('goes on with the next job when one fails, rejecting only the failed one', async () => {
    const queue = new JobQueue({ perUserLimit: 2, globalLimit: 20 });
    const failing = queue.enqueue('u', () => Promise.reject(new Error('engine exploded')));
    const syncThrow = queue.enqueue('u', () => {
      throw new Error('threw before returning a promise');
    });
    const next = queue.enqueue('v', () => Promise.resolve('fine'));
    await expect(failing.promise).rejects.toThrow('engine exploded');
    await expect(syncThrow.promise).rejects.toThrow('threw before returning a promise');
    await expect(next.promise).resolves.toBe('fine');
  });

  it('removes a cancelled waiting job: Aborted, never run, the ones behind move up', async () => {
    const queue = new JobQueue({ perUserLimit: 2, globalLimit: 20 });
    const log: string[] = [];
    const [a, b, c] = [gated(queue, 'u1', 'a', log), gated(queue, 'u2', 'b', log), gated(queue, 'u3', 'c', log)] as const;
    await a.started;

    b.job.cancel('You cancelled this job.');
    const error = await rejection(b.job.promise);
    expect(error.code).toBe(ErrorCode.Aborted);
    expect(error.message).toBe('You cancelled this job.');
    expect(c.positions).toEqual([2]);
    expect([queue.positionOf(b.job.id), queue.positionOf(c.job.id), queue.waiting]).toEqual([undefined, 2, 1]);

    a.finish.resolve();
    await c.started;
    c.finish.resolve();
    await c.job.promise;
    expect(log).toEqual(['start a', 'end a', 'start c', 'end c']);
  });

  it('aborts a running job on cancel and starts the next only once its task has returned', async () => {
    const queue = new JobQueue({ perUserLimit: 2, globalLimit: 20 });
    const log: string[] = [];
    const stopped = deferred();
    const a = queue.enqueue('u', (signal) => {
      log.push('start a');
      return new Promise<string>((_resolve, reject) => {
        // Like the engine: notices the abort, then takes a while to stop.
        signal.addEventListener('abort', () => {
          setTimeout(() => {
            log.push('a stops');
            reject(signal.reason);
            stopped.resolve();
          }, 20);
        });
      });
    });
    const b = gated(queue, 'v', 'b', log);

    a.cancel('Stopped.');
    const error = await rejection(a.promise);
    expect(error.code).toBe(ErrorCode.Aborted);
    expect(error.message).toBe('Stopped.');
    await b.started;
    expect(log).toEqual(['start a', 'a stops', 'start b']);
    a.cancel(); // once done: nothing happens
  });

  it('on shutdown without cancelRunning: refuses new jobs, cancels waiting ones, lets the running one finish', async () => {
    const queue = new JobQueue({ perUserLimit: 2, globalLimit: 20 });
    const log: string[] = [];
    const a = gated(queue, 'u1', 'a', log);
    const b = gated(queue, 'u2', 'b', log);
    const signal = await a.started;

    let idle = false;
    const done = queue.shutdown({ cancelRunning: false }).then(() => (idle = true));
    expect((await rejection(b.job.promise)).code).toBe(ErrorCode.Aborted);
    expect(thrown(() => queue.enqueue('u3', () => Promise.resolve(1))).code).toBe(ErrorCode.ShuttingDown);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect([idle, signal.aborted]).toEqual([false, false]);

    a.finish.resolve();
    await done;
    await expect(a.job.promise).resolves.toBe('a');
    expect(log).toEqual(['start a', 'end a']);
    expect([queue.running, queue.waiting]).toEqual([0, 0]);
  });

  it('on shutdown with cancelRunning: aborts the running job and resolves when it has stopped', async () => {
    const queue = new JobQueue({ perUserLimit: 2, globalLimit: 20 });
    const log: string[] = [];
    const a = gated(queue, 'u1', 'a', log);
    const b = gated(queue, 'u2', 'b', log);
    const signal = await a.started;
    signal.addEventListener('abort', () => a.finish.reject(signal.reason));

    await queue.shutdown({ cancelRunning: true });
    expect(signal.aborted).toBe(true);
    expect((await rejection(a.job.promise)).code).toBe(ErrorCode.Aborted);
    expect((await rejection(b.job.promise)).code).toBe(ErrorCode.Aborted);
    expect(log).toEqual(['start a']);
  });

  it('escalates a graceful shutdown to cancelling the running job when called again', async () => {
    const queue = new JobQueue({ perUserLimit: 2, globalLimit: 20 });
    const a = gated(queue, 'u1', 'a', []);
    const signal = await a.started;
    signal.addEventListener('abort', () => a.finish.reject(signal.reason));

    const graceful = queue.shutdown({ cancelRunning: false });
    expect(signal.aborted).toBe(false);
    await queue.shutdown({ cancelRunning: true });
    await graceful;
    expect(signal.aborted).toBe(true);
    await expect(a.job.promise).rejects.toBeInstanceOf(DiffEditError);
  });

  it('keeps going when a callback throws', async () => {
    const queue = new JobQueue({ perUserLimit: 2, globalLimit: 20 });
    const first = queue.enqueue('u', () => new Promise((resolve) => setTimeout(() => resolve('first'), 5)), {
      onStart: () => {
        throw new Error('bad callback');
      },
    });
    const second = queue.enqueue('v', () => Promise.resolve('second'), {
      onPosition: () => {
        throw new Error('bad callback');
      },
    });
    expect(await Promise.all([first.promise, second.promise])).toEqual(['first', 'second']);
  });

  it.each([
    { perUserLimit: 0, globalLimit: 20 },
    { perUserLimit: 2, globalLimit: 1.5 },
  ])('refuses nonsensical limits %o', (options) => {
    expect(() => new JobQueue(options)).toThrow(RangeError);
  });
});

/** A promise bounded in time, for calls that may otherwise wait indefinitely (a Redis client queueing while offline). */

/** Thrown by {@link settleWithin} when the call took longer than allowed. */
export class TookTooLong extends Error {
  constructor(readonly ms: number) {
    super(`no answer within ${ms} ms`);
    this.name = 'TookTooLong';
  }
}

/**
 * Resolves or rejects as `work` does if it settles within `ms`; else rejects with {@link TookTooLong}. `work` is not
 * cancelled: it settles later unobserved.
 */
export async function settleWithin<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TookTooLong(ms)), ms);
  });
  work.catch(() => undefined);
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * 'done' when `work` resolves within `ms`, else 'timeout' (without cancelling it); a rejection within `ms` is
 * passed on. For waits that give up and carry on, such as a shutdown's.
 */
export async function within(work: Promise<unknown>, ms: number): Promise<'done' | 'timeout'> {
  try {
    await settleWithin(work, ms);
    return 'done';
  } catch (error) {
    if (error instanceof TookTooLong) return 'timeout';
    throw error;
  }
}

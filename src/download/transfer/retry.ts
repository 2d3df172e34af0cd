/**
 * Retries with exponential backoff for failures another attempt can cure (see {@link isRetryable}).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { isRetryable } from '../hub/errors.js';

/** How often and how patiently to retry. */
export interface RetryOptions {
  /** Attempts in all, the first included (default 3). */
  readonly tries?: number;
  /** Wait before the second attempt, doubled before each further one, ms (default 1000). */
  readonly retryDelayMs?: number;
  readonly signal?: AbortSignal | undefined;
  /** Called before each new attempt with its number (2, 3, ...) and what failed. */
  readonly onRetry?: (attempt: number, error: unknown) => void;
}

/** Runs `attempt` until it succeeds, fails for good, or runs out of tries; rethrows the last error as is. */
export async function withRetries<T>(attempt: (n: number) => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const tries = Math.max(1, options.tries ?? 3);
  const delay = options.retryDelayMs ?? 1000;
  for (let n = 1; ; n++) {
    try {
      return await attempt(n);
    } catch (error) {
      if (n >= tries || !isRetryable(error) || options.signal?.aborted === true) throw error;
      options.onRetry?.(n + 1, error);
      await sleep(delay * 2 ** (n - 1), undefined, options.signal === undefined ? {} : { signal: options.signal });
    }
  }
}

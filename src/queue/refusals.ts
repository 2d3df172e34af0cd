/**
 * What users read when a backend refuses or ends a job for a reason of its own (the caps, a deadline, a restart):
 * the same words from the memory queue, the Redis caps and the GPU workers.
 */
import { DiffEditError, ErrorCode } from '../errors.js';

export const SHUTTING_DOWN_MESSAGE = 'The bot is restarting and takes no new jobs right now; try again in a minute.';
export const RESTART_WAITING_MESSAGE = 'The bot is restarting; your job was cancelled. Try again in a minute.';
export const RESTART_RUNNING_MESSAGE = 'The bot is restarting; your job was stopped. Try again in a minute.';

/** The refusal when `userId` already has `waiting` jobs waiting. */
export function userQueueFull(userId: string, waiting: number, limit: number): DiffEditError {
  return new DiffEditError(
    ErrorCode.UserQueueFull,
    `You already have ${waiting} ${waiting === 1 ? 'job' : 'jobs'} waiting; wait for one to start before adding another.`,
    { userId, waiting, limit },
  );
}

/** The refusal when the whole queue is full. */
export function queueFull(userId: string, waiting: number, limit: number): DiffEditError {
  return new DiffEditError(ErrorCode.QueueFull, 'The queue is full right now; try again in a few minutes.', { userId, waiting, limit });
}

/** What a user reads when their running job passed its deadline. */
export function jobTimedOut(timeoutMs: number, details: Record<string, unknown>): DiffEditError {
  return new DiffEditError(
    ErrorCode.JobTimedOut,
    `Your job took longer than ${duration(timeoutMs)} and was stopped. Try again, perhaps with fewer steps.`,
    { ...details, timeoutMs },
  );
}

/** A job Redis no longer knows (restarted without its data): it will never end, so the user is told now. */
export function jobLost(details: Record<string, unknown>): DiffEditError {
  return new DiffEditError(ErrorCode.JobLost, 'Your job was lost because the job queue restarted; run the command again.', details);
}

/** No worker took the job in time: it was withdrawn from the queue. */
export function queueWaitExpired(waitMs: number, details: Record<string, unknown>): DiffEditError {
  return new DiffEditError(
    ErrorCode.QueueWaitExpired,
    `No GPU worker took your job within ${duration(waitMs)}, so it was withdrawn; try again later.`,
    { ...details, waitMs },
  );
}

/** No worker has been seen for a while: a new job would only wait for QUEUE_WAIT_MS, so it is refused now. */
export function noWorker(userId: string, unseenMs: number): DiffEditError {
  return new DiffEditError(ErrorCode.NoWorker, 'No GPU worker is running right now, so the bot cannot take jobs; try again later.', {
    userId,
    unseenMs,
  });
}

/** "30 seconds", "1 minute", "1.5 minutes": for the deadline message. */
function duration(ms: number): string {
  if (ms < 60_000) {
    const seconds = Math.max(1, Math.round(ms / 1000));
    return `${seconds} ${seconds === 1 ? 'second' : 'seconds'}`;
  }
  const minutes = Number((ms / 60_000).toFixed(1));
  return `${minutes} ${minutes === 1 ? 'minute' : 'minutes'}`;
}

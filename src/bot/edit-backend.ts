/**
 * The seam between the bot (Discord, admission, delivery) and whatever runs the edits. QUEUE_BACKEND=memory runs
 * them in this process through {@link JobQueue}; QUEUE_BACKEND=redis hands them to GPU workers through Redis. The
 * lifecycle in job-lifecycle.ts sees only this interface, so positions, progress and refusals read the same in both.
 */
import type { Progress } from '../engine/diffedit/progress.js';
import type { EditRequest, EditResult } from '../engine/engine.js';

/** What a finished edit hands back to the bot: what the result message needs, nothing a worker cannot send. */
export type EditOutput = Pick<EditResult, 'parameters' | 'ref' | 'query' | 'coverage' | 'packedMask' | 'png' | 'timings' | 'warnings'>;

/** Hooks that follow one job; throwing ones are logged and ignored. */
export interface EditHooks {
  /** The job's new 1-based place counting running jobs, whenever it changes while it waits. */
  onPosition(position: number): void;
  /** The job left the line and started. */
  onStart(): void;
  /** The engine finished a step. */
  onProgress(progress: Progress): void;
}

/** A place taken by {@link EditBackend.reserve}: it counts toward the caps until it runs or is released. */
export interface EditSlot {
  /**
   * Puts the job in line and resolves with its output; rejects with a DiffEditError (Aborted, JobTimedOut,
   * ImageTooLarge, the engine's own) or the backend's. Call at most once.
   */
  submit(request: EditRequest, hooks: EditHooks): Promise<EditOutput>;
  /** 1-based place counting running jobs, when known (undefined before submit and once done). */
  position(): number | undefined;
  /** Gives the reservation back (no-op once submitted). */
  release(): Promise<void>;
}

/** Where edits run. */
export interface EditBackend {
  /** Takes a place for `userId`'s next job, or throws a DiffEditError ShuttingDown / UserQueueFull / QueueFull. */
  reserve(userId: string): Promise<EditSlot>;
  /** This process's jobs not running yet (gauge). */
  readonly waiting: number;
  /** This process's jobs running (gauge). */
  readonly running: number;
  /**
   * Stops taking jobs and cancels waiting ones (their submit rejects with Aborted); then waits for running ones or,
   * with `cancelRunning`, stops waiting for them. May be called again with `cancelRunning: true`.
   */
  shutdown(options: { cancelRunning: boolean }): Promise<void>;
}

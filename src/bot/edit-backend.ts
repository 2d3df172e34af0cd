/**
 * The seam between the bot (Discord, admission, delivery) and whatever runs the edits. QUEUE_BACKEND=memory runs
 * them in this process through {@link JobQueue}; QUEUE_BACKEND=redis hands them to GPU workers through Redis. The
 * lifecycle in job-lifecycle.ts sees only this interface, so positions, progress and refusals read the same in both.
 */
import type { Progress } from '../engine/diffedit/progress.js';
import type { EditRequest, EditResult } from '../engine/engine.js';
import type { DeliveryTarget } from './delivery.js';
import type { NewJob } from './job-store.js';

/** What a finished edit hands back to the bot: what the result message needs, nothing a worker cannot send. */
export type EditOutput = Pick<
  EditResult,
  'parameters' | 'ref' | 'query' | 'coverage' | 'packedMask' | 'png' | 'photo' | 'candidates' | 'timings' | 'warnings'
>;

/** Hooks that follow one job; throwing ones are logged and ignored. */
export interface EditHooks {
  /** The job's new 1-based place counting running jobs, whenever it changes while it waits. */
  onPosition(position: number): void;
  /** The job left the line and started. */
  onStart(): void;
  /** The engine finished a step. */
  onProgress(progress: Progress): void;
}

/** What another bot process needs to deliver the job if this one cannot (QUEUE_BACKEND=redis keeps it in Redis). */
export interface Handover {
  readonly target: DeliveryTarget;
  /** What the job store keeps for the result's buttons. */
  readonly job: NewJob;
}

/** Delivery at most once per job, whichever bot process has the result. */
export interface DeliveryGuard {
  /** True when this process is to deliver now; false when another process has it, or has delivered it. */
  claimDelivery(): Promise<boolean>;
  /** The user holds the result or was told why not: nobody delivers it again. */
  settleDelivery(): Promise<void>;
}

/** A job whose bot process died before delivering it, taken over by this one (QUEUE_BACKEND=redis). */
export interface Orphan extends DeliveryGuard, Handover {
  /** The job's picture (kept with the job for its buttons). */
  readonly image: Uint8Array;
  /**
   * Follows the job to its output (maybe finished already), telling `hooks` its place and progress as for a job of
   * this process; rejects as {@link EditSlot.submit} does (JobLost when the queue no longer knows it). Call once.
   */
  follow(hooks: EditHooks): Promise<EditOutput>;
}

/** A place taken by {@link EditBackend.reserve}: it counts toward the caps until it runs or is released. */
export interface EditSlot extends DeliveryGuard {
  /**
   * Puts the job in line and resolves with its output; rejects with a DiffEditError (Aborted, JobTimedOut,
   * ImageTooLarge, the engine's own) or the backend's. Call at most once. `handover` lets another bot process
   * deliver the result should this one die (ignored in memory mode, where the engine dies with the bot).
   */
  submit(request: EditRequest, hooks: EditHooks, handover: Handover): Promise<EditOutput>;
  /** 1-based place counting running jobs, when known (undefined before submit and once done). */
  position(): number | undefined;
  /** Gives the reservation back (no-op once submitted). */
  release(): Promise<void>;
}

/** Where edits run. */
export interface EditBackend {
  /** Takes a place for `userId`'s next job, or throws a DiffEditError ShuttingDown / UserQueueFull / QueueFull. */
  reserve(userId: string): Promise<EditSlot>;
  /** This process's jobs not running yet (downloading or queued). */
  readonly waiting: number;
  /** This process's jobs running. */
  readonly running: number;
  /** Jobs waiting and running in the whole queue (every bot process's, in Redis), for the metrics gauges. */
  counts(): Promise<{ waiting: number; running: number }>;
  /** GPU workers connected when last looked (redis only; absent in memory mode, where the engine is this process). */
  workers?(): number;
  /**
   * Starts taking over deliveries that bot processes which died left behind (redis only; absent in memory mode):
   * `take` is called once per job, with its outcome to await.
   */
  adoptOrphans?(take: (orphan: Orphan) => Promise<void>): void;
  /**
   * Stops taking jobs and cancels waiting ones (their submit rejects with Aborted); then waits for running ones or,
   * with `cancelRunning`, stops waiting for them. May be called again with `cancelRunning: true`.
   */
  shutdown(options: { cancelRunning: boolean }): Promise<void>;
}

/**
 * Progress reporting and cancellation shared by every phase of a DiffEdit run.
 */
import { DiffEditError, ErrorCode } from '../../errors.js';

/** The phases of a run, in order. */
export type Phase = 'mask' | 'invert' | 'decode' | 'render';

/** One progress report: step `step` of `total` in `phase` is done. */
export interface Progress {
  readonly phase: Phase;
  readonly step: number;
  readonly total: number;
}

/** What a caller can hand to a run: a progress callback and a cancellation signal. */
export interface RunControls {
  /** Called after each UNet call (and once per other phase); must not throw. */
  readonly onProgress?: ((progress: Progress) => void) | undefined;
  /** Checked between UNet calls: an aborted signal stops the run with an `Aborted` error. */
  readonly signal?: AbortSignal | undefined;
}

/** Throws the typed `Aborted` error when `signal` has fired. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted === true) {
    throw new DiffEditError(ErrorCode.Aborted, 'The edit was cancelled.', { reason: String(signal.reason ?? '') });
  }
}

/** Reports progress and then checks for cancellation: the one call the loops make between UNet calls. */
export function checkpoint(controls: RunControls, progress: Progress): void {
  controls.onProgress?.(progress);
  throwIfAborted(controls.signal);
}

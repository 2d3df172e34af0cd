/**
 * What {@link downloadModel} tells about its progress, so that the CLI can draw it and tests can record it.
 */

/** How a file came to be in place. */
export type FileOutcome = 'downloaded' | 'present';

/** One file of a finished model download. */
export interface FileResult {
  /** Path inside the repository (and the output folder). */
  readonly path: string;
  readonly size: number;
  readonly outcome: FileOutcome;
  /** Bytes received over the network for it. */
  readonly bytesTransferred: number;
  /** Bytes an earlier, interrupted run had already fetched. */
  readonly resumedFrom: number;
  /** Wall time spent on it, ms. */
  readonly ms: number;
}

/** Receives a model download's progress. */
export interface ProgressReporter {
  /** A transfer of `file` (`total` bytes) begins; `resumedFrom` > 0 when it continues a partial file. */
  start(file: string, total: number, resumedFrom: number): void;
  /** `done` bytes of `file` are on disk. */
  update(file: string, done: number): void;
  /** `file` is in place, downloaded now or found intact. */
  finish(result: FileResult): void;
  /** Attempt `attempt` of `file` follows a failure (network error, corrupt content). */
  retry(file: string, attempt: number, error: unknown): void;
}

/** A reporter that ignores everything. */
export const silentProgress: ProgressReporter = {
  start: () => undefined,
  update: () => undefined,
  finish: () => undefined,
  retry: () => undefined,
};

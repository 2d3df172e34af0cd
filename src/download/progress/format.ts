/**
 * Human-readable sizes, durations and rates for progress lines and summaries.
 */

import { formatBytes, mib } from '../../util/format.js';

export { formatBytes, mib };

const MIB = 1024 * 1024;

/** "done/total unit" in MiB, or KiB for files under 1 MiB (where MiB would read 0.0/0.0). */
export function formatProgress(done: number, total: number): string {
  return total < MIB ? `${(done / 1024).toFixed(1)}/${(total / 1024).toFixed(1)} KiB` : `${mib(done)}/${mib(total)} MiB`;
}

/** Milliseconds as "850ms", "12.3s" or "2m 05s". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const seconds = Math.round(ms / 1000);
  return `${Math.floor(seconds / 60)}m ${String(seconds % 60).padStart(2, '0')}s`;
}

/** A transfer rate in MiB/s ("-" before any time has passed). */
export function formatRate(bytes: number, ms: number): string {
  return ms <= 0 ? '- MiB/s' : `${((bytes / MIB) * (1000 / ms)).toFixed(1)} MiB/s`;
}

/** An error's message for one-line output. */
export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * A free-space check before a download starts: failing after 3 GB with ENOSPC wastes the user's time.
 */
import { statfs } from 'node:fs/promises';
import { DiffEditError, ErrorCode } from '../../errors.js';
import { formatBytes } from '../../util/format.js';

/** Throws a disk-full {@link DiffEditError} when the file system holding `dir` has less than `needed` bytes free. */
export async function ensureFreeSpace(dir: string, needed: number): Promise<void> {
  if (needed <= 0) return;
  // Some file systems (network mounts, containers) cannot say: then ENOSPC while writing is the fallback.
  const stats = await statfs(dir).catch(() => undefined);
  if (stats === undefined) return;
  const free = stats.bavail * stats.bsize;
  if (free >= needed) return;
  throw new DiffEditError(
    ErrorCode.DownloadFailed,
    `Not enough disk space in ${dir}: the download needs ${formatBytes(needed)} more, ${formatBytes(free)} are free. Free some space or pick another --out.`,
    { dir, needed, free, reason: 'disk-full' },
  );
}

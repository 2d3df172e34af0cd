/**
 * The closing line of a model download, for people.
 */
import type { DownloadSummary } from '../download-model.js';
import { formatBytes, formatDuration, formatRate } from './format.js';

/** E.g. "stable-diffusion-v1-5/stable-diffusion-v1-5@onnx (commit 0123456789ab) -> /srv/models: 11 files, 3.97 GiB; 2 downloaded (3.2 GiB in 2m 05s, 26.2 MiB/s), 9 already present." */
export function summaryText(summary: DownloadSummary): string {
  // The commit's first 12 hex digits name it unambiguously in practice (git's short ids use fewer).
  const head = `${summary.repo}@${summary.revision} (commit ${summary.commit.slice(0, 12)}) -> ${summary.outDir}: ${summary.files.length} files, ${formatBytes(summary.totalBytes)}`;
  const parts: string[] = [];
  if (summary.downloaded > 0) {
    parts.push(
      `${summary.downloaded} downloaded (${formatBytes(summary.bytesTransferred)} in ${formatDuration(summary.ms)}, ${formatRate(summary.bytesTransferred, summary.ms)})`,
    );
  }
  if (summary.present > 0) parts.push(`${summary.present} already present`);
  return `${head}; ${parts.join(', ')}.`;
}

/**
 * Sizes as people read them, shared by user messages (picture limits) and the download progress lines.
 */

const MIB = 1024 * 1024;

/** Bytes as MiB with one decimal, no unit. */
export function mib(bytes: number): string {
  return (bytes / MIB).toFixed(1);
}

/** Bytes in the largest fitting unit: "812 B", "3.4 MiB", "3.97 GiB". */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < MIB) return `${(bytes / 1024).toFixed(1)} KiB`;
  if (bytes < 1024 * MIB) return `${mib(bytes)} MiB`;
  return `${(bytes / (1024 * MIB)).toFixed(2)} GiB`;
}

/** Pixels as megapixels with at most one decimal, no unit: "50", "0.3". */
export function megapixels(pixels: number): string {
  return (pixels / 1_000_000).toFixed(1).replace(/\.0$/, '');
}

/**
 * Content hashing matching the hub's listing: sha256 for LFS files, git's blob sha1 for the rest.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { Checksum } from '../hub/file.js';

/** Creates the hasher for `checksum`'s algorithm over content of `size` bytes (git hashes a header with the size). */
export function createContentHash(checksum: Checksum, size: number): Hash {
  if (checksum.algorithm === 'sha256') return createHash('sha256');
  return createHash('sha1').update(`blob ${size}\0`);
}

/** Feeds the first `length` bytes of `file` (all of it when undefined) into `hash`. */
export async function hashFileInto(hash: Hash, file: string, length?: number): Promise<void> {
  if (length === 0) return;
  const stream = createReadStream(file, { highWaterMark: 1 << 20, ...(length !== undefined ? { end: length - 1 } : {}) });
  for await (const chunk of stream) hash.update(chunk as Buffer);
}

/** Whether `file` (of `size` bytes) has the content `checksum` names. */
export async function fileMatches(file: string, size: number, checksum: Checksum): Promise<boolean> {
  const hash = createContentHash(checksum, size);
  await hashFileInto(hash, file);
  return hash.digest('hex') === checksum.hex;
}

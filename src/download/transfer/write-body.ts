/**
 * Streams a response body into an open file, hashing it on the way, so that whatever arrived is on disk even
 * when the transfer breaks (the next attempt resumes from the file's size).
 */
import type { Hash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';

// Writes go out in blocks of this size: one syscall per network chunk would be slow for gigabyte files.
const BLOCK = 4 << 20;

/** Appends every chunk of `body` to `handle`, updating `hash` and calling `onBytes` with the bytes written so far. */
export async function writeBody(
  body: AsyncIterable<Uint8Array>,
  handle: FileHandle,
  hash: Hash,
  onBytes: (written: number) => void,
): Promise<number> {
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  let written = 0;
  const flush = async (): Promise<void> => {
    if (pendingBytes === 0) return;
    const block = pending.length === 1 ? (pending[0] as Uint8Array) : Buffer.concat(pending, pendingBytes);
    pending = [];
    pendingBytes = 0;
    await writeAll(handle, block);
    written += block.byteLength;
    onBytes(written);
  };
  try {
    for await (const chunk of body) {
      hash.update(chunk);
      pending.push(chunk);
      pendingBytes += chunk.byteLength;
      if (pendingBytes >= BLOCK) await flush();
    }
  } finally {
    // Also on a broken transfer: keep what arrived so the retry asks only for the rest.
    await flush();
  }
  return written;
}

async function writeAll(handle: FileHandle, data: Uint8Array): Promise<void> {
  for (let offset = 0; offset < data.byteLength;) {
    const { bytesWritten } = await handle.write(data, offset, data.byteLength - offset);
    offset += bytesWritten;
  }
}

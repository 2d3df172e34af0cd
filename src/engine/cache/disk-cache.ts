/**
 * The on-disk tier of the stage cache (DATA_DIR/cache): one file per entry, so that Rerolls after a restart still
 * skip the mask and the inversion. Capped in bytes, least recently used first (a file's mtime records its last
 * use). Nothing here is fatal: a corrupt or unreadable entry is logged and removed, a full disk or a failed write
 * is logged and only costs the cache.
 *
 * File format (little-endian): "DEC1", the key's 32 bytes, the array count (u32), each array's length in floats
 * (u32), the floats, and a SHA-256 of everything before it, so a torn or damaged file is never read as data.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { endianness } from 'node:os';
import { silentLogger, type Logger } from '../../logger.js';
import { LruIndex } from '../../util/lru-index.js';
import { entryBytes, type StageCache } from './stage-cache.js';

const MAGIC = Buffer.from('DEC1');
const DIGEST = 32;
/** Keys are SHA-256 digests in hex (cache-keys.ts): nothing else may name a file. */
const KEY_PATTERN = /^[0-9a-f]{64}$/;
const FILE_PATTERN = /^([0-9a-f]{64})\.stage$/;
const TEMP_PATTERN = /^[0-9a-f]{64}\.stage\.[A-Za-z0-9_-]{8}\.tmp$/;

/** Options of {@link DiskStageCache.open}. */
export interface DiskCacheOptions {
  /** Cap on the bytes of all entries together. */
  readonly maxBytes: number;
  readonly logger?: Logger;
}

/** A directory of cache entries with an LRU byte cap. */
export class DiskStageCache implements StageCache {
  /** Each entry's bytes and last use; rebuilt from the directory on open. */
  readonly #index = new LruIndex();

  private constructor(
    private readonly dir: string,
    private readonly maxBytes: number,
    private readonly logger: Logger,
  ) {}

  /** Opens (creating if needed) the cache in `dir`, removing leftovers of interrupted writes. */
  static async open(dir: string, options: DiskCacheOptions): Promise<DiskStageCache> {
    const cache = new DiskStageCache(dir, options.maxBytes, options.logger ?? silentLogger);
    await mkdir(dir, { recursive: true });
    for (const name of await readdir(dir)) {
      if (TEMP_PATTERN.test(name)) {
        await rm(join(dir, name), { force: true });
        continue;
      }
      const key = FILE_PATTERN.exec(name)?.[1];
      if (key === undefined) continue;
      const info = await stat(join(dir, name));
      if (info.isFile()) cache.#index.track(key, info.size, info.mtimeMs);
    }
    await cache.#evictDownTo(cache.maxBytes);
    cache.logger.info('stage cache opened', { dir, entries: cache.#index.size, usedBytes: cache.#index.usedBytes, maxBytes: cache.maxBytes });
    return cache;
  }

  /** Bytes of all entries' files. */
  get usedBytes(): number {
    return this.#index.usedBytes;
  }

  async get(key: string): Promise<Float32Array[] | undefined> {
    if (!KEY_PATTERN.test(key)) return undefined;
    const path = this.#path(key);
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') this.logger.warn('stage cache entry unreadable: ignored', { key, error });
      this.#index.untrack(key);
      return undefined;
    }
    const arrays = decodeEntry(bytes, key);
    if (arrays === undefined) {
      this.logger.warn('stage cache entry corrupt: removed', { key, bytes: bytes.length });
      this.#index.untrack(key);
      await rm(path, { force: true }).catch(() => undefined);
      return undefined;
    }
    const now = this.#index.tick();
    this.#index.track(key, bytes.length, now);
    await utimes(path, new Date(now), new Date(now)).catch(() => undefined);
    return arrays;
  }

  async set(key: string, arrays: readonly Float32Array[]): Promise<void> {
    if (!KEY_PATTERN.test(key)) throw new RangeError(`not a cache key: ${key}`);
    const data = encodeEntry(key, arrays);
    if (data.length > this.maxBytes) return;
    // Room first, so the cap holds even while the file is being written.
    await this.#evictDownTo(this.maxBytes - data.length, key);
    const temp = `${this.#path(key)}.${randomBytes(6).toString('base64url')}.tmp`;
    try {
      await writeFile(temp, data);
      await rename(temp, this.#path(key));
      this.#index.track(key, data.length, this.#index.tick());
    } catch (error) {
      await rm(temp, { force: true }).catch(() => undefined);
      this.logger.warn('stage cache write failed: entry not kept', { key, code: (error as NodeJS.ErrnoException).code, error });
      // A full disk: give back half of what the cache holds, so the jobs and the next entries have room.
      if ((error as NodeJS.ErrnoException).code === 'ENOSPC') await this.#evictDownTo(this.#index.usedBytes / 2);
    }
  }

  #path(key: string): string {
    return join(this.dir, `${key}.stage`);
  }

  /** Removes least recently used entries, except `keep`, until at most `bytes` are used. */
  async #evictDownTo(bytes: number, keep?: string): Promise<void> {
    for (const key of this.#index.takeVictims(bytes, keep)) {
      await rm(this.#path(key), { force: true }).catch((error: unknown) => this.logger.warn('could not remove a stage cache entry', { key, error }));
    }
  }
}

/** The bytes of one entry file. */
export function encodeEntry(key: string, arrays: readonly Float32Array[]): Buffer {
  const head = Buffer.alloc(MAGIC.length + DIGEST + 4 + 4 * arrays.length);
  MAGIC.copy(head, 0);
  Buffer.from(key, 'hex').copy(head, MAGIC.length);
  head.writeUInt32LE(arrays.length, MAGIC.length + DIGEST);
  arrays.forEach((a, i) => head.writeUInt32LE(a.length, MAGIC.length + DIGEST + 4 + 4 * i));
  const parts = [head, ...arrays.map((a) => littleEndian(a))];
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return Buffer.concat([...parts, hash.digest()], head.length + entryBytes(arrays) + DIGEST);
}

/** The arrays of an entry file, or undefined when it is damaged, truncated or holds another key. */
export function decodeEntry(bytes: Buffer, key: string): Float32Array[] | undefined {
  const headEnd = MAGIC.length + DIGEST + 4;
  if (bytes.length < headEnd + DIGEST) return undefined;
  const body = bytes.subarray(0, bytes.length - DIGEST);
  if (
    !createHash('sha256')
      .update(body)
      .digest()
      .equals(bytes.subarray(bytes.length - DIGEST))
  )
    return undefined;
  if (!body.subarray(0, MAGIC.length).equals(MAGIC) || body.toString('hex', MAGIC.length, MAGIC.length + DIGEST) !== key) return undefined;
  const count = body.readUInt32LE(MAGIC.length + DIGEST);
  let offset = headEnd + 4 * count;
  if (offset > body.length) return undefined;
  const arrays: Float32Array[] = [];
  for (let i = 0; i < count; i++) {
    const length = body.readUInt32LE(headEnd + 4 * i);
    if (offset + 4 * length > body.length) return undefined;
    arrays.push(fromLittleEndian(body, offset, length));
    offset += 4 * length;
  }
  return offset === body.length ? arrays : undefined;
}

/** Entries are little-endian; on a little-endian machine (nearly all) the arrays' own bytes are that already. */
const NATIVE_LITTLE_ENDIAN = endianness() === 'LE';

/** The array's bytes in little-endian order: a view of them where that is the machine's order. */
function littleEndian(array: Float32Array): Buffer {
  if (NATIVE_LITTLE_ENDIAN) return Buffer.from(array.buffer, array.byteOffset, array.byteLength);
  const out = Buffer.alloc(array.byteLength);
  for (let i = 0; i < array.length; i++) out.writeFloatLE(array[i] as number, 4 * i);
  return out;
}

/** `length` little-endian floats of `bytes` from `offset`, as a copy (aligned, independent of the file's buffer). */
function fromLittleEndian(bytes: Buffer, offset: number, length: number): Float32Array {
  const start = bytes.byteOffset + offset;
  if (NATIVE_LITTLE_ENDIAN) return new Float32Array(bytes.buffer.slice(start, start + 4 * length));
  const array = new Float32Array(length);
  for (let j = 0; j < length; j++) array[j] = bytes.readFloatLE(offset + 4 * j);
  return array;
}

/**
 * Finished jobs, so that Reroll / Edit-with-mask / Delete buttons keep working after a restart: the {@link JobStore}
 * interface, and its file implementation (memory mode; QUEUE_BACKEND=redis keeps them in Redis, queue/redis/job-store.ts,
 * so that any bot process can answer any button).
 *
 * On disk (DATA_DIR), each job is
 * `<id>.img` (the input picture) plus `<id>.json` (everything else), and `<id>.out` (the result, bytes this store
 * does not read: see undelivered-result.ts) when no delivery route reached the user; the total is capped and the
 * least recently used jobs go first. The JSON file's mtime records when a job was last used. Disk faults are typed: start-up names the cause and the directory, and a save
 * on a full disk evicts old jobs to make room before it gives up.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, mkdir, open, readdir, readFile, rename, rm, stat, utimes } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { isPackedMask, type PackedMask } from '../engine/diffedit/packed-mask.js';
import { isStoredCandidates, type StoredCandidate } from './candidates.js';
import { DiffEditError, ErrorCode } from '../errors.js';
import { type Logger, silentLogger } from '../logger.js';
import { LruIndex } from '../util/lru-index.js';

/** One finished job, as kept on disk. */
export interface StoredJob {
  /** Short, URL-safe, random: button custom_ids are "reroll:<id>" and must stay within 100 characters. */
  readonly id: string;
  /** A full edit, or only its mask. */
  readonly kind: 'diffedit' | 'mask';
  /** Who ran it: they may delete it. */
  readonly userId: string;
  /** Who brought the picture (the first job of a Reroll / Edit chain): they may delete anything made from it. */
  readonly sourceUserId: string;
  /** Where the result was posted. */
  readonly channelId: string;
  /** The guild of that channel; null in DMs. */
  readonly guildId: string | null;
  /** The prompt describing the picture as it is. */
  readonly ref: string;
  /** The prompt describing what it should become. */
  readonly query: string;
  /** The EditParameters used (seed, steps, ...) as plain JSON. */
  readonly parameters: Readonly<Record<string, unknown>>;
  /** Milliseconds since the epoch. */
  readonly createdAt: number;
  /** Size of the stored input picture. */
  readonly imageBytes: number;
  /** A mask job's latent mask, which "Edit with this mask" reuses exactly (about 700 characters at 512 px). */
  readonly latentMask?: PackedMask;
  /** Candidates asked for; absent: the engine's default (VARIATIONS_DEFAULT). */
  readonly variations?: number;
  /** A job of several candidates: each one's seed and full-size photo, which "Use k" posts (candidates.ts). */
  readonly candidates?: readonly StoredCandidate[];
}

/** What the lifecycle hands the store: the job without what the store fills in. */
export type NewJob = Omit<StoredJob, 'id' | 'createdAt' | 'imageBytes'>;

/**
 * Where finished jobs are kept, with an LRU byte cap. Implementations keep a job's JSON whole, fields they do not
 * know included.
 */
export interface JobStore {
  /** Keeps a job and its input picture under a new id; evicts least recently used jobs beyond the cap. */
  save(job: NewJob, image: Uint8Array): Promise<StoredJob>;
  /** The job and its picture (marked as used), or undefined when malformed, unknown, evicted or corrupt. */
  load(id: string): Promise<{ job: StoredJob; image: Uint8Array } | undefined>;
  /** Removes a job; unknown or malformed ids are ignored. */
  delete(id: string): Promise<void>;
  /** Keeps the result of a job that no delivery route reached, counted in the cap. */
  keepUndelivered(id: string, result: Uint8Array): Promise<void>;
  /** Ids of the jobs holding an undelivered result. */
  undelivered(): Promise<string[]>;
  /**
   * Takes an undelivered result for one delivery attempt: the job and the result, or undefined when it is gone or
   * another bot process took it. Settle it with {@link settleUndelivered}.
   */
  takeUndelivered(id: string): Promise<{ job: StoredJob; result: Uint8Array } | undefined>;
  /** Delivered: the result is dropped (the job stays for its buttons). Not delivered: kept for the next try. */
  settleUndelivered(id: string, delivered: boolean): Promise<void>;
  /** Lets go of connections (no-op on disk). */
  close(): Promise<void>;
}

/** Options of {@link FileJobStore.open}. */
export interface JobStoreOptions {
  /** Cap on the bytes of all jobs' files together. */
  readonly maxBytes: number;
  /** Where eviction and corruption notes go; default silent. */
  readonly logger?: Logger;
}

/** Length of the ids {@link JobStore.save} makes (16 base64url characters: 96 random bits). */
export const JOB_ID_LENGTH = 16;

/**
 * What an id must look like before it gets near the file system: no dots, no slashes, nothing to escape the
 * directory; and exactly the length the store generates, so a crafted id cannot name someone else's file either.
 */
const ID_PATTERN = new RegExp(`^[A-Za-z0-9_-]{${JOB_ID_LENGTH}}$`);
/**
 * The files the store made, recognised by the exact id length it generates: the directory may be shared (DATA_DIR),
 * and a file such as `settings.json` must be neither counted nor cleaned up.
 */
const FILE_PATTERN = new RegExp(`^([A-Za-z0-9_-]{${JOB_ID_LENGTH}})\\.(json|img|out)$`);
/** Leftovers of writes interrupted by a crash: `<id>.<ext>.<random>.tmp`. */
const TEMP_PATTERN = new RegExp(`^[A-Za-z0-9_-]{${JOB_ID_LENGTH}}\\.(json|img|out)\\.[A-Za-z0-9_-]{8}\\.tmp$`);

/** True when `id` has the shape of a job id; anything else is refused before touching the disk. */
export function isJobId(id: string): boolean {
  return ID_PATTERN.test(id);
}

/** Makes a new job id: short, URL-safe, random. */
function newJobId(): string {
  return randomBytes((JOB_ID_LENGTH * 3) / 4).toString('base64url');
}

/** A directory of finished jobs with an LRU byte cap. */
export class FileJobStore implements JobStore {
  readonly #dir: string;
  readonly #maxBytes: number;
  readonly #logger: Logger;
  /** Each job's bytes (all its files) and last use. */
  readonly #index = new LruIndex();

  private constructor(dir: string, maxBytes: number, logger: Logger) {
    this.#dir = dir;
    this.#maxBytes = maxBytes;
    this.#logger = logger;
  }

  /**
   * Opens (creating if needed) the store in `dir`: removes leftovers of interrupted writes and half-saved jobs, counts
   * the bytes in use, and evicts down to `maxBytes` in case the cap was lowered since the last run.
   */
  static async open(dir: string, options: JobStoreOptions): Promise<FileJobStore> {
    if (!(options.maxBytes > 0)) throw new RangeError(`maxBytes must be positive, got ${options.maxBytes}`);
    const store = new FileJobStore(dir, options.maxBytes, options.logger ?? silentLogger);
    try {
      await mkdir(dir, { recursive: true });
      await store.#scan();
      await store.#evict(undefined);
      // A directory that exists but cannot be written fails here, at start-up, not on the first finished job.
      await access(dir, constants.W_OK);
    } catch (error) {
      throw await unusableDirectory(dir, error);
    }
    store.#logger.info('job store opened', { dir, jobs: store.#index.size, usedBytes: store.#index.usedBytes, maxBytes: store.#maxBytes });
    return store;
  }

  /** Bytes of all jobs' files together. */
  get usedBytes(): number {
    return this.#index.usedBytes;
  }

  /**
   * Saves a job and its input picture under a new id: each file is written to a temporary name and renamed, the
   * picture first, so a crash never leaves a job that loads half-written. Then evicts least recently used jobs until
   * the total fits `maxBytes`, never the one just saved (even when it alone is over the cap).
   */
  async save(job: NewJob, image: Uint8Array): Promise<StoredJob> {
    try {
      return await this.#save(job, image);
    } catch (error) {
      if (errorCode(error) !== 'ENOSPC') throw storeFailed(this.#dir, error);
      // A full disk: give back the older half of what we hold, then try once more.
      const freed = await this.#evictDownTo(this.#index.usedBytes / 2, undefined);
      this.#logger.warn('disk full while saving a job: evicted old jobs to make room', { freedBytes: freed, usedBytes: this.#index.usedBytes });
      try {
        return await this.#save(job, image);
      } catch (retryError) {
        throw storeFailed(this.#dir, retryError);
      }
    }
  }

  /**
   * Keeps the result of a job that no delivery route could reach (`<id>.out`), so an operator or a later delivery can
   * still hand it over; counted in the cap like the rest of the job.
   */
  async keepUndelivered(id: string, result: Uint8Array): Promise<void> {
    if (!isJobId(id)) throw new RangeError(`not a job id: ${id}`);
    try {
      await this.#writeAtomically(this.#path(id, 'out'), result);
    } catch (error) {
      throw storeFailed(this.#dir, error);
    }
    const entry = this.#index.get(id);
    if (entry !== undefined) this.#index.track(id, entry.bytes + result.byteLength, entry.lastUsed);
  }

  async undelivered(): Promise<string[]> {
    const names = await readdir(this.#dir);
    return names.flatMap((name) => {
      const match = FILE_PATTERN.exec(name);
      return match?.[2] === 'out' && match[1] !== undefined ? [match[1]] : [];
    });
  }

  /** One process owns the directory: taking is reading. */
  async takeUndelivered(id: string): Promise<{ job: StoredJob; result: Uint8Array } | undefined> {
    const saved = await this.load(id);
    if (saved === undefined) return undefined;
    try {
      return { job: saved.job, result: new Uint8Array(await readFile(this.#path(id, 'out'))) };
    } catch (error) {
      if (!isNotFound(error)) this.#logger.error('could not read an undelivered result', { job: id, error });
      return undefined;
    }
  }

  async settleUndelivered(id: string, delivered: boolean): Promise<void> {
    if (!delivered || !isJobId(id)) return;
    const path = this.#path(id, 'out');
    const bytes = await stat(path).then(
      (info) => info.size,
      () => 0,
    );
    await rm(path, { force: true });
    const entry = this.#index.get(id);
    if (entry !== undefined) this.#index.track(id, entry.bytes - bytes, entry.lastUsed);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  async #save(job: NewJob, image: Uint8Array): Promise<StoredJob> {
    const stored = storedJob(job, image);
    const { id } = stored;
    const json = Buffer.from(JSON.stringify(stored));
    await this.#writeAtomically(this.#path(id, 'img'), image);
    try {
      await this.#writeAtomically(this.#path(id, 'json'), json);
    } catch (error) {
      await rm(this.#path(id, 'img'), { force: true });
      throw error;
    }
    const lastUsed = this.#index.tick();
    await this.#touch(id, lastUsed);
    this.#index.track(id, image.byteLength + json.byteLength, lastUsed);
    await this.#evict(id);
    this.#logger.debug('job saved', { job: id, bytes: image.byteLength + json.byteLength, usedBytes: this.#index.usedBytes });
    return stored;
  }

  /**
   * The job and its picture, or undefined when the id is malformed, unknown, evicted or corrupt (corrupt jobs are
   * logged, never thrown). Marks the job as recently used.
   */
  async load(id: string): Promise<{ job: StoredJob; image: Uint8Array } | undefined> {
    if (!isJobId(id)) {
      this.#logger.warn('refused a malformed job id', { id: id.slice(0, 100) });
      return undefined;
    }
    let text: string;
    let image: Uint8Array;
    try {
      text = await readFile(this.#path(id, 'json'), 'utf8');
      image = new Uint8Array(await readFile(this.#path(id, 'img')));
    } catch (error) {
      if (isNotFound(error)) {
        // Gone (evicted, deleted, never existed); forget it if we still counted it.
        this.#index.untrack(id);
        return undefined;
      }
      this.#logger.error('could not read a stored job', { job: id, error });
      return undefined;
    }

    const job = parseJob(text, id);
    if (job === undefined || job.imageBytes !== image.byteLength) {
      // Left in place and not marked as used: it ages out through the LRU like any other job.
      this.#logger.warn('stored job is corrupt', { job: id, reason: job === undefined ? 'bad json' : 'image size mismatch' });
      return undefined;
    }

    const lastUsed = this.#index.tick();
    try {
      await this.#touch(id, lastUsed);
    } catch (error) {
      // Evicted or deleted since the read: the caller still gets what it read, but there is nothing left to count.
      if (!isNotFound(error)) this.#logger.warn('could not mark a job as used', { job: id, error });
      return { job, image };
    }
    this.#index.track(id, this.#index.get(id)?.bytes ?? Buffer.byteLength(text) + image.byteLength, lastUsed);
    return { job, image };
  }

  /** Removes a job's files; unknown or malformed ids are ignored. */
  async delete(id: string): Promise<void> {
    if (!isJobId(id)) return;
    this.#index.untrack(id);
    await this.#remove(id);
  }

  /** The JSON first: without it the job no longer loads, even if removing the rest fails. */
  async #remove(id: string): Promise<void> {
    for (const extension of ['json', 'img', 'out'] as const) await rm(this.#path(id, extension), { force: true });
  }

  #path(id: string, extension: 'json' | 'img' | 'out'): string {
    return join(this.#dir, `${id}.${extension}`);
  }

  async #touch(id: string, lastUsed: number): Promise<void> {
    const time = new Date(lastUsed);
    await utimes(this.#path(id, 'json'), time, time);
  }

  /** Removes least recently used jobs, except `keep`, until the total fits the cap. */
  async #evict(keep: string | undefined): Promise<void> {
    if (this.#index.usedBytes <= this.#maxBytes) return;
    await this.#evictDownTo(this.#maxBytes, keep);
    if (this.#index.usedBytes > this.#maxBytes) {
      this.#logger.warn('job store still over its cap: the newest job alone is larger', {
        job: keep,
        usedBytes: this.#index.usedBytes,
        maxBytes: this.#maxBytes,
      });
    }
  }

  /** Removes least recently used jobs, except `keep`, until at most `bytes` are used; returns the bytes freed. */
  async #evictDownTo(bytes: number, keep: string | undefined): Promise<number> {
    const before = this.#index.usedBytes;
    // Chosen and untracked synchronously, so concurrent saves never pick the same victims twice.
    const victims = this.#index.takeVictims(bytes, keep);
    for (const id of victims) await this.#remove(id);
    if (victims.length > 0) this.#logger.info('evicted old jobs', { jobs: victims.length, usedBytes: this.#index.usedBytes });
    return before - this.#index.usedBytes;
  }

  /** Rebuilds the index from the directory; files that are not ours are left alone. */
  async #scan(): Promise<void> {
    const files = new Map<string, { json?: { size: number; mtimeMs: number }; img?: { size: number }; out?: { size: number } }>();
    for (const name of await readdir(this.#dir)) {
      if (TEMP_PATTERN.test(name)) {
        await rm(join(this.#dir, name), { force: true });
        continue;
      }
      const match = FILE_PATTERN.exec(name);
      if (match === null) continue;
      const [, id, extension] = match as unknown as [string, string, 'json' | 'img' | 'out'];
      const info = await stat(join(this.#dir, name));
      if (!info.isFile()) continue;
      const entry = files.get(id) ?? {};
      if (extension === 'json') entry.json = { size: info.size, mtimeMs: info.mtimeMs };
      else entry[extension] = { size: info.size };
      files.set(id, entry);
    }
    for (const [id, { json, img, out }] of files) {
      if (json === undefined || img === undefined) {
        this.#logger.warn('removing a half-saved job', { job: id });
        await this.delete(id);
        continue;
      }
      if (out !== undefined) this.#logger.warn('a stored job holds a result that was never delivered', { job: id, file: this.#path(id, 'out') });
      this.#index.track(id, json.size + img.size + (out?.size ?? 0), json.mtimeMs);
    }
  }

  async #writeAtomically(path: string, data: Uint8Array): Promise<void> {
    const temp = `${path}.${randomBytes(6).toString('base64url')}.tmp`; // 8 characters, as TEMP_PATTERN expects
    try {
      const handle = await open(temp, 'wx');
      try {
        await handle.writeFile(data);
        // Flushed before the rename, so that after a power cut the name never points at an empty file.
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temp, path);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
  }
}

/** A new job's stored form: `job`'s fields (all of them, issue-specific ones too) plus id, time and picture size. */
export function storedJob(job: NewJob, image: Uint8Array): StoredJob {
  return { ...job, id: newJobId(), createdAt: Date.now(), imageBytes: image.byteLength };
}

/** The job in `text` when it is well-formed and really is job `id`. */
export function parseJob(text: string, id: string): StoredJob | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const job = value as Record<string, unknown>;
  const valid =
    job['id'] === id &&
    (job['kind'] === 'diffedit' || job['kind'] === 'mask') &&
    typeof job['userId'] === 'string' &&
    (job['sourceUserId'] === undefined || typeof job['sourceUserId'] === 'string') &&
    typeof job['channelId'] === 'string' &&
    (typeof job['guildId'] === 'string' || job['guildId'] === null) &&
    typeof job['ref'] === 'string' &&
    typeof job['query'] === 'string' &&
    typeof job['parameters'] === 'object' &&
    job['parameters'] !== null &&
    !Array.isArray(job['parameters']) &&
    typeof job['createdAt'] === 'number' &&
    typeof job['imageBytes'] === 'number' &&
    (job['latentMask'] === undefined || isPackedMask(job['latentMask'])) &&
    (job['variations'] === undefined || typeof job['variations'] === 'number') &&
    (job['candidates'] === undefined || isStoredCandidates(job['candidates']));
  // Jobs saved before sourceUserId existed: their author brought the picture.
  return valid ? ({ sourceUserId: job['userId'], ...job } as unknown as StoredJob) : undefined;
}

function isNotFound(error: unknown): boolean {
  return errorCode(error) === 'ENOENT';
}

function errorCode(error: unknown): string | undefined {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** What the common file-system error codes mean to an operator. */
const FS_CAUSES: Readonly<Record<string, string>> = {
  EROFS: 'the file system is read-only',
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is used up',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOTDIR: 'a part of the path is a file, not a directory',
  EEXIST: 'a file of that name is in the way',
};

/**
 * A start-up error that names the real cause. mkdir on a path under a read-only or unwritable directory can report
 * ENOENT for the missing part instead, so the nearest existing ancestor is checked for writability too.
 */
async function unusableDirectory(dir: string, error: unknown): Promise<DiffEditError> {
  let code = errorCode(error);
  let where = dir;
  if (code === 'ENOENT' || code === undefined) {
    for (let parent = dirname(dir); ; parent = dirname(parent)) {
      const probe = await access(parent, constants.W_OK).then(
        () => 'ok' as const,
        (e: unknown) => errorCode(e),
      );
      if (probe !== 'ENOENT') {
        if (probe !== 'ok' && probe !== undefined) [code, where] = [probe, parent];
        break;
      }
      if (dirname(parent) === parent) break;
    }
  }
  const cause = code === undefined ? String(error) : `${FS_CAUSES[code] ?? 'it cannot be used'} (${code})`;
  return new DiffEditError(
    ErrorCode.DataDirUnusable,
    `The job directory ${dir} cannot be used: ${cause}${where === dir ? '' : ` at ${where}`}. Set DATA_DIR to a writable directory.`,
    { dir, code, where },
    { cause: error },
  );
}

function storeFailed(dir: string, error: unknown): DiffEditError {
  const code = errorCode(error);
  return new DiffEditError(
    ErrorCode.StoreFailed,
    `The job could not be kept in ${dir}${code === undefined ? '' : `: ${FS_CAUSES[code] ?? code} (${code})`}.`,
    { dir, code },
    { cause: error },
  );
}

/**
 * `downloadFile`: one repository file to disk, resumable and verified. Bytes go to `<dest>.partial`; an
 * existing partial file is continued with a Range request; the result is checked against the listing's size
 * and checksum before it is renamed into place, so `dest` only ever holds a complete, verified file.
 */
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Dispatcher } from 'undici';
import { DiffEditError, ErrorCode, isDiffEditError } from '../../errors.js';
import { abortedError, fileSystemError, httpStatusError, incompleteTransfer, isNetworkError, networkError } from '../hub/errors.js';
import { createContentHash, fileMatches, hashFileInto } from './hash.js';
import { checksumOf, type Checksum, type HubFile } from '../hub/file.js';
import { normaliseEndpoint, resolveUrl, type RepoRef } from '../hub/url.js';
import { headerValue } from '../../util/headers.js';
import { discard, hubGet, type HubResponse } from '../hub/http.js';
import { DEFAULT_MIN_RATE, enforceMinRate, type MinRate } from './min-rate.js';
import { withRetries, type RetryOptions } from './retry.js';
import { writeBody } from './write-body.js';

/** Options of {@link downloadFile}. */
export interface DownloadFileOptions extends RepoRef, RetryOptions {
  /** The file as listed by {@link listRepoFiles} (its size and checksum are verified). */
  readonly file: HubFile;
  /** Where the verified file ends up. */
  readonly dest: string;
  /** Hub token (HF_TOKEN), sent to the endpoint's origin only, never to the CDN it redirects to. */
  readonly token?: string | undefined;
  /** Idle limit for headers and for each pause in the body, ms (default 60 s). */
  readonly timeoutMs?: number;
  /** A transfer slower than this is aborted and retried (default {@link DEFAULT_MIN_RATE}). */
  readonly minRate?: MinRate;
  readonly dispatcher?: Dispatcher | undefined;
  /** A transfer begins; `resumedFrom` > 0 when it continues a partial file. */
  readonly onStart?: (resumedFrom: number) => void;
  /** Bytes of the file on disk so far (resumed prefix included). */
  readonly onProgress?: (done: number) => void;
}

/** What {@link downloadFile} did. */
export interface DownloadFileResult {
  /** Bytes received over the network by the successful attempt. */
  readonly bytesTransferred: number;
  /** Size of the partial file that attempt continued (0: from scratch). */
  readonly resumedFrom: number;
  /** Attempts made, the successful one included. */
  readonly attempts: number;
}

/** The suffix of a file being downloaded. */
export const PARTIAL_SUFFIX = '.partial';

/** Downloads `file` to `dest`; throws {@link ErrorCode.ChecksumMismatch} for corrupt content (after one fresh retry). */
export async function downloadFile(options: DownloadFileOptions): Promise<DownloadFileResult> {
  const ref: RepoRef = { endpoint: normaliseEndpoint(options.endpoint), repo: options.repo, revision: options.revision, commit: options.commit };
  const url = resolveUrl(ref, options.file.path);
  const partial = `${options.dest}${PARTIAL_SUFFIX}`;
  await mkdir(path.dirname(options.dest), { recursive: true }).catch((error: unknown) => {
    throw fileSystemError(error, options.dest) ?? error;
  });
  let attempts = 0;
  let freshRetryLeft = true;
  for (;;) {
    try {
      const result = await withRetries(() => {
        attempts++;
        return attemptOnce(url, ref, partial, options);
      }, options);
      return { ...result, attempts };
    } catch (error) {
      if (options.signal?.aborted === true) throw abortedError(options.signal.reason);
      // A corrupt result may come from a stale partial file or a bad cache node: start over once before giving up.
      if (isDiffEditError(error, ErrorCode.ChecksumMismatch) && freshRetryLeft) {
        freshRetryLeft = false;
        options.onRetry?.(attempts + 1, error);
        continue;
      }
      throw fileSystemError(error, options.dest) ?? (isNetworkError(error) ? networkError(error, url, options.file.path) : error);
    }
  }
}

async function attemptOnce(url: string, ref: RepoRef, partial: string, options: DownloadFileOptions): Promise<Omit<DownloadFileResult, 'attempts'>> {
  const { file, dest } = options;
  const checksum = checksumOf(file);
  let offset = await sizeOf(partial);
  if (offset > file.size) offset = await restart(partial);
  if (offset === file.size) {
    // A complete leftover (interrupted between the last byte and the rename): verify it instead of asking again.
    if (await fileMatches(partial, file.size, checksum)) {
      await rename(partial, dest);
      options.onStart?.(offset);
      options.onProgress?.(offset);
      return { bytesTransferred: 0, resumedFrom: offset };
    }
    offset = await restart(partial);
  }

  let response = await get(url, ref, offset, options);
  if (response.statusCode === 416 && offset > 0) {
    // The server cannot serve that range (the file changed under us): start over.
    await discard(response.body);
    offset = await restart(partial);
    response = await get(url, ref, offset, options);
  }
  if (response.statusCode === 200) {
    offset = 0; // The server ignored Range (or none was sent): the body is the whole file.
  } else if (response.statusCode === 206) {
    const start = rangeStart(headerValue(response.headers['content-range']));
    if (start !== offset) {
      await discard(response.body);
      await restart(partial);
      throw new DiffEditError(ErrorCode.DownloadFailed, `The server sent ${file.path} from byte ${String(start)} instead of ${offset}.`, {
        file: file.path,
        reason: 'http',
        retryable: true,
      });
    }
  } else {
    await discard(response.body);
    throw httpStatusError(response.statusCode, headerValue(response.headers['x-error-code']), response.url, {
      ref,
      file: file.path,
      withToken: options.token !== undefined,
    });
  }

  options.onStart?.(offset);
  const hash = createContentHash(checksum, file.size);
  // The checksum covers the whole file: the prefix kept from an earlier attempt is hashed from disk first.
  if (offset > 0) await hashFileInto(hash, partial, offset);
  const handle = await open(partial, offset > 0 ? 'a' : 'w');
  let written: number;
  try {
    const body = enforceMinRate(response.body, options.minRate ?? DEFAULT_MIN_RATE, file.path);
    written = await writeBody(body, handle, hash, (n) => options.onProgress?.(offset + n));
  } finally {
    await handle.close();
  }
  const total = offset + written;
  if (total < file.size) throw incompleteTransfer(file.path, total, file.size);
  const actual = hash.digest('hex');
  if (total !== file.size || actual !== checksum.hex) {
    await rm(partial, { force: true });
    throw checksumMismatch(file, ref, checksum, total, actual);
  }
  await rename(partial, dest);
  return { bytesTransferred: written, resumedFrom: offset };
}

function get(url: string, ref: RepoRef, offset: number, options: DownloadFileOptions): Promise<HubResponse> {
  return hubGet(url, {
    token: options.token,
    trustedOrigin: new URL(ref.endpoint).origin,
    // Byte counts and resume offsets are of the file itself: a compressed transfer would break both.
    headers: { 'accept-encoding': 'identity', ...(offset > 0 ? { range: `bytes=${offset}-` } : {}) },
    signal: options.signal,
    dispatcher: options.dispatcher,
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
  });
}

function checksumMismatch(file: HubFile, ref: RepoRef, checksum: Checksum, size: number, actual: string): DiffEditError {
  const why =
    size !== file.size ? `it has ${size} bytes, the hub lists ${file.size}` : `its ${checksum.algorithm} is ${actual}, the hub lists ${checksum.hex}`;
  return new DiffEditError(
    ErrorCode.ChecksumMismatch,
    `The download of ${file.path} from ${ref.repo}@${ref.revision} is corrupt (${why}); it was deleted. Run again to retry.`,
    { file: file.path, algorithm: checksum.algorithm, expected: checksum.hex, actual, expectedSize: file.size, size },
  );
}

/** The first byte of a `Content-Range: bytes a-b/n` header. */
function rangeStart(header: string | undefined): number | undefined {
  const match = /^bytes\s+(\d+)-\d+\/(?:\d+|\*)$/i.exec(header?.trim() ?? '');
  return match === null ? undefined : Number(match[1]);
}

async function sizeOf(file: string): Promise<number> {
  return stat(file).then(
    (s) => s.size,
    () => 0,
  );
}

async function restart(partial: string): Promise<0> {
  await rm(partial, { force: true });
  return 0;
}

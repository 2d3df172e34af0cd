/**
 * `listRepoFiles`: every file of a repository revision from the hub's tree API, all pages.
 */
import { DiffEditError, ErrorCode } from '../../errors.js';
import { silentLogger, type Logger } from '../../logger.js';
import { abortedError, httpStatusError, isNetworkError, networkError } from './errors.js';
import { parseTreeEntry, type HubFile } from './file.js';
import { checkRepoId, normaliseEndpoint, treeUrl, type RepoRef } from './url.js';
import { headerValue } from '../../util/headers.js';
import { discard, hubGet, nextLink } from './http.js';
import { withRetries, type RetryOptions } from '../transfer/retry.js';
import type { Dispatcher } from 'undici';

/** Options of {@link listRepoFiles}. */
export interface ListRepoFilesOptions extends RepoRef, Omit<RetryOptions, 'onRetry'> {
  /** Hub token (HF_TOKEN), sent to the endpoint's origin only. */
  readonly token?: string | undefined;
  readonly timeoutMs?: number;
  readonly logger?: Logger;
  readonly dispatcher?: Dispatcher | undefined;
}

// A runaway Link chain (a server bug) must not loop forever; real repositories have a few pages at most.
const MAX_PAGES = 1000;

/** Lists the files (not directories) of `repo` at `revision`, following `Link: rel="next"` pagination. */
export async function listRepoFiles(options: ListRepoFilesOptions): Promise<HubFile[]> {
  checkRepoId(options.repo);
  const endpoint = normaliseEndpoint(options.endpoint);
  const ref: RepoRef = { endpoint, repo: options.repo, revision: options.revision };
  const logger = options.logger ?? silentLogger;
  const files: HubFile[] = [];
  let url: string | undefined = treeUrl(ref);
  for (let page = 0; url !== undefined; page++) {
    if (page >= MAX_PAGES) throw badListing(url, `more than ${MAX_PAGES} pages`);
    const pageUrl: string = url;
    const { entries, next } = await withRetries(() => fetchPage(pageUrl, ref, options), {
      ...options,
      onRetry: (attempt, error) => logger.warn('retrying the file list', { url: pageUrl, attempt, error }),
    }).catch((error: unknown) => {
      if (options.signal?.aborted === true) throw abortedError(options.signal.reason);
      throw isNetworkError(error) ? networkError(error, pageUrl, undefined) : error;
    });
    for (const entry of entries) {
      const file = parseEntry(entry, pageUrl);
      if (file !== undefined) files.push(file);
    }
    url = next;
  }
  logger.debug('listed repository', { repo: ref.repo, revision: ref.revision, files: files.length });
  return files;
}

async function fetchPage(url: string, ref: RepoRef, options: ListRepoFilesOptions): Promise<{ entries: unknown[]; next: string | undefined }> {
  const response = await hubGet(url, {
    token: options.token,
    trustedOrigin: new URL(ref.endpoint).origin,
    headers: { accept: 'application/json' },
    signal: options.signal,
    dispatcher: options.dispatcher,
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
  });
  if (response.statusCode !== 200) {
    await discard(response.body);
    throw httpStatusError(response.statusCode, headerValue(response.headers['x-error-code']), url, { ref, withToken: options.token !== undefined });
  }
  const text = await response.body.text();
  let entries: unknown;
  try {
    entries = JSON.parse(text);
  } catch {
    throw badListing(url, 'not JSON');
  }
  if (!Array.isArray(entries)) throw badListing(url, 'not a JSON array');
  return { entries, next: nextLink(headerValue(response.headers['link']), response.url) };
}

function parseEntry(entry: unknown, url: string): HubFile | undefined {
  try {
    return parseTreeEntry(entry);
  } catch (error) {
    throw badListing(url, (error as Error).message);
  }
}

function badListing(url: string, why: string): DiffEditError {
  return new DiffEditError(
    ErrorCode.DownloadFailed,
    `The hub's file list at ${url} is not what this tool understands (${why}); is --endpoint a Hugging Face hub?`,
    {
      url,
      reason: 'bad-listing',
    },
  );
}

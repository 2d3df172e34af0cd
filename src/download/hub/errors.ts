/**
 * Turns HTTP statuses, network and file-system failures into {@link DiffEditError}s whose message a user can act
 * on (no stack traces), and says which of them are worth retrying.
 */
import { DiffEditError, ErrorCode, isDiffEditError } from '../../errors.js';
import { modelPageUrl, type RepoRef } from './url.js';

/** Why a download failed, in `details.reason`. */
export type DownloadFailure =
  'unauthorized' | 'not-found' | 'http' | 'network' | 'too-slow' | 'disk-full' | 'file-system' | 'bad-listing' | 'not-onnx';

/** What was being fetched, for the message. */
export interface FetchContext {
  readonly ref: RepoRef;
  /** The repository file, or undefined for an API call. */
  readonly file?: string;
  /** What an API call fetched, for messages (default 'the file list'). */
  readonly resource?: string;
  /** Whether a token was sent (a refused token needs different advice than a missing one). */
  readonly withToken: boolean;
}

/** The error for a final (non-redirect) response that is not a success; `retryable` for 429 and 5xx. */
export function httpStatusError(status: number, hubErrorCode: string | undefined, url: string, context: FetchContext): DiffEditError {
  const { ref, file, withToken } = context;
  const where = `${ref.repo}@${ref.revision}`;
  const details = { status, url, repo: ref.repo, revision: ref.revision, ...(file !== undefined ? { file } : {}) };
  // The hub answers 401 for private and non-existent repositories alike when no token is sent; X-Error-Code tells them apart.
  if (hubErrorCode === 'RepoNotFound' || hubErrorCode === 'RevisionNotFound' || (status === 404 && hubErrorCode !== 'GatedRepo')) {
    const what =
      hubErrorCode === 'RevisionNotFound'
        ? `${ref.repo} has no revision "${ref.revision}" on ${ref.endpoint}.`
        : file !== undefined && hubErrorCode !== 'RepoNotFound'
          ? `${where} has no file ${file} (HTTP ${status}).`
          : `Repository ${ref.repo} (revision "${ref.revision}") was not found on ${ref.endpoint}.`;
    const hint = withToken ? '' : ' If it is private, set HF_TOKEN.';
    return new DiffEditError(ErrorCode.DownloadFailed, `${what} Check --repo and --revision.${hint}`, { ...details, reason: 'not-found' });
  }
  if (status === 401 || status === 403) {
    const message = withToken
      ? `The hub refused HF_TOKEN for ${where} (HTTP ${status}): accept the licence on ${modelPageUrl(ref)} with that account and check the token can read.`
      : `${where} needs HF_TOKEN (HTTP ${status}): accept the licence on the model page ${modelPageUrl(ref)}, create a read token at ${ref.endpoint}/settings/tokens and set HF_TOKEN (in the environment or .env).`;
    return new DiffEditError(ErrorCode.DownloadFailed, message, { ...details, reason: 'unauthorized' });
  }
  const retryable = status === 408 || status === 429 || status >= 500;
  const what = file ?? context.resource ?? 'the file list';
  return new DiffEditError(
    ErrorCode.DownloadFailed,
    `Downloading ${what} of ${where} failed (HTTP ${status}).${retryable ? ' Try again later.' : ''}`,
    {
      ...details,
      reason: 'http',
      retryable,
    },
  );
}

// Connection-level failures that a new attempt can cure (undici's own codes start with UND_ERR_).
const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENOTFOUND',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'ERR_STREAM_PREMATURE_CLOSE',
]);
const NOT_NETWORK_UNDICI = new Set(['UND_ERR_ABORTED', 'UND_ERR_INVALID_ARG', 'UND_ERR_NOT_SUPPORTED']);

function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** True for a failed connection or transfer (not an HTTP answer, not a disk problem). */
export function isNetworkError(error: unknown): boolean {
  const code = errorCode(error);
  if (code === undefined || isDiffEditError(error)) return false;
  return NETWORK_CODES.has(code) || (code.startsWith('UND_ERR_') && !NOT_NETWORK_UNDICI.has(code));
}

/** Whether another attempt may succeed: network failures, 429/5xx answers, truncated transfers. */
export function isRetryable(error: unknown): boolean {
  if (isDiffEditError(error)) return error.details['retryable'] === true;
  return isNetworkError(error);
}

/** A truncated transfer: the server closed the connection cleanly before sending every byte. */
export function incompleteTransfer(file: string, received: number, expected: number): DiffEditError {
  return new DiffEditError(ErrorCode.DownloadFailed, `The transfer of ${file} stopped at ${received} of ${expected} bytes.`, {
    file,
    received,
    expected,
    reason: 'network',
    retryable: true,
  });
}

/** The final error for a network failure after the last attempt; `resource` names what an API call fetched. */
export function networkError(error: unknown, url: string, file: string | undefined, resource = 'the file list'): DiffEditError {
  const host = new URL(url).host;
  const code = errorCode(error) ?? 'error';
  const reason = error instanceof Error ? error.message : String(error);
  return new DiffEditError(
    ErrorCode.DownloadFailed,
    `Could not download ${file ?? resource} from ${host} (${code}: ${reason}). Check the connection and run again: finished files are kept and the current one resumes.`,
    { url, code, reason: 'network', ...(file !== undefined ? { file } : {}) },
    { cause: error },
  );
}

const DISK_FULL = new Set(['ENOSPC', 'EDQUOT']);
const FILE_SYSTEM = new Set(['EACCES', 'EPERM', 'EROFS', 'EISDIR', 'ENOTDIR', 'EEXIST', 'EMFILE', 'ENAMETOOLONG', 'EBUSY']);

/** A user-facing error for a disk problem while writing `target`, or undefined when `error` is not one. */
export function fileSystemError(error: unknown, target: string): DiffEditError | undefined {
  const code = errorCode(error);
  if (code === undefined || isDiffEditError(error)) return undefined;
  if (DISK_FULL.has(code)) {
    return new DiffEditError(
      ErrorCode.DownloadFailed,
      `The disk is full while writing ${target}. Free some space and run again: finished files are kept and this one resumes.`,
      { file: target, code, reason: 'disk-full' },
      { cause: error },
    );
  }
  if (FILE_SYSTEM.has(code)) {
    const reason = error instanceof Error ? error.message : String(error);
    return new DiffEditError(
      ErrorCode.DownloadFailed,
      `Cannot write ${target} (${code}: ${reason}).`,
      { file: target, code, reason: 'file-system' },
      { cause: error },
    );
  }
  return undefined;
}

/** An API answer this tool cannot read (`what` it should have been, `why` not): most likely not a hub at all. */
export function badAnswer(url: string, what: string, why: string): DiffEditError {
  return new DiffEditError(
    ErrorCode.DownloadFailed,
    `The hub's ${what} at ${url} is not what this tool understands (${why}); is --endpoint a Hugging Face hub?`,
    { url, reason: 'bad-listing' },
  );
}

/** The typed error when the abort signal stopped a download. */
export function abortedError(reason: unknown): DiffEditError {
  return new DiffEditError(ErrorCode.Aborted, 'The download was interrupted; run it again to resume.', {}, { cause: reason });
}

/**
 * The Hugging Face hub's URLs: the model-info API (a revision's commit), the file-tree API and the `resolve`
 * download route.
 */
import { DiffEditError, ErrorCode } from '../../errors.js';

/** The public hub; `HF_ENDPOINT` or `--endpoint` point elsewhere (a mirror, a test server). */
export const DEFAULT_ENDPOINT = 'https://huggingface.co';

/** Where one repository revision lives on a hub. */
export interface RepoRef {
  /** Hub base URL, e.g. https://huggingface.co (a trailing slash is ignored). */
  readonly endpoint: string;
  /** `owner/name`. */
  readonly repo: string;
  /** Branch, tag or commit, e.g. `onnx`, as the user named it (messages show it). */
  readonly revision: string;
  /**
   * The commit `revision` pointed to when the download began (see resolveCommit): when set, the listing and every
   * file URL use it, so a branch that moves mid-download cannot mix files of two commits.
   */
  readonly commit?: string | undefined;
}

// The hub's own rule for repository ids: one optional namespace, letters, digits, '-', '_', '.'.
const REPO_ID = /^(?:[\w.-]+\/)?[\w.-]+$/;

/** The endpoint without trailing slashes, rejected early when it is not an http(s) URL. */
export function normaliseEndpoint(endpoint: string): string {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new DiffEditError(ErrorCode.InvalidOption, `The hub endpoint "${endpoint}" is not a URL.`, { option: 'endpoint', value: endpoint });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new DiffEditError(ErrorCode.InvalidOption, `The hub endpoint "${endpoint}" must be an http(s) URL.`, {
      option: 'endpoint',
      value: endpoint,
    });
  }
  return endpoint.replace(/\/+$/, '');
}

/** Rejects ids the hub would not accept, so a typo fails before any request. */
export function checkRepoId(repo: string): void {
  if (!REPO_ID.test(repo) || repo.includes('..')) {
    throw new DiffEditError(ErrorCode.InvalidOption, `"${repo}" is not a hub repository id (expected owner/name).`, { option: 'repo', value: repo });
  }
}

// Revisions like refs/pr/1 contain slashes: the hub wants them as one encoded path segment.
function revisionSegment(ref: RepoRef): string {
  return encodeURIComponent(ref.commit ?? ref.revision);
}

/** The model-info API of `ref.revision`, whose `sha` is the commit the revision points to now. */
export function revisionUrl(ref: RepoRef): string {
  return `${normaliseEndpoint(ref.endpoint)}/api/models/${ref.repo}/revision/${encodeURIComponent(ref.revision)}`;
}

/** The first page of the recursive file listing of `ref` (at its commit when pinned). */
export function treeUrl(ref: RepoRef): string {
  return `${normaliseEndpoint(ref.endpoint)}/api/models/${ref.repo}/tree/${revisionSegment(ref)}?recursive=true`;
}

/** The download URL of `file` (a path inside the repository) at `ref` (at its commit when pinned). */
export function resolveUrl(ref: RepoRef, file: string): string {
  const encodedPath = file.split('/').map(encodeURIComponent).join('/');
  return `${normaliseEndpoint(ref.endpoint)}/${ref.repo}/resolve/${revisionSegment(ref)}/${encodedPath}`;
}

/** The repository's web page, where gated models' licences are accepted. */
export function modelPageUrl(ref: Pick<RepoRef, 'endpoint' | 'repo'>): string {
  return `${normaliseEndpoint(ref.endpoint)}/${ref.repo}`;
}

/**
 * `resolveCommit`: the commit a branch or tag points to now. A download pinned to it (listing and every file)
 * cannot mix files of two commits when someone pushes to the branch meanwhile; huggingface_hub's
 * snapshot_download pins the same way.
 */
import { getHubJson, type HubApiOptions } from './api.js';
import { badAnswer } from './errors.js';
import { checkRepoId, normaliseEndpoint, revisionUrl, type RepoRef } from './url.js';

/** Options of {@link resolveCommit}. */
export interface ResolveCommitOptions extends RepoRef, HubApiOptions {}

const COMMIT = /^[0-9a-f]{40}$/;

/** The 40-hex commit id `revision` of `repo` points to, from the model-info API's `sha`. */
export async function resolveCommit(options: ResolveCommitOptions): Promise<string> {
  checkRepoId(options.repo);
  const ref: RepoRef = { endpoint: normaliseEndpoint(options.endpoint), repo: options.repo, revision: options.revision };
  const url = revisionUrl(ref);
  const { json } = await getHubJson(url, ref, 'revision info', options);
  const sha = (json as { sha?: unknown } | null)?.sha;
  if (typeof sha !== 'string' || !COMMIT.test(sha)) throw badAnswer(url, 'revision info', 'no 40-hex "sha"');
  return sha;
}

/**
 * `listRepoFiles`: every file of a repository revision from the hub's tree API, all pages.
 */
import { silentLogger } from '../../logger.js';
import { headerValue } from '../../util/headers.js';
import { getHubJson, type HubApiOptions } from './api.js';
import { badAnswer } from './errors.js';
import { parseTreeEntry, type HubFile } from './file.js';
import { nextLink } from './http.js';
import { checkRepoId, normaliseEndpoint, treeUrl, type RepoRef } from './url.js';

/** Options of {@link listRepoFiles}: the revision (at `commit` when pinned) and how to ask. */
export interface ListRepoFilesOptions extends RepoRef, HubApiOptions {}

// A runaway Link chain (a server bug) must not loop forever; real repositories have a few pages at most.
const MAX_PAGES = 1000;

/** Lists the files (not directories) of `repo` at `revision`, following `Link: rel="next"` pagination. */
export async function listRepoFiles(options: ListRepoFilesOptions): Promise<HubFile[]> {
  checkRepoId(options.repo);
  const ref: RepoRef = { endpoint: normaliseEndpoint(options.endpoint), repo: options.repo, revision: options.revision, commit: options.commit };
  const logger = options.logger ?? silentLogger;
  const files: HubFile[] = [];
  let url: string | undefined = treeUrl(ref);
  for (let page = 0; url !== undefined; page++) {
    if (page >= MAX_PAGES) throw badAnswer(url, 'file list', `more than ${MAX_PAGES} pages`);
    const answer = await getHubJson(url, ref, 'file list', options);
    if (!Array.isArray(answer.json)) throw badAnswer(url, 'file list', 'not a JSON array');
    for (const entry of answer.json) {
      const file = parseEntry(entry, url);
      if (file !== undefined) files.push(file);
    }
    url = nextLink(headerValue(answer.headers['link']), answer.url);
  }
  logger.debug('listed repository', { repo: ref.repo, revision: ref.revision, commit: ref.commit, files: files.length });
  return files;
}

function parseEntry(entry: unknown, url: string): HubFile | undefined {
  try {
    return parseTreeEntry(entry);
  } catch (error) {
    throw badAnswer(url, 'file list', (error as Error).message);
  }
}

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nextLink } from '../../../src/download/hub/http.js';
import { listRepoFiles } from '../../../src/download/hub/list-files.js';
import { FakeHub, gitBlobSha1, REVISION, sha256 } from '../fake-hub.js';

const files = new Map<string, Buffer>([
  ['model_index.json', Buffer.from('{}\n')],
  ['unet/model.onnx', Buffer.from('onnx graph')],
  ['unet/weights.pb', Buffer.from('weights')],
  ['tokenizer/vocab.json', Buffer.from('{"a": 0}')],
  ['tokenizer/merges.txt', Buffer.from('#version: 0.2\n')],
  ['scheduler/scheduler_config.json', Buffer.from('{}')],
]);

let hub: FakeHub;
beforeAll(async () => {
  hub = await FakeHub.start({ 'org/repo': files }, 2);
});
afterAll(() => hub.close());

describe('listRepoFiles', () => {
  it('returns every file of every page with its size and checksums, and no directories', async () => {
    const listed = await listRepoFiles({ endpoint: hub.endpoint, repo: 'org/repo', revision: REVISION });

    expect(listed.map((f) => f.path).sort()).toEqual([...files.keys()].sort());
    const weights = listed.find((f) => f.path === 'unet/weights.pb');
    expect(weights).toMatchObject({ size: 7, lfs: { oid: sha256(Buffer.from('weights')), size: 7 } });
    expect(listed.find((f) => f.path === 'tokenizer/merges.txt')).toEqual({
      path: 'tokenizer/merges.txt',
      size: 14,
      oid: gitBlobSha1(Buffer.from('#version: 0.2\n')),
    });
    // 6 files + 3 folders, 2 per page.
    expect(hub.requests.filter((r) => r.route === 'tree')).toHaveLength(5);
  });

  it('rejects an endpoint that is not a hub with a typed error', async () => {
    await expect(listRepoFiles({ endpoint: 'ftp://example', repo: 'org/repo', revision: REVISION })).rejects.toMatchObject({ code: 'InvalidOption' });
    await expect(listRepoFiles({ endpoint: hub.endpoint, repo: '../etc', revision: REVISION })).rejects.toMatchObject({ code: 'InvalidOption' });
  });
});

describe('nextLink', () => {
  it('finds rel="next" among several links and resolves it against the page URL', () => {
    const link = '</api/models/a/b/tree/onnx?cursor=1>; rel="prev", </api/models/a/b/tree/onnx?cursor=3>; rel="next"';
    expect(nextLink(link, 'https://hub.example/api/models/a/b/tree/onnx')).toBe('https://hub.example/api/models/a/b/tree/onnx?cursor=3');
    expect(nextLink('<https://x/y>; rel="last"', 'https://x/')).toBeUndefined();
    expect(nextLink(undefined, 'https://x/')).toBeUndefined();
  });
});

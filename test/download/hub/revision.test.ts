import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listRepoFiles } from '../../../src/download/hub/list-files.js';
import { resolveCommit } from '../../../src/download/hub/revision.js';
import { FakeHub, REVISION } from '../fake-hub.js';
import { rejection } from '../../engine/image/fixtures.js';

const first = new Map([['model_index.json', Buffer.from('{"v": 1}')]]);
const second = new Map([
  ['model_index.json', Buffer.from('{"v": 2}')],
  ['README.md', Buffer.from('# new\n')],
]);

let hub: FakeHub;
beforeAll(async () => {
  hub = await FakeHub.start({ 'org/repo': first });
});
afterAll(() => hub.close());

describe('resolveCommit', () => {
  it('gives the commit the branch points to now, and a listing at that commit stays put when the branch moves', async () => {
    const ref = { endpoint: hub.endpoint, repo: 'org/repo', revision: REVISION };
    const pinned = await resolveCommit(ref);
    expect(pinned).toBe(hub.head('org/repo'));

    const moved = hub.commit('org/repo', second);

    expect(await resolveCommit(ref)).toBe(moved);
    expect((await listRepoFiles({ ...ref, commit: pinned })).map((f) => f.path)).toEqual(['model_index.json']);
    expect((await listRepoFiles(ref)).map((f) => f.path).sort()).toEqual(['README.md', 'model_index.json']);
  });

  it('says which of repository and revision does not exist', async () => {
    const noRevision = await rejection(resolveCommit({ endpoint: hub.endpoint, repo: 'org/repo', revision: 'refs/pr/1' }));
    const noRepo = await rejection(resolveCommit({ endpoint: hub.endpoint, repo: 'org/none', revision: REVISION }));

    expect(noRevision.message).toContain('org/repo has no revision "refs/pr/1"');
    expect(noRevision.details).toMatchObject({ status: 404, reason: 'not-found' });
    expect(hub.requests.at(-2)?.path).toBe('/api/models/org/repo/revision/refs%2Fpr%2F1');
    expect(noRepo.message).toContain('Repository org/none');
  });

  it('refuses an answer without a commit id: the endpoint is not a hub', async () => {
    const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"id": "org/repo"}'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const error = await rejection(resolveCommit({ endpoint, repo: 'org/repo', revision: REVISION }));
      expect(error.message).toContain('revision info');
      expect(error.message).toContain('is --endpoint a Hugging Face hub?');
      expect(error.details).toMatchObject({ reason: 'bad-listing' });
    } finally {
      server.close();
    }
  });
});

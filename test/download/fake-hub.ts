/**
 * Test support: a loopback imitation of the Hugging Face hub routes the downloader uses. Repositories hold
 * commits and branches pointing at them (which tests can move); the model-info API (`revision/{rev}` -> `sha`),
 * the tree API (paginated with `Link: rel="next"`) and `resolve` take a branch or a commit; `resolve` serves
 * small files itself and redirects LFS files to a content-addressed "CDN" route reached under another host name
 * (localhost instead of 127.0.0.1), with Range support and switches for broken transfers, trickled transfers,
 * ignored Range headers, corrupt content and forced statuses.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as the server saw it. */
export interface SeenRequest {
  /** The Host header: 127.0.0.1:port for the hub, localhost:port for the CDN. */
  readonly host: string;
  readonly path: string;
  readonly route: 'revision' | 'tree' | 'resolve' | 'cdn' | 'other';
  /** The branch or commit in the path (revision, tree and resolve routes). */
  readonly revision: string | undefined;
  /** The repository file asked for (resolve and cdn routes). */
  readonly file: string | undefined;
  readonly range: string | undefined;
  readonly acceptEncoding: string | undefined;
  readonly authorization: string | undefined;
  status: number;
}

/** Switches that make the server misbehave. */
export interface FakeHubBehaviour {
  /** Files whose first transfers break (socket destroyed) after this many body bytes. */
  cutAfter: Map<string, number>;
  /** How many transfers of each file in cutAfter break (default 1: only the first). */
  cutAttempts: number;
  /** Answer Range requests with 200 and the whole file, as some proxies do. */
  ignoreRange: boolean;
  /** Files served with every byte flipped (right size, wrong content). */
  corrupt: Set<string>;
  /** Answer every request to the hub host with this status (e.g. 401). */
  status: number | undefined;
  /** Files whose transfers send one byte per this many ms instead of the whole body. */
  trickle: Map<string, number>;
  /** How many transfers of each file in trickle are slow (default: all). */
  trickleAttempts: number;
  /** Called with each request before it is answered (e.g. to move a branch mid-download). */
  onRequest: ((request: SeenRequest) => void) | undefined;
}

interface Repo {
  /** Branch -> commit. */
  readonly refs: Map<string, string>;
  /** Commit -> files. */
  readonly commits: Map<string, ReadonlyMap<string, Buffer>>;
}

/** The branch {@link FakeHub.start}'s repositories have. */
export const REVISION = 'onnx';

const COMMIT = /^[0-9a-f]{40}$/;

const LFS = /\.(?:onnx|pb|safetensors|bin)$/;

/** Git's blob id of `content`, as the tree API lists it. */
export function gitBlobSha1(content: Uint8Array): string {
  return createHash('sha1').update(`blob ${content.byteLength}\0`).update(content).digest('hex');
}

/** sha256 hex, as the tree API lists LFS files. */
export function sha256(content: Uint8Array): string {
  return createHash('sha256').update(content).digest('hex');
}

/** A running fake hub. */
export class FakeHub {
  /** Every request, in order. */
  readonly requests: SeenRequest[] = [];
  readonly behaviour: FakeHubBehaviour = {
    cutAfter: new Map(),
    cutAttempts: 1,
    ignoreRange: false,
    corrupt: new Set(),
    status: undefined,
    trickle: new Map(),
    trickleAttempts: Infinity,
    onRequest: undefined,
  };
  private readonly attempts = new Map<string, number>();
  private readonly repos = new Map<string, Repo>();
  /** LFS content by sha256, as the CDN serves it. */
  private readonly blobs = new Map<string, Buffer>();
  private commits = 0;

  private constructor(
    private readonly server: Server,
    private readonly pageSize: number,
  ) {}

  /** Starts a server on 127.0.0.1 with `pageSize` entries per listing page; `repos` are committed on {@link REVISION}. */
  static async start(repos: Record<string, ReadonlyMap<string, Buffer>>, pageSize = 4): Promise<FakeHub> {
    let hub: FakeHub | undefined;
    const server = createServer((req, res) => hub?.handle(req, res));
    hub = new FakeHub(server, pageSize);
    for (const [repo, files] of Object.entries(repos)) hub.commit(repo, files);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return hub;
  }

  /** Commits `files` as the whole content of `repo` (created if new) and points `branch` at it; returns the commit id. */
  commit(repo: string, files: ReadonlyMap<string, Buffer>, branch = REVISION): string {
    const sha = createHash('sha1').update(`commit ${++this.commits} ${repo}`).digest('hex');
    const entry = this.repos.get(repo) ?? { refs: new Map<string, string>(), commits: new Map<string, ReadonlyMap<string, Buffer>>() };
    entry.commits.set(sha, new Map(files));
    entry.refs.set(branch, sha);
    this.repos.set(repo, entry);
    for (const [p, content] of files) if (LFS.test(p)) this.blobs.set(sha256(content), content);
    return sha;
  }

  /** The commit `branch` of `repo` points to. */
  head(repo: string, branch = REVISION): string | undefined {
    return this.repos.get(repo)?.refs.get(branch);
  }

  /** The hub's base URL. */
  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The CDN's origin: the same server under another host name. */
  get cdnOrigin(): string {
    return `http://localhost:${this.port}`;
  }

  /** Requests that fetched file content (resolve and CDN routes). */
  get fileRequests(): SeenRequest[] {
    return this.requests.filter((r) => r.route === 'resolve' || r.route === 'cdn');
  }

  /** Forgets the requests and attempt counts and restores good behaviour (between tests). */
  reset(): void {
    this.requests.length = 0;
    this.attempts.clear();
    Object.assign(this.behaviour, { cutAttempts: 1, ignoreRange: false, status: undefined, trickleAttempts: Infinity, onRequest: undefined });
    this.behaviour.cutAfter.clear();
    this.behaviour.corrupt.clear();
    this.behaviour.trickle.clear();
  }

  /** Stops the server and drops kept-alive connections. */
  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    const info = /^\/api\/models\/([^/]+\/[^/]+)\/revision\/([^/]+)$/.exec(url.pathname);
    const tree = /^\/api\/models\/([^/]+\/[^/]+)\/tree\/([^/]+)$/.exec(url.pathname);
    const resolve = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(url.pathname);
    const cdn = /^\/cdn\/([^/]+\/[^/]+)\/([0-9a-f]{64})$/.exec(url.pathname);
    const file = resolve !== null ? decodeURIComponent(resolve[3] ?? '') : cdn !== null ? (url.searchParams.get('file') ?? undefined) : undefined;
    const revision = (info ?? tree ?? resolve)?.[2];
    const seen: SeenRequest = {
      host: req.headers.host ?? '',
      path: req.url ?? '',
      route: info !== null ? 'revision' : tree !== null ? 'tree' : resolve !== null ? 'resolve' : cdn !== null ? 'cdn' : 'other',
      revision: revision === undefined ? undefined : decodeURIComponent(revision),
      file,
      range: req.headers.range,
      acceptEncoding: req.headers['accept-encoding'],
      authorization: req.headers.authorization,
      status: 0,
    };
    this.requests.push(seen);
    this.behaviour.onRequest?.(seen);
    const reply = (status: number, headers: Record<string, string | number> = {}, body?: Uint8Array | string): void => {
      seen.status = status;
      res.writeHead(status, headers);
      res.end(body);
    };

    if (this.behaviour.status !== undefined && seen.host.startsWith('127.0.0.1')) return reply(this.behaviour.status, {}, 'forced');
    const repoId = decodeURIComponent((info ?? tree ?? resolve ?? cdn)?.[1] ?? '');
    const repo = this.repos.get(repoId);
    if (repo === undefined) return reply(404, { 'x-error-code': 'RepoNotFound' }, 'Repository not found');
    if (cdn !== null) {
      const content = this.blobs.get(cdn[2] ?? '');
      if (file === undefined || content === undefined) return reply(404, {}, 'No such object');
      return this.serve(`${repoId}:${file}`, file, content, req, res, seen);
    }
    const commit = seen.revision !== undefined && COMMIT.test(seen.revision) ? seen.revision : repo.refs.get(seen.revision ?? '');
    const files = commit === undefined ? undefined : repo.commits.get(commit);
    if (commit === undefined || files === undefined) return reply(404, { 'x-error-code': 'RevisionNotFound' }, 'Invalid rev id');
    if (info !== null) return reply(200, { 'content-type': 'application/json' }, JSON.stringify({ id: repoId, sha: commit }));
    if (tree !== null) return this.listing(repoId, seen.revision ?? '', files, Number(url.searchParams.get('cursor') ?? 0), reply);
    const content = file === undefined ? undefined : files.get(file);
    if (file === undefined || content === undefined) return reply(404, { 'x-error-code': 'EntryNotFound' }, 'Entry not found');
    if (LFS.test(file)) {
      // As the real hub does for LFS files: a redirect to a CDN host, which must not get the token.
      const location = `${this.cdnOrigin}/cdn/${repoId}/${sha256(content)}?file=${encodeURIComponent(file)}`;
      return reply(302, { location }, 'Found');
    }
    this.serve(`${repoId}:${file}`, file, content, req, res, seen);
  }

  private listing(
    repoId: string,
    revision: string,
    files: ReadonlyMap<string, Buffer>,
    cursor: number,
    reply: (s: number, h?: Record<string, string>, b?: string) => void,
  ): void {
    const entries = listingOf(files);
    const page = entries.slice(cursor, cursor + this.pageSize);
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (cursor + this.pageSize < entries.length) {
      const next = `${this.endpoint}/api/models/${repoId}/tree/${encodeURIComponent(revision)}?recursive=true&cursor=${cursor + this.pageSize}`;
      headers['link'] = `<${next}>; rel="next"`;
    }
    reply(200, headers, JSON.stringify(page));
  }

  private serve(key: string, file: string, content: Buffer, req: IncomingMessage, res: ServerResponse, seen: SeenRequest): void {
    const attempt = (this.attempts.get(key) ?? 0) + 1;
    this.attempts.set(key, attempt);
    const bytes = this.behaviour.corrupt.has(file) ? Buffer.from(content.map((b) => b ^ 0xff)) : content;
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    let status = 200;
    let body = bytes;
    const headers: Record<string, string | number> = { 'content-type': 'application/octet-stream', 'accept-ranges': 'bytes' };
    if (range !== null && !this.behaviour.ignoreRange) {
      const start = Number(range[1]);
      if (start >= bytes.length) {
        seen.status = 416;
        res.writeHead(416, { 'content-range': `bytes */${bytes.length}` });
        res.end();
        return;
      }
      status = 206;
      body = bytes.subarray(start);
      headers['content-range'] = `bytes ${start}-${bytes.length - 1}/${bytes.length}`;
    }
    headers['content-length'] = body.length;
    seen.status = status;
    res.writeHead(status, headers);
    const cut = this.behaviour.cutAfter.get(file);
    if (attempt <= this.behaviour.cutAttempts && cut !== undefined && cut < body.length) {
      // Let the client store what arrived before the connection dies mid-body.
      res.write(body.subarray(0, cut), () => setTimeout(() => res.socket?.destroy(), 100));
      return;
    }
    const everyMs = this.behaviour.trickle.get(file);
    if (attempt <= this.behaviour.trickleAttempts && everyMs !== undefined) return trickle(res, body, everyMs);
    res.end(body);
  }
}

/** Sends `body` one byte per `everyMs` until it is sent or the client goes away. */
function trickle(res: ServerResponse, body: Buffer, everyMs: number): void {
  let sent = 0;
  const timer = setInterval(() => {
    if (sent >= body.length) {
      clearInterval(timer);
      res.end();
      return;
    }
    res.write(body.subarray(sent, ++sent));
  }, everyMs);
  res.on('close', () => clearInterval(timer));
}

/** The tree API's answer for `repo`: directories and files, LFS files with their sha256. */
export function listingOf(repo: ReadonlyMap<string, Buffer>): unknown[] {
  const paths = [...repo.keys()].sort();
  const dirs = new Set<string>();
  for (const p of paths) {
    const parts = p.split('/');
    for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
  }
  const entries: { path: string; entry: unknown }[] = [...dirs].map((d) => ({
    path: d,
    entry: { type: 'directory', oid: gitBlobSha1(Buffer.from(d)), size: 0, path: d },
  }));
  for (const p of paths) {
    const content = repo.get(p) as Buffer;
    if (LFS.test(p)) {
      const pointer = Buffer.from(`version https://git-lfs.github.com/spec/v1\noid sha256:${sha256(content)}\nsize ${content.length}\n`);
      entries.push({
        path: p,
        entry: {
          type: 'file',
          oid: gitBlobSha1(pointer),
          size: content.length,
          path: p,
          lfs: { oid: sha256(content), size: content.length, pointerSize: pointer.length },
        },
      });
    } else {
      entries.push({ path: p, entry: { type: 'file', oid: gitBlobSha1(content), size: content.length, path: p } });
    }
  }
  return entries.sort((a, b) => a.path.localeCompare(b.path)).map((e) => e.entry);
}

import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { downloadFile, PARTIAL_SUFFIX } from '../../../src/download/transfer/download-file.js';
import { downloadModel } from '../../../src/download/download-model.js';
import type { HubFile } from '../../../src/download/hub/file.js';
import { listRepoFiles } from '../../../src/download/hub/list-files.js';
import { ErrorCode, isDiffEditError, type DiffEditError } from '../../../src/errors.js';
import { FakeHub, REVISION } from '../fake-hub.js';
import { tinyExport } from '../tiny-repo.js';

const REPO = 'tiny/sd-onnx';
const WEIGHTS = 'unet/weights.pb';
const CUT = 500;

let hub: FakeHub;
let source: Map<string, Buffer>;
let listing: HubFile[];
const dirs: string[] = [];

beforeAll(async () => {
  const tiny = await tinyExport();
  dirs.push(tiny.dir);
  source = tiny.files;
  hub = await FakeHub.start({ [REPO]: source });
  listing = await listRepoFiles({ endpoint: hub.endpoint, repo: REPO, revision: REVISION });
});

afterAll(async () => {
  await hub.close();
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

afterEach(() => hub.reset());

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'diffedit-download-file-'));
  dirs.push(dir);
  return dir;
}

function listed(file: string): HubFile {
  const entry = listing.find((f) => f.path === file);
  if (entry === undefined) throw new Error(`${file} is not listed`);
  return entry;
}

function fetch(file: string, dest: string): ReturnType<typeof downloadFile> {
  return downloadFile({ endpoint: hub.endpoint, repo: REPO, revision: REVISION, file: listed(file), dest, retryDelayMs: 10 });
}

/** A minimum rate small enough for a test: 2000 B/s over 0.2 s. */
const SLOW = { bytesPerSecond: 2000, windowMs: 200 };

function fetchSlow(file: string, dest: string): ReturnType<typeof downloadFile> {
  return downloadFile({
    endpoint: hub.endpoint,
    repo: REPO,
    revision: REVISION,
    file: listed(file),
    dest,
    retryDelayMs: 10,
    tries: 2,
    minRate: SLOW,
  });
}

describe('downloadFile', () => {
  it('resumes a broken transfer with a Range request for the missing bytes', async () => {
    expect(source.get(WEIGHTS)?.length).toBeGreaterThan(CUT);
    hub.behaviour.cutAfter.set(WEIGHTS, CUT);
    const dest = path.join(await tempDir(), WEIGHTS);

    const result = await fetch(WEIGHTS, dest);

    const transfers = hub.fileRequests.filter((r) => r.route === 'cdn');
    expect(transfers.map((r) => [r.range, r.status])).toEqual([
      [undefined, 200],
      [`bytes=${CUT}-`, 206],
    ]);
    expect((await readFile(dest)).equals(source.get(WEIGHTS) as Buffer)).toBe(true);
    expect(result).toEqual({ resumedFrom: CUT, bytesTransferred: (source.get(WEIGHTS)?.length ?? 0) - CUT, attempts: 2 });
    await expect(stat(dest + PARTIAL_SUFFIX)).rejects.toThrow();
  });

  it('starts over when the server ignores Range and sends the whole file', async () => {
    hub.behaviour.cutAfter.set(WEIGHTS, CUT);
    hub.behaviour.ignoreRange = true;
    const dest = path.join(await tempDir(), WEIGHTS);

    const result = await fetch(WEIGHTS, dest);

    const transfers = hub.fileRequests.filter((r) => r.route === 'cdn');
    expect(transfers.map((r) => [r.range, r.status])).toEqual([
      [undefined, 200],
      [`bytes=${CUT}-`, 200],
    ]);
    expect((await readFile(dest)).equals(source.get(WEIGHTS) as Buffer)).toBe(true);
    expect(result.resumedFrom).toBe(0);
  });

  it('continues a partial file left by an earlier run, hashing its prefix too', async () => {
    const dest = path.join(await tempDir(), 'text_encoder', 'model.onnx');
    const whole = source.get('text_encoder/model.onnx') as Buffer;
    await fetch('vae_decoder/model.onnx', path.join(path.dirname(dest), 'unrelated')); // creates the folder
    await writeFile(dest + PARTIAL_SUFFIX, whole.subarray(0, 1234));
    hub.requests.length = 0;

    const result = await fetch('text_encoder/model.onnx', dest);

    expect(hub.fileRequests.filter((r) => r.route === 'cdn').map((r) => r.range)).toEqual(['bytes=1234-']);
    expect(result.resumedFrom).toBe(1234);
    expect((await readFile(dest)).equals(whole)).toBe(true);
  });

  it('rejects corrupt content (right size, wrong bytes) with ChecksumMismatch and leaves no file behind', async () => {
    hub.behaviour.corrupt.add('vae_encoder/model.onnx');
    const dir = await tempDir();
    const dest = path.join(dir, 'vae_encoder', 'model.onnx');

    const error: unknown = await fetch('vae_encoder/model.onnx', dest).catch((e: unknown) => e);

    expect(isDiffEditError(error, ErrorCode.ChecksumMismatch)).toBe(true);
    const typed = error as DiffEditError;
    expect(typed.message).toContain('vae_encoder/model.onnx');
    expect(typed.details).toMatchObject({ file: 'vae_encoder/model.onnx', algorithm: 'sha256', expected: listed('vae_encoder/model.onnx').lfs?.oid });
    // One fresh retry (the first copy might have come from a stale partial file), then the error.
    expect(hub.fileRequests.filter((r) => r.route === 'cdn')).toHaveLength(2);
    expect(await readdir(path.join(dir, 'vae_encoder'))).toEqual([]);
  });

  it('checks files outside LFS against their git blob id', async () => {
    hub.behaviour.corrupt.add('tokenizer/merges.txt');
    const dest = path.join(await tempDir(), 'tokenizer', 'merges.txt');

    const error: unknown = await fetch('tokenizer/merges.txt', dest).catch((e: unknown) => e);

    expect(isDiffEditError(error, ErrorCode.ChecksumMismatch)).toBe(true);
    expect((error as DiffEditError).details).toMatchObject({ algorithm: 'git-blob-sha1' });
    await expect(stat(dest)).rejects.toThrow();
  });

  it('retries a breaking transfer three times, each resuming, then fails keeping the partial file for the next run', async () => {
    hub.behaviour.cutAfter.set(WEIGHTS, 100);
    hub.behaviour.cutAttempts = 3;
    const dest = path.join(await tempDir(), WEIGHTS);

    const error: unknown = await fetch(WEIGHTS, dest).catch((e: unknown) => e);

    expect(isDiffEditError(error, ErrorCode.DownloadFailed)).toBe(true);
    expect((error as DiffEditError).details).toMatchObject({ reason: 'network', file: WEIGHTS });
    expect((error as DiffEditError).message).toContain('resumes');
    expect(hub.fileRequests.filter((r) => r.route === 'cdn').map((r) => r.range)).toEqual([undefined, 'bytes=100-', 'bytes=200-']);
    expect((await stat(dest + PARTIAL_SUFFIX)).size).toBe(300);

    const next = await fetch(WEIGHTS, dest);

    expect(next.resumedFrom).toBe(300);
    expect((await readFile(dest)).equals(source.get(WEIGHTS) as Buffer)).toBe(true);
  });

  it('aborts a transfer slower than the minimum rate, retries it resuming, then fails naming the file, the rate and the setting', async () => {
    hub.behaviour.trickle.set(WEIGHTS, 10); // about 100 B/s, a twentieth of the minimum
    const dest = path.join(await tempDir(), WEIGHTS);

    const error: unknown = await fetchSlow(WEIGHTS, dest).catch((e: unknown) => e);

    expect(isDiffEditError(error, ErrorCode.DownloadFailed)).toBe(true);
    const typed = error as DiffEditError;
    expect(typed.details).toMatchObject({ reason: 'too-slow', file: WEIGHTS, minBytesPerSecond: SLOW.bytesPerSecond, windowMs: SLOW.windowMs });
    expect(typed.details['rate']).toBeLessThan(SLOW.bytesPerSecond);
    expect(typed.message).toMatch(new RegExp(`^The transfer of ${WEIGHTS} ran at \\d+ B/s over 0.2 s`));
    expect(typed.message).toContain('MODELS_MIN_RATE_BYTES_PER_S=2000');
    const ranges = hub.fileRequests.filter((r) => r.route === 'cdn').map((r) => r.range);
    expect(ranges).toHaveLength(2);
    expect(ranges[0]).toBeUndefined();
    expect(ranges[1]).toMatch(/^bytes=[1-9]\d*-$/);
    // What trickled in is kept, right, for the next run.
    const kept = await readFile(dest + PARTIAL_SUFFIX);
    expect(kept.length).toBeGreaterThan(Number(/\d+/.exec(ranges[1] ?? '')?.[0]));
    expect(kept.equals((source.get(WEIGHTS) as Buffer).subarray(0, kept.length))).toBe(true);
  });

  it('finishes a transfer that was too slow only at first, resuming where the slow attempt stopped', async () => {
    hub.behaviour.trickle.set(WEIGHTS, 10);
    hub.behaviour.trickleAttempts = 1;
    const dest = path.join(await tempDir(), WEIGHTS);

    const result = await fetchSlow(WEIGHTS, dest);

    expect(result.attempts).toBe(2);
    expect(result.resumedFrom).toBeGreaterThan(0);
    expect(hub.fileRequests.filter((r) => r.route === 'cdn').map((r) => r.range)).toEqual([undefined, `bytes=${result.resumedFrom}-`]);
    expect((await readFile(dest)).equals(source.get(WEIGHTS) as Buffer)).toBe(true);
  });

  it('stops at once with Aborted when its signal fires, keeping the partial file', async () => {
    hub.behaviour.cutAfter.set(WEIGHTS, CUT);
    const dest = path.join(await tempDir(), WEIGHTS);
    const abort = new AbortController();

    const error: unknown = await downloadFile({
      endpoint: hub.endpoint,
      repo: REPO,
      revision: REVISION,
      file: listed(WEIGHTS),
      dest,
      retryDelayMs: 60_000,
      signal: abort.signal,
      onRetry: () => abort.abort(),
    }).catch((e: unknown) => e);

    expect(isDiffEditError(error, ErrorCode.Aborted)).toBe(true);
    expect((await stat(dest + PARTIAL_SUFFIX)).size).toBe(CUT);
    await expect(stat(dest)).rejects.toThrow();
  });

  it('names the host and the connection error when the hub cannot be reached', async () => {
    const error: unknown = await downloadFile({
      endpoint: 'http://127.0.0.1:1', // nothing listens on port 1
      repo: REPO,
      revision: REVISION,
      file: listed(WEIGHTS),
      dest: path.join(await tempDir(), WEIGHTS),
      retryDelayMs: 1,
    }).catch((e: unknown) => e);

    expect(isDiffEditError(error, ErrorCode.DownloadFailed)).toBe(true);
    expect((error as DiffEditError).details).toMatchObject({ reason: 'network', code: 'ECONNREFUSED' });
    expect((error as DiffEditError).message).toContain('127.0.0.1:1');
  });
});

describe('downloadModel with a flaky server', () => {
  it('stops at a corrupt file with ChecksumMismatch, keeping no final or partial copy of it', async () => {
    hub.behaviour.corrupt.add(WEIGHTS);
    const outDir = await tempDir();

    const error: unknown = await downloadModel({ endpoint: hub.endpoint, repo: REPO, revision: REVISION, outDir, retryDelayMs: 10 }).catch(
      (e: unknown) => e,
    );

    expect(isDiffEditError(error, ErrorCode.ChecksumMismatch)).toBe(true);
    expect((error as DiffEditError).details['file']).toBe(WEIGHTS);
    expect(await readdir(path.join(outDir, 'unet'))).not.toContain('weights.pb');
    expect(await readdir(path.join(outDir, 'unet'))).not.toContain(`weights.pb${PARTIAL_SUFFIX}`);
  });

  it('resumes the broken UNet weights and ends with every byte right', async () => {
    hub.behaviour.cutAfter.set(WEIGHTS, CUT);
    const outDir = await tempDir();

    const summary = await downloadModel({ endpoint: hub.endpoint, repo: REPO, revision: REVISION, outDir, retryDelayMs: 10 });

    expect(hub.fileRequests.filter((r) => r.file === WEIGHTS && r.route === 'cdn').map((r) => r.range)).toEqual([undefined, `bytes=${CUT}-`]);
    expect(summary.files.find((f) => f.path === WEIGHTS)).toMatchObject({ outcome: 'downloaded', resumedFrom: CUT });
    for (const [file, bytes] of source) expect((await readFile(path.join(outDir, file))).equals(bytes), file).toBe(true);
  });
});

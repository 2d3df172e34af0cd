import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { downloadModel, type DownloadModelOptions } from '../../src/download/download-model.js';
import { STATE_FILE } from '../../src/download/transfer/download-state.js';
import { DiffEditEngine } from '../../src/engine/engine.js';
import { ErrorCode } from '../../src/errors.js';
import { silentLogger } from '../../src/logger.js';
import { FakeHub, REVISION } from './fake-hub.js';
import { readTree, tinyExport, UNNEEDED, withUnneeded } from './tiny-repo.js';
import { rejection } from '../engine/image/fixtures.js';

const REPO = 'tiny/sd-onnx';
const INPAINT_REPO = 'tiny/sd-inpainting';
const PYTORCH_ONLY = 'tiny/pytorch-only';

let hub: FakeHub;
let source: Map<string, Buffer>;
let sourceDirs: string[] = [];
let inpaintSource: Map<string, Buffer>;
const outDirs: string[] = [];

beforeAll(async () => {
  const main = await tinyExport();
  const inpaint = await tinyExport({ unetInChannels: 9 });
  source = main.files;
  sourceDirs = [main.dir, inpaint.dir];
  inpaintSource = inpaint.files;
  hub = await FakeHub.start({
    [REPO]: withUnneeded(source),
    [INPAINT_REPO]: withUnneeded(inpaintSource),
    [PYTORCH_ONLY]: new Map([
      ['unet/diffusion_pytorch_model.safetensors', Buffer.from('weights')],
      ['model_index.json', Buffer.from('{}')],
    ]),
  });
});

afterAll(async () => {
  await hub.close();
  await Promise.all([...sourceDirs, ...outDirs].map((d) => rm(d, { recursive: true, force: true })));
});

afterEach(() => hub.reset());

async function freshOut(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'diffedit-download-'));
  outDirs.push(dir);
  return path.join(dir, 'models');
}

function options(outDir: string, extra: Partial<DownloadModelOptions> = {}): DownloadModelOptions {
  return { endpoint: hub.endpoint, repo: REPO, revision: REVISION, outDir, retryDelayMs: 10, logger: silentLogger, ...extra };
}

describe('downloadModel', () => {
  it('downloads exactly the export, byte for byte, and the engine loads it', async () => {
    const outDir = await freshOut();
    const summary = await downloadModel(options(outDir));

    const downloaded = await readTree(outDir);
    downloaded.delete(STATE_FILE);
    expect([...downloaded.keys()].sort()).toEqual([...source.keys()].sort());
    for (const [file, bytes] of source) expect(downloaded.get(file)?.equals(bytes), file).toBe(true);
    expect(summary).toMatchObject({ repo: REPO, revision: REVISION, outDir, downloaded: source.size, present: 0 });
    expect(summary.bytesTransferred).toBe([...source.values()].reduce((n, b) => n + b.length, 0));

    const engine = await DiffEditEngine.create({ modelDir: outDir, providers: ['cpu'], size: 128, logger: silentLogger, cpuThreads: 1 });
    await engine.close();
  });

  it('pins the download to the commit the branch named when it began, though the branch moves mid-download', async () => {
    const repo = 'tiny/moving';
    const pinned = hub.commit(repo, withUnneeded(source));
    // Every file of the next commit differs (size and content): a file taken from it would fail its checksum.
    const changed = new Map([...withUnneeded(source)].map(([file, bytes]) => [file, Buffer.concat([bytes, Buffer.from('\n')])]));
    hub.behaviour.onRequest = (request) => {
      if (request.file !== undefined && hub.head(repo) === pinned) hub.commit(repo, changed);
    };
    const outDir = await freshOut();

    const summary = await downloadModel(options(outDir, { repo }));

    expect(hub.head(repo)).not.toBe(pinned);
    expect(summary.commit).toBe(pinned);
    expect(hub.requests.filter((r) => r.route === 'revision').map((r) => r.revision)).toEqual([REVISION]);
    const atRevision = hub.requests.filter((r) => r.route === 'tree' || r.route === 'resolve');
    expect(atRevision.length).toBeGreaterThan(source.size);
    expect(atRevision.filter((r) => r.revision !== pinned)).toEqual([]);
    const downloaded = await readTree(outDir);
    for (const [file, bytes] of source) expect(downloaded.get(file)?.equals(bytes), file).toBe(true);
    const state = JSON.parse(await readFile(path.join(outDir, STATE_FILE), 'utf8')) as { source?: unknown };
    expect(state.source).toEqual({ repo, revision: REVISION, commit: pinned });
  });

  it('asks for every file uncompressed (Accept-Encoding: identity), so sizes and resume offsets are of the file itself', async () => {
    await downloadModel(options(await freshOut()));

    expect(hub.fileRequests.length).toBeGreaterThan(source.size);
    expect(hub.fileRequests.filter((r) => r.acceptEncoding !== 'identity')).toEqual([]);
  });

  it('fetches no file the engine does not need', async () => {
    const outDir = await freshOut();
    await downloadModel(options(outDir));

    const asked = new Set(hub.fileRequests.map((r) => r.file));
    for (const file of Object.keys(UNNEEDED)) {
      expect(asked.has(file), file).toBe(false);
      await expect(stat(path.join(outDir, file)), file).rejects.toThrow();
    }
  });

  it('follows every page of the file list', async () => {
    const outDir = await freshOut();
    await downloadModel(options(outDir));

    const pages = hub.requests.filter((r) => r.route === 'tree');
    expect(pages.length).toBeGreaterThan(3);
    expect(pages.slice(1).every((r) => r.path.includes('cursor='))).toBe(true);
  });

  it('downloads nothing on a second run, trusting its state file', async () => {
    const outDir = await freshOut();
    await downloadModel(options(outDir));
    hub.requests.length = 0;

    const second = await downloadModel(options(outDir));

    expect(hub.fileRequests).toEqual([]);
    expect(second).toMatchObject({ downloaded: 0, present: source.size, bytesTransferred: 0 });
  });

  it('without its state file, verifies the files on disk by hash and still downloads nothing', async () => {
    const outDir = await freshOut();
    await downloadModel(options(outDir));
    await rm(path.join(outDir, STATE_FILE));
    hub.requests.length = 0;

    const second = await downloadModel(options(outDir));

    expect(hub.fileRequests).toEqual([]);
    expect(second.present).toBe(source.size);
    expect(JSON.parse(await readFile(path.join(outDir, STATE_FILE), 'utf8'))).toMatchObject({ version: 1 });
  });

  it('downloads a file again when its local copy was changed', async () => {
    const outDir = await freshOut();
    await downloadModel(options(outDir));
    const vocab = path.join(outDir, 'tokenizer', 'vocab.json');
    const original = await readFile(vocab);
    // Same size, different bytes: only the hash can tell.
    await writeFile(vocab, Buffer.from(original.map((b) => (b === 0x22 ? 0x27 : b))));
    hub.requests.length = 0;

    const second = await downloadModel(options(outDir));

    expect(hub.fileRequests.map((r) => r.file)).toEqual(['tokenizer/vocab.json']);
    expect(second.downloaded).toBe(1);
    expect((await readFile(vocab)).equals(original)).toBe(true);
  });

  it('sends the token to the hub host but not to the CDN it redirects to', async () => {
    const outDir = await freshOut();
    await downloadModel(options(outDir, { token: 'hf_secret' }));

    const hubHost = new URL(hub.endpoint).host;
    const toHub = hub.requests.filter((r) => r.host === hubHost);
    const toCdn = hub.requests.filter((r) => r.host === new URL(hub.cdnOrigin).host);
    expect(toHub.length).toBeGreaterThan(0);
    expect(toCdn.length).toBeGreaterThan(0);
    expect(toHub.every((r) => r.authorization === 'Bearer hf_secret')).toBe(true);
    expect(toCdn.map((r) => r.authorization)).toEqual(toCdn.map(() => undefined));
    // Only LFS files (the models) go through the CDN.
    expect(toCdn.map((r) => r.file).sort()).toEqual([...source.keys()].filter((f) => /\.(onnx|pb)$/.test(f)).sort());
  });

  it('answers 401 with a typed error that asks for HF_TOKEN', async () => {
    hub.behaviour.status = 401;
    const error = await rejection(downloadModel(options(await freshOut())));

    expect(error.code).toBe(ErrorCode.DownloadFailed);
    expect(error.message).toContain('HF_TOKEN');
    expect(error.message).toContain(`${hub.endpoint}/${REPO}`);
    expect(error.details).toMatchObject({ status: 401, reason: 'unauthorized' });
    expect(error.stack).toBeDefined();
  });

  it('reports an unknown repository and an unknown revision as not found', async () => {
    const repoError = await rejection(downloadModel(options(await freshOut(), { repo: 'nobody/nothing' })));
    const revisionError = await rejection(downloadModel(options(await freshOut(), { revision: 'no-such-branch' })));

    expect(repoError.message).toContain('nobody/nothing');
    expect(repoError.details).toMatchObject({ status: 404, reason: 'not-found' });
    expect(revisionError.message).toContain('no revision "no-such-branch"');
    expect(revisionError.details).toMatchObject({ status: 404, reason: 'not-found' });
  });

  it('refuses a revision without an ONNX export, naming the missing models, before downloading anything', async () => {
    const error = await rejection(downloadModel(options(await freshOut(), { repo: PYTORCH_ONLY })));

    expect(error.code).toBe(ErrorCode.DownloadFailed);
    expect(error.message).toContain('unet/model.onnx');
    expect(error.details).toMatchObject({ reason: 'not-onnx' });
    expect(hub.fileRequests).toEqual([]);
  });

  it('fetches only the UNet (and model_index.json) of an inpainting export, which the engine then uses', async () => {
    const modelDir = await freshOut();
    const inpaintDir = await freshOut();
    await downloadModel(options(modelDir));
    await downloadModel(options(inpaintDir, { repo: INPAINT_REPO, components: ['unet'] }));

    const files = await readTree(inpaintDir);
    files.delete(STATE_FILE);
    expect([...files.keys()].sort()).toEqual(['model_index.json', 'unet/model.onnx', 'unet/weights.pb']);
    for (const [file, bytes] of files) expect(bytes.equals(inpaintSource.get(file) as Buffer), file).toBe(true);

    const engine = await DiffEditEngine.create({
      modelDir,
      inpaintModelDir: inpaintDir,
      providers: ['cpu'],
      size: 128,
      logger: silentLogger,
      cpuThreads: 1,
    });
    await engine.close();
  });
});

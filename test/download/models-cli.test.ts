import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MODEL_PRESETS } from '../../src/download/presets.js';
import { FakeHub } from './fake-hub.js';
import { tinyExport, withUnneeded } from './tiny-repo.js';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../..');
const tsx = path.join(root, 'node_modules/.bin/tsx');
const REPO = 'tiny/sd-onnx';
const COMMUNITY = MODEL_PRESETS['sd15-community'];

let hub: FakeHub;
let source: Map<string, Buffer>;
const dirs: string[] = [];

/** Runs `npm run models` (its script) in `cwd` with only PATH and `env`; async so the in-process hub can answer. */
async function models(args: string[], env: Record<string, string>, cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(tsx, [path.join(root, 'src/cli/models.ts'), ...args], {
      cwd,
      env: { PATH: process.env['PATH'] ?? '', ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'diffedit-models-cli-'));
  dirs.push(dir);
  return dir;
}

beforeAll(async () => {
  const tiny = await tinyExport();
  dirs.push(tiny.dir);
  source = tiny.files;
  hub = await FakeHub.start({ [REPO]: withUnneeded(source) });
  hub.commit(COMMUNITY.repo, withUnneeded(source), COMMUNITY.revision);
});
afterAll(async () => {
  await hub.close();
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});
afterEach(() => hub.reset());

describe('npm run models', () => {
  it('reads HF_ENDPOINT and HF_TOKEN from .env, downloads into --out with plain progress lines and prints a summary', async () => {
    const cwd = await tempDir();
    await writeFile(path.join(cwd, '.env'), `HF_ENDPOINT=${hub.endpoint}\nHF_TOKEN=hf_from_dotenv\n`);

    const r = await models(['--repo', REPO, '--out', 'sd'], {}, cwd);

    expect(r.stderr).not.toMatch(/\s+at .+:\d+:\d+/);
    expect(r.code).toBe(0);
    const commit = hub.head(REPO)?.slice(0, 12) ?? 'none';
    expect(r.stdout).toMatch(
      new RegExp(`^${REPO}@onnx \\(commit ${commit}\\) -> ${path.join(cwd, 'sd')}: ${source.size} files, .*; ${source.size} downloaded \\(`),
    );
    expect(r.stderr).toContain('downloading unet/weights.pb');
    expect(r.stderr).toMatch(/unet\/weights\.pb done: /);
    expect(r.stderr).toContain('MODEL_DIR=sd');
    for (const [file, bytes] of source) expect((await readFile(path.join(cwd, 'sd', file))).equals(bytes), file).toBe(true);
    const toHub = hub.requests.filter((q) => q.host === new URL(hub.endpoint).host);
    expect(toHub.every((q) => q.authorization === 'Bearer hf_from_dotenv')).toBe(true);
  });

  it('writes the optimised copy after downloading, and --no-optimize skips it', async () => {
    const cwd = await tempDir();
    const r = await models(['--repo', REPO, '--out', 'sd', '--endpoint', hub.endpoint], {}, cwd);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/unet: .*nodes/);
    expect(r.stderr).toContain(`optimised copy -> ${path.join(cwd, 'sd', 'optimized')}`);
    const record = JSON.parse(await readFile(path.join(cwd, 'sd', 'optimized', 'optimized.json'), 'utf8')) as { parts: Record<string, unknown> };
    expect(Object.keys(record.parts)).toContain('unet');

    const skipped = await models(['--repo', REPO, '--out', 'plain', '--endpoint', hub.endpoint, '--no-optimize'], {}, cwd);
    expect(skipped.code).toBe(0);
    expect(skipped.stderr).not.toContain('optimised copy');
    await expect(readFile(path.join(cwd, 'plain', 'optimized', 'optimized.json'))).rejects.toThrow(/ENOENT/);
  });

  it('on 401 prints one line asking for HF_TOKEN, no stack trace, and exits 1', async () => {
    hub.behaviour.status = 401;
    const cwd = await tempDir();

    const r = await models(['--repo', REPO, '--endpoint', hub.endpoint], {}, cwd);

    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/needs HF_TOKEN .*accept the licence/);
    expect(r.stderr).not.toMatch(/\s+at .+:\d+:\d+/);
    expect(r.stdout).toBe('');
  });

  it('downloads the preset MODELS_PRESET names', async () => {
    const cwd = await tempDir();

    const r = await models(['--out', 'sd', '--endpoint', hub.endpoint, '--no-optimize'], { MODELS_PRESET: 'sd15-community' }, cwd);

    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^${COMMUNITY.repo}@main \\(commit [0-9a-f]{12}\\) -> `));
    for (const [file, bytes] of source) expect((await readFile(path.join(cwd, 'sd', file))).equals(bytes), file).toBe(true);
  });

  it('answers a repository that is not there with the presets to use instead, in one line', async () => {
    const r = await models(['--repo', 'nobody/nothing', '--endpoint', hub.endpoint], {}, await tempDir());

    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Repository nobody\/nothing .* was not found .* Known sources: --preset sd15 \(.*\), --preset sd15-community \(/);
    expect(r.stderr).not.toMatch(/\s+at .+:\d+:\d+/);
  });

  it('refuses a preset of the wrong kind before any request', async () => {
    const r = await models(['--preset', 'sd15-inpainting', '--endpoint', hub.endpoint], {}, await tempDir());

    expect(r.code).toBe(1);
    expect(r.stderr).toContain('--preset "sd15-inpainting" is an inpainting preset; use one of sd15, sd15-community, sdxl.');
    expect(hub.requests).toEqual([]);
  });

  it('rejects an unknown flag with the usage and exit code 2', async () => {
    const r = await models(['--nope'], {}, await tempDir());

    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Usage: npm run models');
  });
});

import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { smoothPhoto, tinyModelDir } from '../engine/tiny-engine.js';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../..');
const tsx = path.join(root, 'node_modules/.bin/tsx');

/** Runs a project entry point in an empty folder (no .env) with only the given variables. */
async function start(script: string, args: string[], env: Record<string, string>, cwd: string) {
  try {
    const { stdout, stderr } = await run(tsx, [path.join(root, script), ...args], { cwd, env: { PATH: process.env['PATH'] ?? '', ...env } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** `npm run diffedit` with `args` on the tiny models at 128 px, on the CPU. */
async function diffedit(args: string[], logLevel = 'warn') {
  return start(
    'src/cli/diffedit.ts',
    args,
    { MODEL_DIR: await tinyModelDir(), MODEL_SIZE: '128', EXECUTION_PROVIDERS: 'cpu', LOG_LEVEL: logLevel },
    cwd,
  );
}

/** A successful run's one JSON line. */
function reportOf(r: { code: number; stdout: string; stderr: string }): Record<string, unknown> {
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const lines = r.stdout.trim().split('\n');
  expect(lines).toHaveLength(1);
  return JSON.parse(lines[0] as string) as Record<string, unknown>;
}

let cwd: string;
beforeAll(async () => {
  cwd = await mkdtemp(path.join(os.tmpdir(), 'diffedit-cli-'));
});
afterAll(async () => {
  await rm(cwd, { recursive: true, force: true });
});

describe('npm start', () => {
  it('without a token says exactly what to set up, and exits', async () => {
    const r = await start('src/main.ts', [], {}, cwd);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/DISCORD_TOKEN is not set/);
    expect(r.stderr).toMatch(/cp \.env\.example \.env/);
    expect(r.stderr).not.toMatch(/\s+at .+:\d+:\d+/);
  });

  it('lists every invalid variable', async () => {
    const r = await start('src/main.ts', [], { DISCORD_TOKEN: 'x', MODEL_SIZE: '100', QUEUE_MAX: '0' }, cwd);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/MODEL_SIZE/);
    expect(r.stderr).toMatch(/QUEUE_MAX/);
  });

  it('with a token but no models names the missing folder and how to get models', async () => {
    const r = await start('src/main.ts', [], { DISCORD_TOKEN: 'x', MODEL_DIR: path.join(cwd, 'nothing'), LOG_LEVEL: 'silent' }, cwd);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/No Stable Diffusion export in .*nothing: no such folder/);
    expect(r.stderr).toMatch(/npm run models/);
  });

  it('in a fresh clone (models/ holds only its README, no token) says both: no export, how to get one, the demo model, and the token', async () => {
    const clone = await freshClone();
    const r = await start('src/main.ts', [], {}, clone);
    expect(r.code).toBe(2);
    expectNoExportMessage(r.stderr, path.join(clone, 'models'));
    expect(r.stderr).toMatch(/DISCORD_TOKEN is not set/);
  });

  it('in a fresh clone with a token stops before loading anything, with the same message', async () => {
    const clone = await freshClone();
    const r = await start('src/main.ts', [], { DISCORD_TOKEN: 'x', DATA_DIR: path.join(clone, 'data'), LOG_LEVEL: 'info' }, clone);
    expect(r.code).toBe(1);
    expectNoExportMessage(r.stderr, path.join(clone, 'models'));
    expect(r.stderr).not.toMatch(/"msg":"models from|engine ready|logged in/);
  });
});

/** A folder laid out as a fresh clone before `npm run models`: models/ holds only its README. */
async function freshClone(): Promise<string> {
  const clone = await mkdtemp(path.join(cwd, 'clone-'));
  await mkdir(path.join(clone, 'models'));
  await writeFile(path.join(clone, 'models/README.md'), await readFile(path.join(root, 'models/README.md')));
  return clone;
}

/** What a process says when MODEL_DIR holds no export: that, how to get one, the demo model by name; no stack. */
function expectNoExportMessage(stderr: string, dir: string): void {
  expect(stderr).toContain(`No Stable Diffusion export in ${dir}: the folder holds no model files.`);
  expect(stderr).toMatch(/npm run models +downloads Stable Diffusion 1\.5/);
  expect(stderr).toContain('MODEL_DIR=demo/model');
  expect(stderr).not.toMatch(/\s+at .+:\d+:\d+/);
}

describe('npm run diffedit', () => {
  it('writes the panel PNG and prints one JSON line with both seeds, provider, per-phase ms, UNet evaluations and coverage', async () => {
    const input = path.join(cwd, 'in.png');
    await writeFile(input, await smoothPhoto());
    const out = path.join(cwd, 'panel.png');
    const r = await diffedit([
      '--image',
      input,
      '--ref',
      'a bowl of strawberries',
      '--query',
      'a bowl of grapes',
      '--seed',
      '3',
      '--mask-seed',
      '5',
      '--steps',
      '10',
      '--out',
      out,
    ]);
    const report = reportOf(r);
    expect(report).toMatchObject({ seed: 3, maskSeed: 5, provider: 'cpu', unetEvaluations: 20 + 8 + 16 });
    expect(Object.keys(report['ms'] as object)).toEqual(['prepare', 'mask', 'invert', 'decode', 'render', 'output', 'total']);
    expect(report['maskCoverage']).toBeGreaterThan(0.1);
    expect((await sharp(await readFile(out)).metadata()).width).toBe(3 * 128 + 16);
  });

  it('creates a missing output folder and writes the full-size photo beside the panel, saying where', async () => {
    const input = path.join(cwd, 'wide.png');
    await writeFile(input, await smoothPhoto(200, 150));
    const out = path.join(cwd, 'not', 'yet', 'there', 'panel.png');
    const r = await diffedit([
      '--image',
      input,
      '--ref',
      'a bowl of strawberries',
      '--query',
      'a bowl of grapes',
      '--seed',
      '3',
      '--steps',
      '4',
      '--draws',
      '2',
      '--out',
      out,
    ]);
    const report = reportOf(r);
    const photo = path.join(cwd, 'not', 'yet', 'there', 'panel-photo.png');
    expect(report).toMatchObject({ out, photo, photoSize: [200, 150] });
    const meta = await sharp(await readFile(photo)).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 200, 150]);
    expect((await sharp(await readFile(out)).metadata()).format).toBe('png');
  });

  it('--variations 3 --area 1: one panel of three candidates and a full-size photo each, listed with their seeds', async () => {
    const input = path.join(cwd, 'steer.png');
    await writeFile(input, await smoothPhoto());
    const out = path.join(cwd, 'steer', 'panel.png');
    const common = ['--image', input, '--ref', 'a bowl of strawberries', '--query', 'a bowl of grapes', '--seed', '7', '--steps', '4'];
    const r = await diffedit([...common, '--draws', '2', '--variations', '3', '--area', '1', '--out', out]);
    const report = reportOf(r);
    const photos = [1, 2, 3].map((k) => path.join(cwd, 'steer', `panel-photo-${k}.png`));
    expect(report).toMatchObject({
      seed: 7,
      area: 1,
      maskCoverage: 0.3516, // 90 of 256 cells: 64 x 1.4
      candidates: photos.map((photo, k) => ({ seed: 7 + k, photo, photoSize: [128, 128] })),
    });
    expect(report['photo']).toBeUndefined();
    expect((await sharp(await readFile(out)).metadata()).width).toBe(5 * 128 + 4 * 8);
    const pixels = await Promise.all(
      photos.map(async (file) =>
        (
          await sharp(await readFile(file))
            .raw()
            .toBuffer()
        ).toString('hex'),
      ),
    );
    expect(new Set(pixels).size).toBe(3);
  });

  it('a non-image file is a one-line error, no stack trace', async () => {
    const input = path.join(cwd, 'notes.txt');
    await writeFile(input, 'not a picture');
    const r = await diffedit(['--image', input, '--ref', 'a cat', '--query', 'a dog'], 'silent');
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/JPEG, PNG or WebP/);
  });

  it('--inversion takes uncond or ref; anything else is a one-line error naming both', async () => {
    const input = path.join(cwd, 'in-inversion.png');
    await writeFile(input, await smoothPhoto());
    const r = await diffedit(['--image', input, '--ref', 'a cat', '--query', 'a dog', '--inversion', 'sideways'], 'silent');
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/inversion must be one of uncond, ref/);
  });

  it('in a fresh clone (models/ holds only its README) says there is no export and how to get one, and edits nothing', async () => {
    const clone = await freshClone();
    await writeFile(path.join(clone, 'in.png'), await smoothPhoto());
    const r = await start('src/cli/diffedit.ts', ['--image', 'in.png', '--ref', 'a cat', '--query', 'a dog'], {}, clone);
    expect(r.code).toBe(1);
    expectNoExportMessage(r.stderr, path.join(clone, 'models'));
    expect(r.stdout).toBe('');
    await expect(readFile(path.join(clone, 'panel.png'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('npm run deploy-commands', () => {
  it.each([
    ['globally', {}, 'global', /globally/],
    ['in one guild with GUILD_ID', { GUILD_ID: '200000000000000001' }, '200000000000000001', /in guild 200000000000000001/],
  ])('registers /diffedit, /mask and the "DiffEdit this image" message menu %s', async (_name, extra, scope, message) => {
    const { FakeDiscord } = await import('../fake-discord/index.js');
    const fake = await FakeDiscord.start();
    try {
      const r = await start('commands/deploy.ts', [], { DISCORD_TOKEN: fake.botToken, DISCORD_API_URL: fake.apiUrl, ...extra }, cwd);
      expect(r.stderr).toBe('');
      expect(r.stdout).toMatch(message);
      const commands = fake.registeredCommands(scope);
      expect(commands.map((c) => [c['name'], c['type']])).toEqual([
        ['diffedit', 1],
        ['mask', 1],
        ['DiffEdit this image', 3],
      ]);
      expect(r.stdout).toMatch(/Registered \/diffedit, \/mask, "DiffEdit this image" \(message menu\)/);
      const diffedit = commands[0] as { options: { name: string; type: number; required?: boolean }[] };
      expect(diffedit.options.map((o) => o.name)).toEqual([
        'image',
        'ref',
        'query',
        'seed',
        'mask_seed',
        'steps',
        'strength',
        'guidance',
        'composite',
        'area',
        'variations',
      ]);
      expect(diffedit.options.filter((o) => o.required).map((o) => o.name)).toEqual(['image', 'ref', 'query']);
    } finally {
      await fake.close();
    }
  });

  it('without a token says what to set', async () => {
    const r = await start('commands/deploy.ts', [], {}, cwd);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/DISCORD_TOKEN/);
  });
});

/**
 * Disk faults (issue #8, item 8) on real file systems: a tmpfs mounted read-only or nearly full. Mounting needs root
 * with CAP_SYS_ADMIN (CI has it); elsewhere those tests are skipped with one line saying so. The bot runs end to end
 * against the fake Discord with the real engine on tiny models.
 */
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DiffEditBot } from '../../src/bot/bot.js';
import { isDiffEditError } from '../../src/errors.js';
import type { DiffEditEngine } from '../../src/engine/engine.js';
import type { FakeDiscord } from '../fake-discord/index.js';
import { contentOf, customIds, finalResult, paced, recordingLogger, sendCommand, startBot, testConfig, startWorld, type World } from './harness.js';

let world: World;
let fake: FakeDiscord;
let engine: DiffEditEngine;
let photo: Buffer;
let photoUrl: string;
let scratch: string;
const mounts: string[] = [];

function mount(dir: string, options: string): boolean {
  return spawnSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir], { stdio: 'ignore' }).status === 0;
}

const canMount = await (async () => {
  const probe = await mkdtemp(path.join(os.tmpdir(), 'diffedit-mount-probe-'));
  const ok = mount(probe, 'size=64k');
  if (ok) spawnSync('umount', [probe]);
  await rm(probe, { recursive: true, force: true });
  if (!ok) process.stderr.write('disk-faults: skipping the tmpfs tests (mounting needs root with CAP_SYS_ADMIN)\n');
  return ok;
})();

/** A fresh tmpfs of `size` under the scratch folder. */
async function tmpfs(name: string, size: string): Promise<string> {
  const dir = path.join(scratch, name);
  await mkdir(dir);
  if (!mount(dir, `size=${size}`)) throw new Error(`could not mount ${dir}`);
  mounts.push(dir);
  return dir;
}

beforeAll(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), 'diffedit-disk-'));
  world = await startWorld();
  ({ fake, engine, photo, photoUrl } = world);
});

afterEach(() => {
  for (const dir of mounts.splice(0)) spawnSync('umount', ['-l', dir]);
});

afterAll(async () => {
  await world.close();
  await rm(scratch, { recursive: true, force: true });
});

async function startFailure(dataDir: string): Promise<unknown> {
  return DiffEditBot.start({ config: testConfig(fake, dataDir), engine, logger: recordingLogger() }).then(
    async (bot) => (await bot.stop(0), 'started'),
    (error: unknown) => error,
  );
}

describe('start-up names the cause and the directory', () => {
  it('DATA_DIR under a file (ENOTDIR)', async () => {
    const file = path.join(scratch, 'a-file');
    await writeFile(file, 'x');
    const error = await startFailure(path.join(file, 'data'));
    expect(isDiffEditError(error, 'DataDirUnusable')).toBe(true);
    expect((error as Error).message).toMatch(/a-file\/data\/jobs cannot be used: .*\(ENOTDIR\)/);
  });

  it.runIf(canMount)('a read-only DATA_DIR (EROFS), also when the jobs folder does not exist yet', async () => {
    const dir = await tmpfs('readonly', '64k');
    spawnSync('mount', ['-o', 'remount,ro', dir]);
    const error = await startFailure(dir);
    expect(isDiffEditError(error, 'DataDirUnusable')).toBe(true);
    expect((error as Error).message).toMatch(/read-only \(EROFS\)/);
    expect((error as Error).message).toContain(path.join(dir, 'jobs'));
  });
});

describe.runIf(canMount)('disk faults while running: the finished edit is never thrown away', () => {
  it('a full disk evicts old jobs to make room, and the new job keeps its buttons', async () => {
    const dataDir = await tmpfs('full', '256k');
    const logger = recordingLogger();
    const bot = await startBot(fake, { engine: paced(engine, 50), dataDir, logger });
    try {
      for (const seed of [1, 2])
        await fake.waitForRequest(finalResult(sendCommand(fake, 'mask', { url: photoUrl, size: photo.length, seed }).token), 10_000);
      const jobs = path.join(dataDir, 'jobs');
      const before = (await readdir(jobs)).filter((f) => f.endsWith('.json'));
      // Fill the disk: writing until ENOSPC leaves no room for another job.
      await writeFile(path.join(dataDir, 'filler'), Buffer.alloc(1024 * 1024)).catch(() => undefined);
      const slash = sendCommand(fake, 'mask', { url: photoUrl, size: photo.length, seed: 3 });
      const result = await fake.waitForRequest(finalResult(slash.token), 10_000);
      expect(customIds(result)[0]).toMatch(/^reroll:/);
      const after = (await readdir(jobs)).filter((f) => f.endsWith('.json'));
      expect(after.filter((f) => before.includes(f)).length).toBeLessThan(before.length);
      expect(logger.lines.some((l) => l.msg.includes('disk full while saving a job'))).toBe(true);
    } finally {
      await bot.stop(500);
    }
  });

  it('a disk gone read-only: the result is delivered without buttons, with a note, and logged', async () => {
    const dataDir = await tmpfs('goes-readonly', '1m');
    const logger = recordingLogger();
    const bot = await startBot(fake, { engine: paced(engine, 50), dataDir, logger });
    try {
      spawnSync('mount', ['-o', 'remount,ro', dataDir]);
      const slash = sendCommand(fake, 'mask', { url: photoUrl, size: photo.length });
      const result = await fake.waitForRequest(finalResult(slash.token), 10_000);
      expect(result.files[0]?.filename).toBe('mask.png');
      expect(customIds(result)).toEqual([]);
      expect(contentOf(result)).toMatch(/Buttons are off/);
      expect(logger.lines.find((l) => l.msg.startsWith('could not keep the job'))?.level).toBe('error');
    } finally {
      await bot.stop(500);
    }
  });
});

/**
 * `npm start` as a real process: configuration from the environment, models loaded and warmed up, logged in to
 * the fake Discord, one job served, then SIGTERM: the process logs out and exits 0.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FakeDiscord } from './fake-discord/index.js';
import { smoothPhoto, tinyModelDir } from './engine/tiny-engine.js';
import { startBotProcess, waitForLog } from './bot/bot-process.js';

describe('npm start', () => {
  it('serves /mask, then shuts down cleanly on SIGTERM', async () => {
    const fake = await FakeDiscord.start();
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'diffedit-main-'));
    const { child, exited, logs } = startBotProcess(
      {
        DISCORD_TOKEN: fake.botToken,
        DISCORD_API_URL: fake.apiUrl,
        MODEL_DIR: await tinyModelDir(),
        DATA_DIR: dataDir,
        EXTRA_ATTACHMENT_HOSTS: '127.0.0.1',
      },
      dataDir,
    );
    try {
      await fake.waitForGatewayReady(20_000);
      // discord.js is ready (and handles interactions) once the bot logs "logged in".
      await waitForLog(logs, '"msg":"logged in"');
      const photo = await smoothPhoto();
      const url = fake.serveFile('p.png', photo, { contentType: 'image/png' });
      const slash = fake.sendSlashCommand({
        name: 'mask',
        options: [
          { name: 'image', type: 'attachment', value: 'a' },
          { name: 'ref', type: 'string', value: 'a bowl of strawberries' },
          { name: 'query', type: 'string', value: 'a bowl of grapes' },
        ],
        attachments: { a: { filename: 'p.png', url, size: photo.length, contentType: 'image/png', width: 128, height: 128 } },
      });
      const result = await fake.waitForRequest((r) => r.method === 'PATCH' && r.path.includes(slash.token) && r.files.length > 0, 20_000);
      expect(result.files[0]?.filename).toBe('mask.png');
      child.kill('SIGTERM');
      expect(await exited).toEqual({ code: 0, signal: null });
      const lines = logs()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { msg: string });
      const messages = lines.map((l) => l.msg);
      expect(messages).toEqual(
        expect.arrayContaining(['unet runs on cpu', 'engine ready', 'logged in', 'job done', 'signal received', 'logged out']),
      );
    } finally {
      child.kill('SIGKILL');
      await fake.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('a SIGTERM during start-up (models loading, before login) exits 0 at once, with a log line', async () => {
    const fake = await FakeDiscord.start();
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'diffedit-main-'));
    const { child, exited, logs } = startBotProcess(
      { DISCORD_TOKEN: fake.botToken, DISCORD_API_URL: fake.apiUrl, MODEL_DIR: await tinyModelDir(), DATA_DIR: dataDir },
      dataDir,
    );
    try {
      // The first log line comes from loading the models: the handlers are installed by then.
      await waitForLog(logs, '"level"');
      child.kill('SIGTERM');
      expect(await exited).toEqual({ code: 0, signal: null });
      expect(logs()).toContain('"msg":"signal received"');
    } finally {
      child.kill('SIGKILL');
      await fake.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('a read-only or unusable DATA_DIR stops start-up with the real cause and the directory', async () => {
    const fake = await FakeDiscord.start();
    const scratch = await mkdtemp(path.join(os.tmpdir(), 'diffedit-main-'));
    await writeFile(path.join(scratch, 'file'), 'x');
    const { exited, logs } = startBotProcess(
      { DISCORD_TOKEN: fake.botToken, DISCORD_API_URL: fake.apiUrl, MODEL_DIR: await tinyModelDir(), DATA_DIR: path.join(scratch, 'file', 'data') },
      scratch,
    );
    try {
      expect((await exited).code).toBe(1);
      expect(logs()).toMatch(/file\/data\/jobs cannot be used: .*\(ENOTDIR\)\. Set DATA_DIR to a writable directory\./);
      expect(logs()).not.toMatch(/\s+at\s.+:\d+:\d+/);
    } finally {
      await fake.close();
      await rm(scratch, { recursive: true, force: true });
    }
  });
});

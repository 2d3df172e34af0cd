/**
 * `npm start` as a real process: configuration from the environment, models loaded and warmed up, logged in to
 * the fake Discord, one job served, then SIGTERM: the process logs out and exits 0.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FakeDiscord } from './fake-discord/index.js';
import { smoothPhoto, tinyModelDir } from './engine/tiny-engine.js';

const root = path.resolve(import.meta.dirname, '..');

describe('npm start', () => {
  it('serves /mask, then shuts down cleanly on SIGTERM', async () => {
    const fake = await FakeDiscord.start();
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'diffedit-main-'));
    const child = spawn(process.execPath, ["--import", "tsx", path.join(root, "src/main.ts")], {
      cwd: dataDir,
      env: {
        PATH: process.env['PATH'] ?? '',
        DISCORD_TOKEN: fake.botToken,
        DISCORD_API_URL: fake.apiUrl,
        MODEL_DIR: await tinyModelDir(),
        MODEL_SIZE: '128',
        EXECUTION_PROVIDERS: 'cpu',
        DATA_DIR: dataDir,
        EXTRA_ATTACHMENT_HOSTS: '127.0.0.1',
        LOG_LEVEL: 'info',
      },
    });
    let logs = '';
    child.stderr.on('data', (chunk: Buffer) => (logs += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      await fake.waitForGatewayReady(20_000);
      // discord.js is ready (and handles interactions) once the bot logs "logged in".
      for (const deadline = Date.now() + 20_000; !logs.includes('"msg":"logged in"'); ) {
        if (Date.now() > deadline) throw new Error(`the bot never logged in:\n${logs}`);
        await new Promise((r) => setTimeout(r, 20));
      }
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
      expect(await exited).toBe(0);
      const lines = logs.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { msg: string });
      const messages = lines.map((l) => l.msg);
      expect(messages).toEqual(expect.arrayContaining(['unet runs on cpu', 'engine ready', 'logged in', 'job done', 'signal received', 'logged out']));
    } finally {
      child.kill('SIGKILL');
      await fake.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

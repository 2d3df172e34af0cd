/**
 * Test support: `npm start` as a real process, as package.json runs it: node itself with tsx's loader (so signals
 * reach the bot directly), the loader named by its resolved URL because the process may run in a temporary working
 * directory. Its stderr (the JSON log) is kept for assertions.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { FakeDiscord } from '../fake-discord/index.js';

const root = path.resolve(import.meta.dirname, '../..');

/** A running bot process. */
export interface BotProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Everything it logged so far. */
  logs(this: void): string;
}

/** Starts `npm start` in `cwd` with only PATH and `env` (plus the CPU settings tests use). */
export function startBotProcess(env: Record<string, string>, cwd: string): BotProcess {
  const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), path.join(root, 'src/main.ts')], {
    cwd,
    env: { PATH: process.env['PATH'] ?? '', EXECUTION_PROVIDERS: 'cpu', MODEL_SIZE: '128', LOG_LEVEL: 'info', ...env },
  });
  let logs = '';
  child.stderr?.on('data', (chunk: Buffer) => (logs += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, exited, logs: () => logs };
}

/** Resolves once the process has logged `text`, polling; rejects after `timeoutMs` with what it logged. */
export async function waitForLog(logs: () => string, text: string, timeoutMs = 20_000): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; !logs().includes(text);) {
    if (Date.now() > deadline) throw new Error(`never logged ${text}:\n${logs()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * `npm start` with QUEUE_BACKEND=redis against the fake Discord and `redisUrl`, resolved once logged in; `env` adds
 * to or overrides the test settings. A process that never logs in is killed before this rejects.
 */
export async function startRedisBotProcess(fake: FakeDiscord, redisUrl: string, cwd: string, env: Record<string, string> = {}): Promise<BotProcess> {
  const bot = startBotProcess(
    {
      DISCORD_TOKEN: fake.botToken,
      DISCORD_API_URL: fake.apiUrl,
      QUEUE_BACKEND: 'redis',
      REDIS_URL: redisUrl,
      DATA_DIR: cwd,
      EXTRA_ATTACHMENT_HOSTS: '127.0.0.1',
      PROGRESS_INTERVAL_MS: '150',
      DELIVERY_RETRY_MS: '5000',
      LOG_LEVEL: 'debug',
      ...env,
    },
    cwd,
  );
  try {
    // Under load a fresh node + tsx + discord.js process can take tens of seconds to log in.
    await waitForLog(bot.logs, '"msg":"logged in"', 90_000);
  } catch (error) {
    bot.child.kill('SIGKILL');
    throw error;
  }
  return bot;
}

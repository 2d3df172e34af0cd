/**
 * QUEUE_BACKEND=redis across bot restarts, end to end: bot processes are real `npm start` processes (killed with
 * SIGKILL, as a crash would), a real redis-server, `npm run worker` on the tiny models, the fake Discord. Checked on
 * what the fake received: each result edited into its reply exactly once, even when the bot that queued the job is
 * gone, and a button under a result delivered by a dead process answered by the next one.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeDiscord } from '../fake-discord/index.js';
import { HAS_REDIS, startRedis, type RedisServer } from '../queue/redis/redis-server.js';
import { startWorker, type WorkerLine, type WorkerProcess } from '../queue/redis/worker-process.js';
import { startRedisBotProcess, waitForLog, type BotProcess } from './bot-process.js';
import { ALICE, BOB, channelPost, customIds, finalResult, isResultOf, sendCommand, startWorld, statusEdit, until, type World } from './harness.js';

const WORKER_ENV = { TEST_ENGINE_DELAY_MS: '1000', WORKER_LOCK_MS: '2000', SHUTDOWN_GRACE_MS: '5000' };
/** Each test starts bot processes (node, tsx, discord.js): slow on busy cores. */
const SLOW = { timeout: 240_000 };

describe.skipIf(!HAS_REDIS)('QUEUE_BACKEND=redis: bot processes that die', () => {
  let world: World;
  let fake: FakeDiscord;
  let redis: RedisServer;
  let worker: WorkerProcess | undefined;
  let cwd: string;
  const bots: BotProcess[] = [];

  beforeAll(async () => {
    [world, redis, cwd] = await Promise.all([startWorld(), startRedis(), mkdtemp(path.join(os.tmpdir(), 'diffedit-restart-'))]);
    fake = world.fake;
    worker = await startWorker(redis.url, WORKER_ENV);
  });

  afterAll(async () => {
    for (const bot of bots) bot.child.kill('SIGKILL');
    worker?.kill('SIGTERM');
    await Promise.all([...bots.map((b) => b.exited), worker?.exited]);
    await redis.stop();
    await world.close();
    await rm(cwd, { recursive: true, force: true });
  });

  /** `npm start` with QUEUE_BACKEND=redis, logged in. */
  async function startBot(): Promise<BotProcess> {
    const bot = await startRedisBotProcess(fake, redis.url, cwd);
    bots.push(bot);
    return bot;
  }

  async function crash(bot: BotProcess): Promise<void> {
    bot.child.kill('SIGKILL');
    expect(await bot.exited).toEqual({ code: null, signal: 'SIGKILL' });
  }

  const command = (user = ALICE, seed = 7) =>
    sendCommand(fake, 'diffedit', { user, seed, maskSeed: seed, url: world.photoUrl, size: world.photo.length });
  const resultsOf = (token: string) => fake.requests.filter(finalResult(token));
  const workerLine = (msg: string, after: number) => (line: WorkerLine) => line.msg === msg && (worker?.lines.indexOf(line) ?? 0) >= after;

  it(
    'a result finished while no bot runs is delivered once when one starts; a Reroll under the first bot’s result is answered by the second',
    SLOW,
    async () => {
      if (worker === undefined) throw new Error('no worker');
      const first = await startBot();
      const delivered = command(ALICE, 500);
      const resultA = await fake.waitForRequest(finalResult(delivered.token), 60_000);

      const before = worker.lines.length;
      const orphan = command(BOB, 501);
      const started = await worker.waitForLine(workerLine('job started', before));
      await crash(first);
      // The job finishes with no bot process alive to hear of it.
      await worker.waitForLine((l) => l.msg === 'job done' && l.job === started.job);
      expect(resultsOf(orphan.token)).toEqual([]);

      const second = await startBot();
      const resultB = await fake.waitForRequest(finalResult(orphan.token), 30_000);
      expect(await isResultOf(world, resultB, 501)).toBe(true);
      expect(customIds(resultB).map((id) => id.split(':')[0])).toEqual(['reroll', 'smaller', 'larger', 'delete']);
      expect(second.logs()).toContain('"msg":"took over a delivery its bot process left"');

      // The first bot's result: its buttons point into the job store in Redis, which the second bot reads.
      const reroll = customIds(resultA).find((id) => id.startsWith('reroll:')) ?? '';
      const click = fake.clickButton({ customId: reroll, message: resultA.response, user: ALICE });
      const rerolled = await fake.waitForRequest(finalResult(click.token), 60_000);
      expect(rerolled.files[0]?.filename).toBe('diffedit.png');

      expect(resultsOf(delivered.token)).toHaveLength(1);
      expect(resultsOf(orphan.token)).toHaveLength(1);
      expect(fake.requests.filter(channelPost())).toEqual([]);
    },
  );

  it(
    'a bot killed while its jobs wait, restarted at once: the new bot shows their places and progress again and delivers each exactly once',
    SLOW,
    async () => {
      if (worker === undefined) throw new Error('no worker');
      // No worker for now: the jobs stay in line while the bots come and go.
      worker.kill('SIGTERM');
      await worker.exited;
      worker = undefined;

      const running = bots.at(-1) ?? (await startBot());
      const [first, second] = [command(ALICE, 600), command(BOB, 601)];
      await fake.waitForRequest(statusEdit(second.token, '#2 in queue'), 10_000);
      await crash(running);
      const crashedAt = fake.requests.length;
      const next = await startBot();
      await waitForLog(next.logs, '"msg":"took over a delivery its bot process left"', 20_000);
      // The placeholders the dead bot left are the new bot's to keep current: places now, progress once they run.
      await fake.waitForRequest((r) => fake.requests.indexOf(r) >= crashedAt && statusEdit(second.token, '#2 in queue')(r), 10_000);

      worker = await startWorker(redis.url, WORKER_ENV);
      for (const [slash, seed] of [
        [first, 600],
        [second, 601],
      ] as const) {
        expect(await isResultOf(world, await fake.waitForRequest(finalResult(slash.token), 60_000), seed)).toBe(true);
        const shown = fake.requests.slice(crashedAt).filter(statusEdit(slash.token, '(step '));
        expect(shown.length, `progress shown for seed ${seed} after the restart`).toBeGreaterThan(0);
      }
      // Another sweep or two of the new bot finds nothing left to deliver twice.
      await until(() => next.logs().split('"msg":"job done"').length === 3, 10_000, 'both job done lines');
      expect(resultsOf(first.token)).toHaveLength(1);
      expect(resultsOf(second.token)).toHaveLength(1);
    },
  );
});

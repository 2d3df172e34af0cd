/**
 * QUEUE_BACKEND=redis end to end: the real bot (discord.js against the fake Discord), a real redis-server of the
 * test's own, and two `npm run worker` processes on the tiny models. Assertions are on what the fake Discord
 * received (status edits, the result PNG) and on what the worker processes logged.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DiffEditBot } from '../../src/bot/bot.js';
import type { FakeDiscord } from '../fake-discord/index.js';
import { HAS_REDIS, startRedis, type RedisServer } from '../queue/redis/redis-server.js';
import { startWorker, type WorkerLine, type WorkerProcess } from '../queue/redis/worker-process.js';
import {
  ALICE,
  BOB,
  MALLORY,
  privateAnswer,
  contentOf,
  finalResult,
  forToken,
  isResultOf,
  recordingLogger,
  sendCommand,
  startBot,
  startWorld,
  until,
  type World,
} from './harness.js';

const UNAVAILABLE = 'The job queue is unavailable right now; try again in a few minutes.';
/** The interaction callback that acknowledges a job (a deferred reply). */
const DEFERRED = 5;
/** Long enough for jobs to be seen waiting and to be killed mid-way; short enough for a quick test. */
const WORKER_ENV = { TEST_ENGINE_DELAY_MS: '1000', WORKER_LOCK_MS: '2000', SHUTDOWN_GRACE_MS: '5000' };

describe.skipIf(!HAS_REDIS)('QUEUE_BACKEND=redis with two worker processes', () => {
  let world: World;
  let fake: FakeDiscord;
  let redis: RedisServer;
  let workers: WorkerProcess[];
  let bot: DiffEditBot;
  let stopped = false;

  beforeAll(async () => {
    [world, redis] = await Promise.all([startWorld(), startRedis()]);
    fake = world.fake;
    workers = await Promise.all([startWorker(redis.url, WORKER_ENV), startWorker(redis.url, WORKER_ENV)]);
    bot = await startBot(fake, { dataDir: world.dataDir, logger: recordingLogger(), config: { queueBackend: 'redis', redisUrl: redis.url } });
  });

  afterAll(async () => {
    if (!stopped) await bot.stop(1000);
    for (const worker of workers) worker.kill('SIGTERM');
    await Promise.all(workers.map((w) => w.exited));
    await redis.stop();
    await world.close();
  });

  const command = (user = ALICE, seed = 7) =>
    sendCommand(fake, 'diffedit', { user, seed, maskSeed: seed, url: world.photoUrl, size: world.photo.length });
  const editsOf = (token: string) => fake.requests.filter((r) => r.method === 'PATCH' && forToken(token)(r) && r.files.length === 0).map(contentOf);
  const resultsOf = (token: string) => fake.requests.filter(finalResult(token));
  const started = (line: WorkerLine) => line.msg === 'job started';

  it('both workers take jobs; users see their place in line, progress, and exactly one result each', async () => {
    const slashes = [ALICE, BOB, ALICE, BOB].map((user, i) => command(user, 100 + i));
    const results = await Promise.all(slashes.map((s) => fake.waitForRequest(finalResult(s.token), 60_000)));
    for (const [i, result] of results.entries()) expect(await isResultOf(world, result, 100 + i)).toBe(true);
    for (const slash of slashes) expect(resultsOf(slash.token)).toHaveLength(1);
    // Two run at once, so the two others waited behind them: at #3 or #4 counting the running jobs.
    expect(slashes.some((s) => editsOf(s.token).some((text) => /^#[34] in queue$/.test(text)))).toBe(true);
    for (const slash of slashes) expect(editsOf(slash.token).some((text) => /\(step \d+\/\d+\)/.test(text))).toBe(true);
    for (const worker of workers) expect(worker.lines.filter((l) => l.msg === 'job done').length).toBeGreaterThan(0);
  });

  it('a worker killed with SIGKILL mid-job: the other one finishes it and the user gets exactly one result', async () => {
    const before = workers.map((w) => w.lines.length);
    const slash = command(BOB, 200);
    let victim = -1;
    await until(() => (victim = workers.findIndex((w, i) => w.lines.slice(before[i]).some(started))) !== -1, 20_000, 'a worker to take the job');
    const [killed, survivor] = victim === 0 ? [workers[0], workers[1]] : [workers[1], workers[0]];
    if (killed === undefined || survivor === undefined) throw new Error('two workers expected');
    const jobId = killed.lines.slice(before[victim]).find(started)?.job;
    killed.kill('SIGKILL');
    expect(await killed.exited).toBeNull();

    const result = await fake.waitForRequest(finalResult(slash.token), 60_000);
    expect(await isResultOf(world, result, 200)).toBe(true);
    await survivor.waitForLine((l) => l.msg === 'job done' && l.job === jobId);
    expect(survivor.lines.some((l) => started(l) && l.job === jobId)).toBe(true);
    expect(resultsOf(slash.token)).toHaveLength(1);
    // The dead worker's place is taken by a fresh one, for the tests after this one and for afterAll.
    workers[victim] = await startWorker(redis.url, WORKER_ENV);
  });

  it('Redis goes away: users are refused clearly and privately, nothing crashes, and jobs run again once it is back', async () => {
    await redis.stop();
    const refused = command(ALICE, 300);
    const answer = await fake.waitForRequest(privateAnswer(refused.token), 10_000);
    expect(contentOf(answer)).toBe(UNAVAILABLE);
    expect(fake.requests.filter(finalResult(refused.token))).toEqual([]);

    // Back on the same port: clients reconnect with a backoff of at most 2 s; until then users are refused the same way.
    redis = await startRedis(redis.port);
    const deadline = Date.now() + 10_000;
    let slash = command(ALICE, 301);
    for (;;) {
      const first = await fake.waitForRequest((r) => forToken(slash.token)(r) && r.path.includes('/callback'), 5000);
      if ((first.json as { type?: number }).type === DEFERRED) break;
      expect(contentOf(first)).toBe(UNAVAILABLE);
      if (Date.now() > deadline) throw new Error('the bot never took jobs again');
      slash = command(ALICE, 301);
    }
    expect(await isResultOf(world, await fake.waitForRequest(finalResult(slash.token), 60_000), 301)).toBe(true);
    for (const worker of workers) expect(() => process.kill(worker.pid, 0)).not.toThrow();
  });

  it('bot shutdown: a user still waiting is told privately; the running jobs are delivered', async () => {
    const before = workers.map((w) => w.lines.length);
    const running = [command(ALICE, 400), command(BOB, 401)];
    await until(() => workers.every((w, i) => w.lines.slice(before[i]).some(started)), 20_000, 'both workers busy');
    const waiting = command(MALLORY, 402);
    await fake.waitForRequest((r) => forToken(waiting.token)(r) && /^#3 in queue$/.test(contentOf(r)), 10_000);

    stopped = true;
    await bot.stop(20_000);
    expect(contentOf(await fake.waitForRequest(privateAnswer(waiting.token), 1000))).toBe(
      'The bot is restarting; your job was cancelled. Try again in a minute.',
    );
    for (const [i, slash] of running.entries())
      expect(await isResultOf(world, await fake.waitForRequest(finalResult(slash.token), 1000), 400 + i)).toBe(true);
    expect(fake.requests.filter(finalResult(waiting.token))).toEqual([]);
  });
});

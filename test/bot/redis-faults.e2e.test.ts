/**
 * QUEUE_BACKEND=redis keeps the promise through the faults an operator meets, end to end: real `npm start` bot
 * processes, real `npm run worker` processes on the tiny models, a real redis-server (killed and restarted empty),
 * workers frozen with SIGSTOP, the fake Discord. Checked on what the fake received: each user ends holding the
 * result or a private message saying why not, within a bound (asserted from the fake's arrival times), and nothing
 * public is left behind.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { FakeDiscord, RecordedRequest } from '../fake-discord/index.js';
import { freePort, HAS_REDIS, restartEmpty, startRedis, type RedisServer } from '../queue/redis/redis-server.js';
import { startWorker, type WorkerLine, type WorkerProcess } from '../queue/redis/worker-process.js';
import { startRedisBotProcess, type BotProcess } from './bot-process.js';
import {
  ALICE,
  BOB,
  channelPost,
  contentOf,
  customIds,
  finalResult,
  forToken,
  isResultOf,
  MALLORY,
  privateAnswer,
  sendCommand,
  startWorld,
  statusEdit,
  type World,
} from './harness.js';

/** Workers whose jobs last a few seconds (so they can be frozen mid-way) and whose locks lapse after 2 s. */
const WORKER_ENV = { TEST_ENGINE_DELAY_MS: '3000', WORKER_LOCK_MS: '2000', SHUTDOWN_GRACE_MS: '5000' };
/** Each test starts bot and worker processes (node, tsx, discord.js, the engine): slow on busy cores. */
const SLOW = { timeout: 240_000 };
/** The bot checks its jobs on the position poll: PROGRESS_INTERVAL_MS 150 makes it 250 ms (its floor). */
const POLL_MS = 250;
/** What a loaded CI machine adds to any bound: a bot process reading Redis, then a REST call to the fake. */
const SLACK_MS = 3000;

describe.skipIf(!HAS_REDIS)('QUEUE_BACKEND=redis: faults, end to end', () => {
  let world: World;
  let fake: FakeDiscord;
  let redis: RedisServer;
  let cwd: string;
  let bots: BotProcess[] = [];
  let workers: WorkerProcess[] = [];

  beforeAll(async () => {
    [world, redis, cwd] = await Promise.all([startWorld(), startRedis(), mkdtemp(path.join(os.tmpdir(), 'diffedit-faults-'))]);
    fake = world.fake;
  });

  // Each test starts from an empty Redis with no bot and no worker.
  afterEach(async () => {
    for (const worker of workers) {
      worker.kill('SIGCONT');
      worker.kill('SIGKILL');
    }
    for (const bot of bots) bot.child.kill('SIGKILL');
    await Promise.all([...workers.map((w) => w.exited), ...bots.map((b) => b.exited)]);
    [bots, workers] = [[], []];
    redis = await restartEmpty(redis);
  });

  afterAll(async () => {
    await redis.stop();
    await world.close();
    await rm(cwd, { recursive: true, force: true });
  });

  async function startBot(env: Record<string, string> = {}): Promise<BotProcess> {
    const bot = await startRedisBotProcess(fake, redis.url, cwd, env);
    bots.push(bot);
    return bot;
  }

  async function startWorkers(count: number): Promise<WorkerProcess[]> {
    const started = await Promise.all(Array.from({ length: count }, () => startWorker(redis.url, WORKER_ENV)));
    workers.push(...started);
    return started;
  }

  async function startOneWorker(): Promise<WorkerProcess> {
    const [worker] = await startWorkers(1);
    if (worker === undefined) throw new Error('no worker');
    return worker;
  }

  const command = (user = ALICE, seed = 7) =>
    sendCommand(fake, 'diffedit', { user, seed, maskSeed: seed, url: world.photoUrl, size: world.photo.length });
  const resultsOf = (token: string) => fake.requests.filter(finalResult(token));
  /** The worker's first `msg` line logged after it had logged `after` lines. */
  const lineAfter = (worker: WorkerProcess, msg: string, after: number) => (line: WorkerLine) =>
    line.msg === msg && worker.lines.indexOf(line) >= after;
  /** The public placeholder removed. */
  const placeholderDeleted = (token: string) => (r: RecordedRequest) => r.method === 'DELETE' && r.path.endsWith(`/${token}/messages/@original`);
  /** The job's public "thinking..." placeholder was posted (the command was accepted). */
  const deferred = (token: string) => (r: RecordedRequest) =>
    forToken(token)(r) && r.path.includes('/callback') && (r.json as { type?: number }).type === 5;

  it(
    'Redis restarted without its data while one job runs and one waits: both users are told privately that it was lost, an older result’s buttons say it is gone, and the next command is served',
    SLOW,
    async () => {
      const worker = await startOneWorker();
      await startBot();
      const earlier = command(ALICE, 800);
      const kept = await fake.waitForRequest(finalResult(earlier.token), 60_000);

      const before = worker.lines.length;
      const running = command(ALICE, 801);
      const started = await worker.waitForLine(lineAfter(worker, 'job started', before));
      const waiting = command(BOB, 802);
      await fake.waitForRequest(statusEdit(waiting.token, '#2 in queue'), 10_000);

      redis = await restartEmpty(redis);
      const back = Date.now();
      for (const lost of [running, waiting]) {
        const told = await fake.waitForRequest(privateAnswer(lost.token), 10_000);
        expect(contentOf(told)).toBe('Your job was lost because the job queue restarted; run the command again.');
        expect(told.at - back).toBeLessThan(POLL_MS + SLACK_MS);
        expect(fake.requests.some(placeholderDeleted(lost.token))).toBe(true);
      }
      // The job store went with Redis: the older result's buttons say so privately.
      const reroll = customIds(kept).find((id) => id.startsWith('reroll:')) ?? '';
      const click = fake.clickButton({ customId: reroll, message: kept.response, user: ALICE });
      expect(contentOf(await fake.waitForRequest(privateAnswer(click.token), 10_000))).toMatch(/no longer kept/);

      // New commands are served at once: the caps and the ledger start empty, the worker reconnected.
      const next = command(MALLORY, 803);
      expect(await isResultOf(world, await fake.waitForRequest(finalResult(next.token), 60_000), 803)).toBe(true);
      // The worker gave up the lost job rather than finishing it for nobody.
      expect(worker.lines.some((l) => l.msg === 'job done' && l.job === started.job)).toBe(false);
      expect([...resultsOf(running.token), ...resultsOf(waiting.token)]).toEqual([]);
      expect(fake.requests.filter(channelPost())).toEqual([]);
    },
  );

  it(
    'no worker alive: new commands are refused at once and privately, /healthz and /metrics say 0 workers, and a job accepted just before its worker died is withdrawn after QUEUE_WAIT_MS',
    SLOW,
    async () => {
      const port = await freePort();
      // No worker for 3 x WORKER_LOCK_MS = 6 s: refused. A job no worker took within 2 s: withdrawn.
      const bot = await startBot({ QUEUE_WAIT_MS: '2000', WORKER_LOCK_MS: '2000', METRICS_PORT: String(port) });
      const loggedIn = Date.now();
      const health = async () => (await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()) as { status: string; workers?: number };
      expect(await health()).toEqual({ status: 'ok', workers: 0 });
      expect(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()).toMatch(/^diffedit_workers 0$/m);

      // The backend opened before the bot logged in: past this, no worker has been seen for 6 s.
      await new Promise((r) => setTimeout(r, Math.max(0, loggedIn + 6500 - Date.now())));
      const refused = command(ALICE, 810);
      const answer = await fake.waitForRequest(forToken(refused.token), 10_000);
      expect(privateAnswer(refused.token)(answer)).toBe(true);
      expect(contentOf(answer)).toBe('No GPU worker is running right now, so the bot cannot take jobs; try again later.');
      expect(fake.requests.filter(deferred(refused.token))).toEqual([]);

      // A worker connects: seen within a heartbeat (2 s), and commands are taken again.
      const worker = await startOneWorker();
      for (const deadline = Date.now() + 10_000; (await health()).workers !== 1; await new Promise((r) => setTimeout(r, 100))) {
        if (Date.now() > deadline) throw new Error(`workers never seen: ${bot.logs()}`);
      }
      expect(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()).toMatch(/^diffedit_workers 1$/m);
      const served = command(ALICE, 811);
      expect(await isResultOf(world, await fake.waitForRequest(finalResult(served.token), 60_000), 811)).toBe(true);

      // The worker crashes; a command right after is accepted (a worker was seen moments ago) but never taken.
      worker.kill('SIGKILL');
      await worker.exited;
      const stranded = command(BOB, 812);
      const accepted = await fake.waitForRequest(deferred(stranded.token), 10_000);
      const told = await fake.waitForRequest(privateAnswer(stranded.token), 20_000);
      expect(contentOf(told)).toBe('No GPU worker took your job within 2 seconds, so it was withdrawn; try again later.');
      expect(told.at - accepted.at).toBeGreaterThanOrEqual(2000);
      expect(told.at - accepted.at).toBeLessThan(2000 + POLL_MS + SLACK_MS);
      expect(fake.requests.some(placeholderDeleted(stranded.token))).toBe(true);
      expect(resultsOf(stranded.token)).toEqual([]);
    },
  );

  it(
    'a worker frozen mid-job (SIGSTOP): the other worker takes the job once the lock lapses and the user gets exactly one result; thawed, the frozen one stops computing it and takes new work',
    SLOW,
    async () => {
      const pair = await startWorkers(2);
      await startBot();
      const slash = command(ALICE, 820);
      const frozen = await firstToStart(pair);
      const other = pair.find((w) => w !== frozen);
      if (other === undefined) throw new Error('no other worker');
      const started = frozen.lines.find((l) => l.msg === 'job started');
      frozen.kill('SIGSTOP');
      const frozenAt = Date.now();

      const result = await fake.waitForRequest(finalResult(slash.token), 60_000);
      expect(await isResultOf(world, result, 820)).toBe(true);
      expect(other.lines.some((l) => l.msg === 'job done' && l.job === started?.job)).toBe(true);
      // The lock (2 s) lapses, the other worker's stall check (every 2 s) takes the job, runs it (3 s and the edit).
      expect(result.at - frozenAt).toBeLessThan(2000 + 2000 + 3000 + SLACK_MS + 5000);

      frozen.kill('SIGCONT');
      await frozen.waitForLine((l) => l.msg === "lost the job's lock to another worker: stopped computing it" && l.job === started?.job);
      expect(frozen.lines.some((l) => l.msg === 'job done' && l.job === started?.job)).toBe(false);

      // It takes new work: with the other worker gone, the next job is the thawed one's.
      other.kill('SIGTERM');
      await other.exited;
      const before = frozen.lines.length;
      const next = command(BOB, 821);
      expect(await isResultOf(world, await fake.waitForRequest(finalResult(next.token), 60_000), 821)).toBe(true);
      expect(frozen.lines.slice(before).some((l) => l.msg === 'job done')).toBe(true);
      expect(resultsOf(slash.token)).toHaveLength(1);
      expect(fake.requests.filter(channelPost())).toEqual([]);
    },
  );

  it(
    'the only worker frozen mid-job: the user is told privately once QUEUE_WAIT_MS + JOB_TIMEOUT_MS have passed, and hears nothing more when it thaws',
    SLOW,
    async () => {
      const worker = await startOneWorker();
      await startBot({ QUEUE_WAIT_MS: '2000', JOB_TIMEOUT_MS: '3000' });
      const slash = command(ALICE, 830);
      const accepted = await fake.waitForRequest(deferred(slash.token), 10_000);
      const started = await worker.waitForLine((l) => l.msg === 'job started');
      worker.kill('SIGSTOP');

      const told = await fake.waitForRequest(privateAnswer(slash.token), 30_000);
      expect(contentOf(told)).toBe('Your job took longer than 5 seconds and was stopped. Try again, perhaps with fewer steps.');
      // Counted from when the job was queued, a moment after the placeholder.
      expect(told.at - accepted.at).toBeGreaterThanOrEqual(5000);
      expect(told.at - accepted.at).toBeLessThan(5000 + POLL_MS + SLACK_MS);
      expect(fake.requests.some(placeholderDeleted(slash.token))).toBe(true);

      worker.kill('SIGCONT');
      await worker.waitForLine((l) => l.msg === "lost the job's lock to another worker: stopped computing it" && l.job === started.job);
      // Whatever the worker does next, nothing more reaches the user: the bot withdrew the job when it gave up.
      await new Promise((r) => setTimeout(r, 5000));
      expect(worker.lines.filter((l) => l.msg === 'job started')).toHaveLength(1);
      expect(fake.requests.filter(forToken(slash.token)).filter((r) => r.at > told.at && r.method !== 'DELETE')).toEqual([]);
    },
  );
});

/** The worker that logs "job started" first. */
async function firstToStart(workers: WorkerProcess[]): Promise<WorkerProcess> {
  for (const deadline = Date.now() + 30_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 20))) {
    const worker = workers.find((w) => w.lines.some((l) => l.msg === 'job started'));
    if (worker !== undefined) return worker;
  }
  throw new Error('no worker started the job');
}

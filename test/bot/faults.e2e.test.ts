/**
 * "Every accepted job ends with the user holding the result, or a clear private message saying why not", under the
 * faults real Discord produces: the real bot and discord.js against the fake Discord, which injects each fault;
 * the real engine on tiny models. Each test names the item of issue #8 it reproduces.
 */
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { EditRunner } from '../../src/bot/job-lifecycle.js';
import { decodeUndelivered } from '../../src/bot/undelivered-result.js';
import type { DiffEditEngine } from '../../src/engine/engine.js';
import { type FakeDiscord, Permission, type RecordedRequest } from '../fake-discord/index.js';
import {
  ALICE,
  BOB,
  MALLORY,
  channelPost,
  contentOf,
  customIds,
  finalResult,
  forToken,
  paced,
  privateAnswer,
  recordingLogger,
  sendCommand,
  startBot,
  tempDataDir,
  until,
  type CommandSpec,
  startWorld,
  type World,
} from './harness.js';

let world: World;
let fake: FakeDiscord;
let engine: DiffEditEngine;
let photo: Buffer;
let photoUrl: string;
const cleanup: (() => Promise<void>)[] = [];

beforeAll(async () => {
  world = await startWorld();
  ({ fake, engine, photo, photoUrl } = world);
});

afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

afterAll(async () => {
  await world.close();
});

/** A bot of its own for one test, stopped after it. */
async function bot(options: { runner?: EditRunner; config?: Parameters<typeof startBot>[1]['config'] } = {}) {
  const dataDir = await tempDataDir();
  const logger = recordingLogger();
  const started = await startBot(fake, {
    engine: options.runner ?? paced(engine, 150),
    dataDir,
    logger,
    ...(options.config ? { config: options.config } : {}),
  });
  cleanup.push(async () => {
    await started.stop(500);
    await rm(dataDir, { recursive: true, force: true });
  });
  return { bot: started, logger, dataDir };
}

function command(name: 'diffedit' | 'mask', spec: Partial<CommandSpec> = {}) {
  return sendCommand(fake, name, { url: photoUrl, size: photo.length, ...spec });
}

const dmPost = (userId: string) => (r: RecordedRequest) =>
  r.method === 'POST' && r.path === `/channels/${fake.dmChannelId(userId) ?? 'none'}/messages` && r.status < 300;

/** Waits for the job's first status edit (the placeholder exists and the bot knows its id). */
const firstStatus = (token: string) => fake.waitForRequest((r) => forToken(token)(r) && r.method === 'PATCH' && r.status === 200, 5000);

/** Closes every route to Alice (channel, DMs, token) under a /mask job with mask seed 31; resolves with the kept job's id. */
async function leaveUndelivered(logger: ReturnType<typeof recordingLogger>): Promise<string> {
  fake.setChannelAccess(fake.defaultChannelId, 'no-access');
  fake.closeDirectMessages(ALICE.id);
  cleanup.push(async () => (fake.setChannelAccess(fake.defaultChannelId, 'full'), fake.openDirectMessages(ALICE.id)));
  const slash = command('mask', { maskSeed: 31 });
  await firstStatus(slash.token);
  fake.expireInteractionTokens();
  await until(() => logger.lines.some((l) => l.msg.includes('result kept as undelivered')), 10_000, 'the undelivered log line');
  return String(logger.lines.find((l) => l.msg.includes('result kept as undelivered'))?.fields['job']);
}

/** Alice's post in the channel of the job's result (its buttons name the job). */
const latePost = (jobId: string) => (r: RecordedRequest) => channelPost(`<@${ALICE.id}>`)(r) && customIds(r).includes(`reroll:${jobId}`);

/** Discord lets the bot in again; a new process on the same DATA_DIR posts what it kept of the job. */
async function startAgainWithAccess(dataDir: string, jobId: string) {
  fake.setChannelAccess(fake.defaultChannelId, 'full');
  fake.openDirectMessages(ALICE.id);
  const logger = recordingLogger();
  const second = await startBot(fake, { engine, dataDir, logger });
  cleanup.push(() => second.stop(500));
  const post = await fake.waitForRequest(latePost(jobId), 10_000);
  await until(() => logger.lines.some((l) => l.msg === 'undelivered result delivered at last'), 5000, 'the delivered line');
  return post;
}

describe('delivery ladder', () => {
  it('#1 token expired and the channel forbidden (403 50013): the result arrives by DM', async () => {
    const { logger } = await bot();
    fake.setChannelAccess(fake.defaultChannelId, 'no-send');
    cleanup.push(async () => fake.setChannelAccess(fake.defaultChannelId, 'full'));
    const slash = command('mask', { user: BOB });
    await firstStatus(slash.token);
    fake.expireInteractionTokens();
    const dm = await fake.waitForRequest(dmPost(BOB.id), 10_000);
    expect(dm.files[0]?.filename).toBe('mask.png');
    expect(contentOf(dm)).toMatch(/mask covers \d+%/);
    expect(contentOf(dm)).toMatch(/could not post this in/);
    expect(customIds(dm)[0]).toMatch(/^reroll:/);
    const refused = fake.requests.find((r) => channelPost()(r) || (r.method === 'POST' && r.path === `/channels/${fake.defaultChannelId}/messages`));
    expect(refused?.status).toBe(403);
    expect(logger.lines.filter((l) => l.level === 'error')).toEqual([]);
  });

  it('#1 and every route closed (DMs too): the whole result is kept as undelivered and logged at error level with the job id', async () => {
    const { logger, dataDir } = await bot();
    const jobId = await leaveUndelivered(logger);
    const line = logger.lines.find((l) => l.msg.includes('result kept as undelivered'));
    expect(line?.level).toBe('error');
    const kept = (await readdir(`${dataDir}/jobs`)).filter((f) => f.endsWith('.out'));
    expect(kept).toEqual([`${jobId}.out`]);
    const back = decodeUndelivered(await readFile(`${dataDir}/jobs/${jobId}.out`));
    const output = back?.kind === 'output' ? back.output : undefined;
    expect(output?.png.subarray(1, 4).toString()).toBe('PNG');
    expect(output?.photo?.data.subarray(1, 4).toString()).toBe('PNG');
    expect(output?.parameters.maskSeed).toBe(31);
  });

  it('#1 an undelivered result is tried again when the bot next starts: posted in the channel once, whole, with its buttons', async () => {
    const first = await bot();
    const jobId = await leaveUndelivered(first.logger);
    await first.bot.stop(500);

    const post = await startAgainWithAccess(first.dataDir, jobId);
    expect(post.files.map((f) => f.filename)).toEqual(['mask.png', 'mask-full.png']);
    expect(post.files.map((f) => f.data.subarray(1, 4).toString())).toEqual(['PNG', 'PNG']);
    expect(contentOf(post)).toMatch(/mask covers \d+% \| mask seed 31 \|/);
    expect(contentOf(post)).toMatch(/-# Your mask from <t:\d+:R>: I could not deliver it then\./);
    expect(customIds(post)).toEqual([`reroll:${jobId}`, `edit:${jobId}`, `smaller:${jobId}`, `larger:${jobId}`, `delete:${jobId}`]);
    expect((await readdir(`${first.dataDir}/jobs`)).filter((f) => f.endsWith('.out'))).toEqual([]);
    expect(fake.requests.filter(latePost(jobId))).toHaveLength(1);
  });

  it('#1 a bare panel PNG kept by the previous version is still delivered, panel only, with its line and buttons', async () => {
    const first = await bot();
    const jobId = await leaveUndelivered(first.logger);
    await first.bot.stop(500);
    // What the previous version kept: the panel's bytes alone.
    const out = `${first.dataDir}/jobs/${jobId}.out`;
    const back = decodeUndelivered(await readFile(out));
    const panel = back?.kind === 'output' ? back.output.png : Buffer.alloc(0);
    expect(panel.subarray(1, 4).toString()).toBe('PNG');
    await writeFile(out, panel);

    const post = await startAgainWithAccess(first.dataDir, jobId);
    expect(post.files.map((f) => f.filename)).toEqual(['mask.png']);
    expect(post.files[0]?.data.equals(panel)).toBe(true);
    expect(contentOf(post)).toMatch(
      /^<@\d+> \*\*[^*]+\*\* -> \*\*[^*]+\*\* \| seed \d+\n-# Your mask from <t:\d+:R>: I could not deliver it then\.$/,
    );
    expect(customIds(post)).toEqual([`reroll:${jobId}`, `edit:${jobId}`, `smaller:${jobId}`, `larger:${jobId}`, `delete:${jobId}`]);
    expect((await readdir(`${first.dataDir}/jobs`)).filter((f) => f.endsWith('.out'))).toEqual([]);
  });

  it('#1 a kept result that cannot be read is not posted: logged at error level and left for an operator', async () => {
    const first = await bot();
    const jobId = await leaveUndelivered(first.logger);
    await first.bot.stop(500);
    await writeFile(`${first.dataDir}/jobs/${jobId}.out`, '{"truncated');

    const logger = recordingLogger();
    const second = await startBot(fake, { engine, dataDir: first.dataDir, logger });
    cleanup.push(() => second.stop(500));
    await until(() => logger.lines.some((l) => l.msg.includes('cannot be read')), 5000, 'the unreadable line');
    expect(logger.lines.find((l) => l.msg.includes('cannot be read'))?.fields['job']).toBe(jobId);
    expect(fake.requests.some(latePost(jobId))).toBe(false);
    expect(await readdir(`${first.dataDir}/jobs`)).toContain(`${jobId}.out`);
  });

  it('#2 Discord fails the result PATCH with 500 more often than discord.js retries: the result still arrives', async () => {
    await bot();
    const slash = command('mask');
    await firstStatus(slash.token);
    // discord.js makes 4 attempts per call; 6 failures need the bot's own backoff.
    fake.failNext((r) => r.method === 'PATCH' && r.path.includes(slash.token), { status: 500, times: 6 });
    const result = await fake.waitForRequest(finalResult(slash.token), 15_000);
    expect(result.status).toBe(200);
    expect(fake.requests.filter((r) => forToken(slash.token)(r) && r.status === 500).length).toBe(6);
    expect(fake.requests.some((r) => forToken(slash.token)(r) && r.method === 'DELETE')).toBe(false);
  });

  it('#3 token dies mid-job (50027): the result goes to the channel and the stale placeholder is removed', async () => {
    await bot();
    const slash = command('mask');
    const status = await firstStatus(slash.token);
    const placeholderId = (status.response as { id: string }).id;
    fake.expireInteractionTokens();
    const post = await fake.waitForRequest(channelPost(`<@${ALICE.id}>`), 10_000);
    expect(post.files[0]?.filename).toBe('mask.png');
    const removal = await fake.waitForRequest(
      (r) => r.method === 'DELETE' && r.path === `/channels/${fake.defaultChannelId}/messages/${placeholderId}`,
      5000,
    );
    expect([removal.status, removal.auth?.startsWith('Bot ')]).toEqual([204, true]);
    expect(fake.message(placeholderId)).toBeUndefined();
  });

  it('a failure after the token expired is told by DM, never as a public mention', async () => {
    await bot();
    // The 404 comes late enough that the token is surely gone by then.
    const slash = command('diffedit', { user: BOB, url: fake.serveFile('gone.png', Buffer.alloc(0), { status: 404, delayMs: 2000 }) });
    await firstStatus(slash.token);
    fake.expireInteractionTokens();
    const dm = await fake.waitForRequest((r) => dmPost(BOB.id)(r) && /404/.test(contentOf(r)), 10_000);
    expect(dm.files).toEqual([]);
    expect(fake.requests.some((r) => channelPost(`<@${BOB.id}>`)(r))).toBe(false);
  });
});

describe('admission', () => {
  it.each([
    ['a missing option', { omit: 'query' }, /`query` option is missing/],
    ['an option of another type', { imageAsString: true }, /`image` option has the wrong type/],
    ['no resolved attachment data', { omitResolved: true }, /`image` option arrived without its file/],
  ])('#4 a stale client command (%s) gets a private answer within 3 s', async (_name, variant, message) => {
    await bot();
    const sent = Date.now();
    const slash = fake.sendSlashCommand({
      name: 'diffedit',
      user: ALICE,
      options: [
        'imageAsString' in variant ? { name: 'image', type: 'string', value: 'photo.png' } : { name: 'image', type: 'attachment', value: 'photo' },
        { name: 'ref', type: 'string', value: 'a cat' },
        ...('omit' in variant ? [] : [{ name: 'query', type: 'string' as const, value: 'a dog' }]),
      ],
      attachments: { photo: { filename: 'photo.png', url: photoUrl, size: photo.length, contentType: 'image/png', width: 128, height: 128 } },
      ...('omitResolved' in variant ? { omitResolved: true } : {}),
    });
    const reply = await fake.waitForRequest(privateAnswer(slash.token), 3000);
    expect(reply.at - sent).toBeLessThan(3000);
    expect(contentOf(reply)).toMatch(message);
    expect(contentOf(reply)).toMatch(/Reload Discord/);
  });

  it("#6 a slow upload does not hold the engine: the next user's job starts and finishes meanwhile", async () => {
    await bot();
    const slowUrl = fake.serveFile('slow-upload.png', photo, { contentType: 'image/png', delayMs: 2500 });
    const slow = command('mask', { user: ALICE, url: slowUrl });
    await firstStatus(slow.token);
    const quick = command('mask', { user: BOB });
    const quickDone = await fake.waitForRequest(finalResult(quick.token), 10_000);
    const slowDone = await fake.waitForRequest(finalResult(slow.token), 10_000);
    expect(quickDone.at).toBeLessThan(slowDone.at);
    const slowSent = fake.requests.find((r) => forToken(slow.token)(r))?.at ?? 0;
    expect(quickDone.at - slowSent).toBeLessThan(2500);
  });
});

describe('deadlines and shutdown', () => {
  /** An engine whose first job never settles and ignores its signal; later jobs run normally. */
  function hangsOnce(): EditRunner {
    let calls = 0;
    return { run: (request, controls) => (calls++ === 0 ? new Promise(() => undefined) : engine.run(request, controls)) };
  }

  it('#7 a hung job is stopped at JOB_TIMEOUT_MS, its user told privately, and the next job runs', async () => {
    await bot({ runner: hangsOnce(), config: { jobTimeoutMs: 1000 } });
    const hung = command('mask', { user: ALICE });
    await firstStatus(hung.token);
    const next = command('mask', { user: BOB });
    const note = await fake.waitForRequest(privateAnswer(hung.token), 5000);
    expect(contentOf(note)).toMatch(/took longer than/);
    await fake.waitForRequest(finalResult(next.token), 10_000);
  });

  it('#7 shutdown with a task that ignores its signal still ends within the grace period plus the margin', async () => {
    const dataDir = await tempDataDir();
    const started = await startBot(fake, { engine: hangsOnce(), dataDir });
    const hung = command('mask', { user: ALICE });
    await firstStatus(hung.token);
    const before = Date.now();
    await started.stop(500);
    expect(Date.now() - before).toBeLessThan(500 + 5000);
    const note = await fake.waitForRequest(privateAnswer(hung.token), 1000);
    expect(contentOf(note)).toMatch(/restarting/);
    await rm(dataDir, { recursive: true, force: true });
  });
});

describe('buttons', () => {
  it('#9 two moderators pressing Delete at once: both succeed quietly, nothing at error level', async () => {
    const { logger } = await bot();
    const slash = command('mask');
    const done = await fake.waitForRequest(finalResult(slash.token), 10_000);
    const deleteId = customIds(done).at(-1) as string;
    const mods = ['100000000000000011', '100000000000000012'].map((id) => ({
      id,
      username: `mod${id.slice(-1)}`,
      permissions: Permission.ManageMessages,
    }));
    const clicks = mods.map((user) => fake.clickButton({ customId: deleteId, message: done.response, user }));
    // One deletes; the other finds it gone, at its acknowledgement (10008) or at its delete (10008), and is told
    // "Already deleted." at most: no error, no reference.
    const deleted = (token: string) => (r: RecordedRequest) => forToken(token)(r) && r.method === 'DELETE' && r.status === 204;
    const quiet = (token: string) => (r: RecordedRequest) => deleted(token)(r) || (forToken(token)(r) && r.status === 404);
    await Promise.all(clicks.map((c) => fake.waitForRequest(quiet(c.token), 5000)));
    expect(clicks.filter((c) => fake.requests.some(deleted(c.token)))).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 300));
    const answers = clicks.flatMap((c) => fake.requests.filter(privateAnswer(c.token))).map(contentOf);
    expect(answers.every((text) => text === 'Already deleted.')).toBe(true);
    expect(fake.message((done.response as { id: string }).id)).toBeUndefined();
    expect(logger.lines.filter((l) => l.level === 'error')).toEqual([]);
  });

  it("#10 a Reroll pressed by someone else is theirs, and the photo's owner may still delete it", async () => {
    await bot();
    const slash = command('mask', { user: ALICE });
    const original = await fake.waitForRequest(finalResult(slash.token), 10_000);
    const reroll = fake.clickButton({ customId: customIds(original)[0] as string, message: original.response, user: BOB });
    const rerolled = await fake.waitForRequest(finalResult(reroll.token), 10_000);
    const deleteId = customIds(rerolled).at(-1) as string;
    // A stranger may not; the photo's owner (who did not press Reroll) may.
    const stranger = fake.clickButton({ customId: deleteId, message: rerolled.response, user: MALLORY });
    expect(contentOf(await fake.waitForRequest(privateAnswer(stranger.token), 3000))).toMatch(/owner of its photo/);
    const owner = fake.clickButton({ customId: deleteId, message: rerolled.response, user: ALICE });
    const removed = await fake.waitForRequest((r) => forToken(owner.token)(r) && r.method === 'DELETE', 5000);
    expect(removed.status).toBe(204);
  });
});

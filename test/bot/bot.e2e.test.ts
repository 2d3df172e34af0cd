/**
 * The bot end to end: the real discord.js client logged into a fake Discord on 127.0.0.1, the real engine on
 * tiny generated models, attachments served by the fake. Assertions are on what the bot sent.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DiffEditBot } from '../../src/bot/bot.js';
import type { EditRunner } from '../../src/bot/job-lifecycle.js';
import type { DiffEditEngine } from '../../src/engine/engine.js';
import { type FakeDiscord, Permission, type RecordedRequest } from '../fake-discord/index.js';
import {
  ALICE,
  BOB,
  MALLORY,
  contentOf,
  customIds,
  finalResult,
  forToken,
  maskSeedOf,
  paced,
  panelPixels,
  privateAnswer,
  seedOf,
  sendCommand,
  startBot as startTestBot,
  type CommandSpec,
  startWorld,
  type World,
} from './harness.js';

const PANEL_WIDTH = 3 * 128 + 2 * 8;

let world: World;
let fake: FakeDiscord;
let engine: DiffEditEngine;
let bot: DiffEditBot;
let dataDir: string;
let photo: Buffer;
let photoUrl: string;

function startBot(runner: EditRunner = paced(engine, 250)): Promise<DiffEditBot> {
  return startTestBot(fake, { engine: runner, dataDir });
}

function command(name: 'diffedit' | 'mask', options: Partial<CommandSpec> = {}): { id: string; token: string } {
  return sendCommand(fake, name, { url: photoUrl, size: photo.length, ...options });
}

beforeAll(async () => {
  world = await startWorld();
  ({ fake, engine, photo, photoUrl, dataDir } = world);
  bot = await startBot();
});

afterAll(async () => {
  await bot.stop(1000);
  await world.close();
});

describe('/diffedit', () => {
  let result: RecordedRequest;
  let slash: { id: string; token: string };

  beforeAll(async () => {
    slash = command('diffedit', { seed: 42, maskSeed: 8 });
    result = await fake.waitForRequest(finalResult(slash.token), 20_000);
  });

  it('acknowledges with a deferral first', () => {
    const first = fake.requests.find(forToken(slash.token));
    expect(first).toMatchObject({ method: 'POST', status: 200, json: { type: 5 } });
  });

  it('shows progress with a phase and a text bar, edited at most every interval', () => {
    const edits = fake.requests.filter((r) => r.method === 'PATCH' && forToken(slash.token)(r) && r.files.length === 0);
    expect(edits.length).toBeGreaterThan(0);
    expect(edits.some((r) => /Re-drawing \(step \d+\/40\) `\[[#-]{20}\]` \d+%/.test(contentOf(r)) || /Starting/.test(contentOf(r)))).toBe(true);
    // The throttle's spacing is exact in its unit test; here network jitter shifts arrival times, so count
    // instead: no more edits than one per interval over the job's life (plus the first).
    const span = result.at - (edits[0] as RecordedRequest).at;
    expect(edits.length).toBeLessThanOrEqual(Math.floor(span / 150) + 2);
  });

  it('replies with one three-panel PNG at model size, the prompts, both seeds and steps, and buttons', async () => {
    const file = result.files[0];
    expect(file?.filename).toBe('diffedit.png');
    const meta = await sharp(file?.data).metadata();
    expect([meta.format, meta.width]).toEqual(['png', PANEL_WIDTH]);
    expect(meta.height).toBeGreaterThanOrEqual(128);
    expect(contentOf(result)).toMatch(
      /\*\*a bowl of strawberries\*\* -> \*\*a bowl of grapes\*\* \| seed 42 \| mask seed 8 \| 50 steps \| \d+\.\d s/,
    );
    expect(customIds(result).map((id) => id.split(':')[0])).toEqual(['reroll', 'smaller', 'larger', 'delete']);
  });

  it('Reroll keeps the mask (same mask seed, identical mask panel) and re-draws the inside with a new edit seed', async () => {
    const click = fake.clickButton({ customId: customIds(result)[0] as string, message: result.response, user: ALICE });
    const rerolled = await fake.waitForRequest(finalResult(click.token), 20_000);
    expect(fake.requests.find(forToken(click.token))?.json).toMatchObject({ type: 5 });
    expect(seedOf(rerolled)).not.toBe(42);
    expect(maskSeedOf(rerolled)).toBe(8);
    const [maskBefore, maskAfter, outputBefore, outputAfter] = await Promise.all([
      panelPixels(result, 1),
      panelPixels(rerolled, 1),
      panelPixels(result, 2),
      panelPixels(rerolled, 2),
    ]);
    expect(maskAfter.equals(maskBefore)).toBe(true);
    expect(outputAfter.equals(outputBefore)).toBe(false);
  });

  it('Delete by a stranger is refused privately; by the author it deletes the message', async () => {
    const deleteId = customIds(result).at(-1) as string;
    const stranger = fake.clickButton({ customId: deleteId, message: result.response, user: MALLORY });
    const refusal = await fake.waitForRequest((r) => forToken(stranger.token)(r) && r.method === 'POST');
    expect(refusal.json).toMatchObject({ type: 4, data: { flags: 64 } });
    expect(JSON.stringify(refusal.json)).toMatch(/Only the person who asked/);
    const author = fake.clickButton({ customId: deleteId, message: result.response, user: ALICE });
    await fake.waitForRequest((r) => forToken(author.token)(r) && r.method === 'DELETE', 5000);
    expect(fake.requests.some((r) => forToken(stranger.token)(r) && r.method === 'DELETE')).toBe(false);
  });

  it("a moderator (Manage Messages) may delete someone else's result", async () => {
    const slash2 = command('mask', { maskSeed: 5 });
    const done = await fake.waitForRequest(finalResult(slash2.token), 20_000);
    const moderator = { id: '100000000000000009', username: 'mod', permissions: Permission.ManageMessages };
    const click = fake.clickButton({ customId: customIds(done).at(-1) as string, message: done.response, user: moderator });
    await fake.waitForRequest((r) => forToken(click.token)(r) && r.method === 'DELETE', 5000);
  });
});

describe('/mask and "Edit with this mask"', () => {
  let mask: RecordedRequest;

  beforeAll(async () => {
    mask = await fake.waitForRequest(finalResult(command('mask', { maskSeed: 7 }).token), 20_000);
  });

  it('shows only the mask, then the full edit with exactly that mask', async () => {
    const meta = await sharp(mask.files[0]?.data).metadata();
    expect(meta.width).toBe(128);
    expect(contentOf(mask)).toMatch(/mask covers \d+% \| mask seed 7 \|/);
    expect(customIds(mask).map((id) => id.split(':')[0])).toEqual(['reroll', 'edit', 'smaller', 'larger', 'delete']);

    const click = fake.clickButton({ customId: customIds(mask)[1] as string, message: mask.response, user: ALICE });
    const edit = await fake.waitForRequest(finalResult(click.token), 20_000);
    expect(maskSeedOf(edit)).toBe(7);
    expect((await sharp(edit.files[0]?.data).metadata()).width).toBe(PANEL_WIDTH);
    expect((await panelPixels(edit, 1)).equals(await panelPixels(mask, 0))).toBe(true);
  });

  it('"Edit with this mask" uses the mask stored with the job, not a recomputed one', async () => {
    // Replace the stored mask by an empty one: an edit that used it says so and changes nothing.
    const jobId = (customIds(mask)[1] as string).split(':')[1] as string;
    const file = path.join(dataDir, 'jobs', `${jobId}.json`);
    const job = JSON.parse(await readFile(file, 'utf8')) as { latentMask: { width: number; height: number; bits: string } };
    const { width, height } = job.latentMask;
    expect(width * height).toBe(16 * 16);
    job.latentMask.bits = Buffer.alloc((width * height) / 8).toString('base64');
    await writeFile(file, JSON.stringify(job));

    const click = fake.clickButton({ customId: customIds(mask)[1] as string, message: mask.response, user: ALICE });
    const edit = await fake.waitForRequest(finalResult(click.token), 20_000);
    expect(contentOf(edit)).toMatch(/mask is empty/);
  });

  it('Reroll of a mask draws a new mask seed', async () => {
    const click = fake.clickButton({ customId: customIds(mask)[0] as string, message: mask.response, user: ALICE });
    const rerolled = await fake.waitForRequest(finalResult(click.token), 20_000);
    expect(maskSeedOf(rerolled)).not.toBe(7);
  });
});

describe('queue', () => {
  it('two users at once see positions 1 and 2, and both finish', async () => {
    const a = command('diffedit', { user: ALICE });
    const b = command('diffedit', { user: BOB });
    const [doneA, doneB] = await Promise.all([fake.waitForRequest(finalResult(a.token), 20_000), fake.waitForRequest(finalResult(b.token), 20_000)]);
    expect(doneA.files).toHaveLength(2);
    expect(doneB.files).toHaveLength(2);
    const bStatuses = fake.requests.filter((r) => forToken(b.token)(r) && r.method === 'PATCH').map(contentOf);
    expect(bStatuses).toContain('#2 in queue');
    const aStatuses = fake.requests.filter((r) => forToken(a.token)(r) && r.method === 'PATCH').map(contentOf);
    expect(aStatuses.some((s) => /in queue/.test(s))).toBe(false);
  });

  it('a third waiting job of one user is refused privately, downloading jobs included, while others are served', async () => {
    // A slow upload keeps the first two downloading: they count against the cap as much as queued ones.
    const slowUrl = fake.serveFile('slow.png', photo, { contentType: 'image/png', delayMs: 600 });
    const jobs = [0, 1, 2, 3].map(() => command('diffedit', { user: BOB, url: slowUrl }));
    for (const refused of jobs.slice(2)) {
      const reply = await fake.waitForRequest(privateAnswer(refused.token), 3000);
      expect(reply.json).toMatchObject({ type: 4, data: { flags: 64 } });
      expect(contentOf(reply)).toMatch(/already have 2 jobs waiting/);
    }
    await Promise.all(jobs.slice(0, 2).map((j) => fake.waitForRequest(finalResult(j.token), 30_000)));
  });
});

describe('bad input gets a short private message and the bot keeps serving', () => {
  it.each([
    [
      'a text file',
      () => command('diffedit', { url: fake.serveFile('notes.txt', Buffer.from('hello'), { contentType: 'text/plain' }), contentType: 'text/plain' }),
      /JPEG, PNG|picture/i,
    ],
    ['an oversize file', () => command('diffedit', { size: 11 * 1024 * 1024 }), /MiB/],
    ['a non-Discord host', () => command('diffedit', { url: 'https://evil.example.com/photo.png' }), /Only pictures uploaded to Discord/],
  ])('%s is refused before any download', async (_name, send, message) => {
    const slash = send();
    const reply = await fake.waitForRequest((r) => forToken(slash.token)(r) && r.method === 'POST', 5000);
    expect(reply.json).toMatchObject({ type: 4, data: { flags: 64 } });
    expect(JSON.stringify(reply.json)).toMatch(message);
    expect(JSON.stringify(reply.json)).not.toMatch(/\s+at\s.+:\d+:\d+/);
  });

  it.each([
    ['a 404 URL', () => fake.serveFile('gone.png', Buffer.alloc(0), { status: 404 }), /404/],
    [
      'bytes that are not a picture',
      () => fake.serveFile('fake.png', Buffer.from('not really a png'), { contentType: 'image/png' }),
      /JPEG, PNG or WebP/,
    ],
  ])('%s: the public placeholder is removed and the user told privately', async (_name, serve, message) => {
    const slash = command('diffedit', { url: serve() });
    const followUp = await fake.waitForRequest((r) => forToken(slash.token)(r) && r.method === 'POST' && r.path.includes('/webhooks/'), 10_000);
    expect(followUp.json).toMatchObject({ flags: 64 });
    expect(contentOf(followUp)).toMatch(message);
    expect(fake.requests.some((r) => forToken(slash.token)(r) && r.method === 'DELETE')).toBe(true);
  });

  it.each([
    ['a blank prompt', { ref: '   ' }, /ref prompt is empty/],
    ['identical prompts', { ref: 'A bowl', query: 'a  bowl' }, /same text/],
    ['an out-of-range seed', { seed: -5 }, /seed must be a whole number/],
  ])('%s is refused privately before anything public is posted', async (_name, spec, message) => {
    const slash = command('diffedit', spec);
    const reply = await fake.waitForRequest(privateAnswer(slash.token), 3000);
    expect(reply.json).toMatchObject({ type: 4, data: { flags: 64 } });
    expect(contentOf(reply)).toMatch(message);
    await new Promise((r) => setTimeout(r, 100));
    expect(fake.requests.filter(forToken(slash.token)).map((r) => r.method)).toEqual(['POST']);
  });

  it('still serves a good request afterwards', async () => {
    const slash = command('mask');
    const done = await fake.waitForRequest(finalResult(slash.token), 20_000);
    expect(done.files).toHaveLength(2);
  });
});

describe('expired interaction tokens', () => {
  it('a job that finishes after the token expired is posted in the channel, mentioning the user', async () => {
    const blocker = command('diffedit', { user: ALICE });
    const late = command('mask', { user: BOB });
    await fake.waitForRequest((r) => forToken(late.token)(r) && r.method === 'POST', 5000); // deferred
    fake.expireInteractionTokens();
    const post = await fake.waitForRequest(
      (r) => r.method === 'POST' && /^\/channels\/\d+\/messages$/.test(r.path) && contentOf(r).startsWith(`<@${BOB.id}>`),
      20_000,
    );
    expect(post.auth).toMatch(/^Bot /);
    expect(post.files[0]?.filename).toBe('mask.png');
    expect(customIds(post)[0]).toMatch(/^reroll:/);
    await fake.waitForRequest(
      (r) => r.method === 'POST' && /^\/channels\/\d+\/messages$/.test(r.path) && contentOf(r).startsWith(`<@${ALICE.id}>`),
      20_000,
    );
    expect(blocker.token).toBeTruthy();
  });
});

describe('restart', () => {
  let before: RecordedRequest;

  it('Reroll on a message from before the restart still works', async () => {
    const slash = command('diffedit', { seed: 9 });
    before = await fake.waitForRequest(finalResult(slash.token), 20_000);
    await bot.stop(1000);
    bot = await startBot();
    const click = fake.clickButton({ customId: customIds(before)[0] as string, message: before.response, user: BOB });
    const after = await fake.waitForRequest(finalResult(click.token), 20_000);
    expect(seedOf(after)).not.toBe(9);
    expect(maskSeedOf(after)).toBe(maskSeedOf(before));
    expect((await sharp(after.files[0]?.data).metadata()).width).toBe(PANEL_WIDTH);
  });

  it('Reroll of a job stored before the seeds were split (one seed) keeps that seed as its mask seed', async () => {
    const slash = command('diffedit', { seed: 11, maskSeed: 11 });
    const old = await fake.waitForRequest(finalResult(slash.token), 20_000);
    const jobId = (customIds(old)[0] as string).split(':')[1] as string;
    const file = path.join(dataDir, 'jobs', `${jobId}.json`);
    const job = JSON.parse(await readFile(file, 'utf8')) as { parameters: Record<string, unknown> };
    delete job.parameters['maskSeed'];
    await writeFile(file, JSON.stringify(job));

    const click = fake.clickButton({ customId: customIds(old)[0] as string, message: old.response, user: ALICE });
    const after = await fake.waitForRequest(finalResult(click.token), 20_000);
    expect(maskSeedOf(after)).toBe(11);
    expect(seedOf(after)).not.toBe(11);
    expect((await panelPixels(after, 1)).equals(await panelPixels(old, 1))).toBe(true);
  });

  it('a button whose job is gone says so clearly', async () => {
    // The store evicted the job (LRU cap): its files are gone.
    const rerollId = customIds(before)[0] as string;
    const jobId = rerollId.split(':')[1] as string;
    await Promise.all(['json', 'img'].map((ext) => rm(path.join(dataDir, 'jobs', `${jobId}.${ext}`), { force: true })));
    const click = fake.clickButton({ customId: rerollId, message: before.response, user: ALICE });
    const reply = await fake.waitForRequest((r) => forToken(click.token)(r) && r.method === 'POST', 5000);
    expect(reply.json).toMatchObject({ type: 4, data: { flags: 64 } });
    expect(JSON.stringify(reply.json)).toMatch(/too old/);
  });
});

describe('shutdown (SIGINT/SIGTERM path)', () => {
  it('lets the running job finish, cancels waiting ones with a private note, then logs out', async () => {
    await bot.stop(1000);
    // The real engine, slowed down so that the second job is certainly still waiting when stop() comes.
    const slow = { run: async (...args: Parameters<DiffEditEngine['run']>) => (await new Promise((r) => setTimeout(r, 400)), engine.run(...args)) };
    const slowBot = await startBot(slow);
    const running = command('diffedit', { user: ALICE });
    const waiting = command('diffedit', { user: BOB });
    await fake.waitForRequest((r) => forToken(waiting.token)(r) && r.method === 'PATCH' && contentOf(r) === '#2 in queue', 5000);
    await slowBot.stop(10_000);
    expect(fake.requests.some(finalResult(running.token))).toBe(true);
    const note = fake.requests.find((r) => forToken(waiting.token)(r) && r.method === 'POST' && r.path.includes('/webhooks/'));
    expect(note?.json).toMatchObject({ flags: 64 });
    expect(contentOf(note as RecordedRequest)).toMatch(/restarting/);
    expect(fake.requests.some(finalResult(waiting.token))).toBe(false);
    bot = await startBot();
  });
});

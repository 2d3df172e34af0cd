/**
 * Test support for the bot end to end: the real bot (real discord.js client) logged into the fake Discord, users,
 * slash commands with a served photo, predicates over the recorded requests, and a logger that keeps its lines.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { DiffEditBot } from '../../src/bot/bot.js';
import { DEFAULT_ATTACHMENT_HOSTS } from '../../src/bot/attachments.js';
import type { EditRunner } from '../../src/bot/job-lifecycle.js';
import type { BotConfig } from '../../src/config/bot.js';
import type { LogFields, Logger } from '../../src/logger.js';
import type { DiffEditEngine } from '../../src/engine/engine.js';
import { FakeDiscord, type FakeDiscordOptions, type FakeUser, type RecordedRequest } from '../fake-discord/index.js';
import { smoothPhoto, tinyEngine } from '../engine/tiny-engine.js';

export const REF = 'a bowl of strawberries';
export const QUERY = 'a bowl of grapes';
export const ALICE = { id: '100000000000000001', username: 'alice' };
export const BOB = { id: '100000000000000002', username: 'bob' };
export const MALLORY = { id: '100000000000000003', username: 'mallory' };

/** A fresh DATA_DIR. */
export function tempDataDir(): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), 'diffedit-bot-'));
}

/** What a bot test file runs against: the fake Discord, the engine on tiny models, a served photo, a DATA_DIR. */
export interface World {
  readonly fake: FakeDiscord;
  readonly engine: DiffEditEngine;
  readonly photo: Buffer;
  readonly photoUrl: string;
  readonly dataDir: string;
  close(): Promise<void>;
}

/** Starts a {@link World}; `close` stops the fake and the engine and removes the DATA_DIR. */
export async function startWorld(options: FakeDiscordOptions = {}): Promise<World> {
  const [fake, engine, photo, dataDir] = await Promise.all([FakeDiscord.start(options), tinyEngine(), smoothPhoto(), tempDataDir()]);
  const photoUrl = fake.serveFile('photo.png', photo, { contentType: 'image/png' });
  return {
    fake,
    engine,
    photo,
    photoUrl,
    dataDir,
    close: async () => {
      await fake.close();
      await engine.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Settings for a bot on the fake Discord, fast enough for tests. */
export function testConfig(fake: FakeDiscord, dataDir: string, overrides: Partial<Omit<BotConfig, 'token'>> = {}): BotConfig & { token: string } {
  return {
    token: fake.botToken,
    apiUrl: fake.apiUrl,
    dataDir,
    jobStoreMaxBytes: 64 * 1024 * 1024,
    editCacheMemoryBytes: 16 * 1024 * 1024,
    editCacheDiskBytes: 16 * 1024 * 1024,
    maxUploadBytes: 10 * 1024 * 1024,
    maxInputPixels: 50e6,
    downloadTimeoutMs: 5000,
    downloadConcurrency: 4,
    attachmentHosts: [...DEFAULT_ATTACHMENT_HOSTS, '127.0.0.1'],
    perUserQueueLimit: 2,
    queueLimit: 20,
    progressIntervalMs: 150,
    jobTimeoutMs: 60_000,
    queueWaitMs: 600_000,
    deliveryRetryMs: 10_000,
    shutdownGraceMs: 5000,
    metricsPort: undefined,
    metricsHost: '127.0.0.1',
    queueBackend: 'memory',
    redisUrl: 'redis://127.0.0.1:6379',
    maxInlinePictureBytes: 10 * 1024 * 1024,
    workerLockMs: 30_000,
    ...overrides,
  };
}

/** The engine, each run starting `ms` later: long enough for queue positions to show, as on a real GPU. */
export function paced(engine: EditRunner, ms: number): EditRunner {
  return { run: async (request, controls) => (await new Promise((r) => setTimeout(r, ms)), engine.run(request, controls)) };
}

/** Starts a bot and waits until discord.js is ready. */
export async function startBot(
  fake: FakeDiscord,
  options: { engine?: EditRunner; dataDir: string; config?: Partial<Omit<BotConfig, 'token'>>; logger?: Logger },
): Promise<DiffEditBot> {
  const bot = await DiffEditBot.start({
    config: testConfig(fake, options.dataDir, options.config),
    // QUEUE_BACKEND=redis needs none: the workers have the engines.
    ...(options.engine !== undefined ? { engine: options.engine } : {}),
    logger: options.logger ?? recordingLogger(),
  });
  for (const deadline = Date.now() + 5000; !bot.client.isReady();) {
    if (Date.now() > deadline) throw new Error('bot never became ready');
    await new Promise((r) => setTimeout(r, 10));
  }
  return bot;
}

/** What a slash command carries besides its name. */
export interface CommandSpec {
  user?: FakeUser;
  url: string;
  size: number;
  contentType?: string;
  ref?: string;
  query?: string;
  seed?: number;
  maskSeed?: number;
  createdAtMs?: number;
}

/** Sends /diffedit or /mask with a 128 x 128 PNG attachment. */
export function sendCommand(fake: FakeDiscord, name: 'diffedit' | 'mask', spec: CommandSpec): { id: string; token: string } {
  return fake.sendSlashCommand({
    name,
    user: spec.user ?? ALICE,
    ...(spec.createdAtMs !== undefined ? { createdAtMs: spec.createdAtMs } : {}),
    options: [
      { name: 'image', type: 'attachment', value: 'photo' },
      { name: 'ref', type: 'string', value: spec.ref ?? REF },
      { name: 'query', type: 'string', value: spec.query ?? QUERY },
      ...(spec.seed !== undefined ? [{ name: 'seed', type: 'integer' as const, value: spec.seed }] : []),
      ...(spec.maskSeed !== undefined ? [{ name: 'mask_seed', type: 'integer' as const, value: spec.maskSeed }] : []),
    ],
    attachments: {
      photo: { filename: 'photo.png', url: spec.url, size: spec.size, contentType: spec.contentType ?? 'image/png', width: 128, height: 128 },
    },
  });
}

export const forToken = (token: string) => (r: RecordedRequest) => r.path.includes(`/${token}`);

/** The result edited into the interaction's reply. */
export const finalResult = (token: string) => (r: RecordedRequest) =>
  r.method === 'PATCH' && r.path.endsWith(`/${token}/messages/@original`) && r.files.length > 0 && r.status < 300;

/** An edit of the placeholder's status line (queue position, progress) containing `text`. */
export const statusEdit = (token: string, text: string) => (r: RecordedRequest) =>
  r.method === 'PATCH' && r.path.endsWith(`/${token}/messages/@original`) && r.files.length === 0 && contentOf(r).includes(text);

/** A private answer to the interaction: an ephemeral callback (type 4) or an ephemeral follow-up. */
export const privateAnswer = (token: string) => (r: RecordedRequest) => {
  if (!forToken(token)(r) || r.method !== 'POST') return false;
  const json = r.json as { type?: number; flags?: number; data?: { flags?: number } };
  const ephemeral = (flags: number | undefined) => ((flags ?? 0) & 64) !== 0;
  return r.path.includes('/callback') ? json.type === 4 && ephemeral(json.data?.flags) : ephemeral(json.flags);
};

/** A bot-token post in a channel whose text starts with `prefix`. */
export const channelPost =
  (prefix = '') =>
  (r: RecordedRequest) =>
    r.method === 'POST' && /^\/channels\/\d+\/messages$/.test(r.path) && contentOf(r).startsWith(prefix) && r.status < 300;

export function customIds(request: RecordedRequest): string[] {
  const rows = (request.json as { components?: { components: { custom_id: string }[] }[] }).components ?? [];
  return rows.flatMap((row) => row.components.map((c) => c.custom_id));
}

export function contentOf(request: RecordedRequest): string {
  const json = request.json as { content?: string; data?: { content?: string } } | undefined;
  return json?.content ?? json?.data?.content ?? '';
}

/** The edit seed a result line shows. */
export const seedOf = (request: RecordedRequest): number => Number(/\| seed (\d+)/.exec(contentOf(request))?.[1]);

/** The mask seed a result line shows. */
export const maskSeedOf = (request: RecordedRequest): number => Number(/mask seed (\d+)/.exec(contentOf(request))?.[1]);

/** Raw RGB of one `size` x `size` panel of a result PNG: slot 0 input, 1 mask, 2 output (a /mask result has only 0). */
export async function panelPixels(request: RecordedRequest, slot: number, size = 128, gutter = 8): Promise<Buffer> {
  return sharp(request.files[0]?.data)
    .extract({ left: slot * (size + gutter), top: 0, width: size, height: size })
    .removeAlpha()
    .raw()
    .toBuffer();
}

/** One log line as the recording logger kept it. */
export interface LogLine {
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly msg: string;
  readonly fields: LogFields;
}

/** A logger that keeps every line (debug included) for assertions. */
export function recordingLogger(): Logger & { readonly lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at =
    (level: LogLine['level']) =>
    (msg: string, fields: LogFields = {}) =>
      void lines.push({ level, msg, fields });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/**
 * True when the PNG a user got (a recorded request's first file) is byte for byte the one `world`'s engine makes for
 * the same request, with `seed` as both seeds: a result computed elsewhere (a worker process) is the right one.
 */
export async function isResultOf(world: World, result: RecordedRequest, seed: number): Promise<boolean> {
  const file = result.files[0];
  if (file?.filename !== 'diffedit.png') return false;
  const local = await world.engine.run({ image: world.photo, ref: REF, query: QUERY, seed, maskSeed: seed });
  return Buffer.compare(Buffer.from(file.data), local.png) === 0;
}

/** Resolves once `predicate` holds, polling; rejects after `timeoutMs`. */
export async function until(predicate: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; !predicate();) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

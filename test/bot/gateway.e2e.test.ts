/**
 * Connection trouble is visible in the logs (issue #8, item 12) and the bot keeps serving through it: gateway
 * RECONNECT, a zombie connection, invalidated sessions, and REST rate limits, each injected by the fake Discord.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DiffEditBot } from '../../src/bot/bot.js';
import type { DiffEditEngine } from '../../src/engine/engine.js';
import type { FakeDiscord } from '../fake-discord/index.js';
import { finalResult, recordingLogger, sendCommand, startBot, until, startWorld, type World } from './harness.js';

let world: World;
let fake: FakeDiscord;
let engine: DiffEditEngine;
let bot: DiffEditBot;
let dataDir: string;
let photo: Buffer;
let photoUrl: string;
const logger = recordingLogger();

beforeAll(async () => {
  world = await startWorld({ heartbeatIntervalMs: 250 });
  ({ fake, engine, photo, photoUrl, dataDir } = world);
  bot = await startBot(fake, { engine, dataDir, logger });
});

afterAll(async () => {
  await bot.stop(1000);
  await world.close();
});

/** Log lines since `from`, as "level msg detail". */
const linesSince = (from: number) =>
  logger.lines.slice(from).map((l) => `${l.level} ${l.msg} ${typeof l.fields['detail'] === 'string' ? l.fields['detail'] : ''}`);

async function stillServes(): Promise<void> {
  const slash = sendCommand(fake, 'mask', { url: photoUrl, size: photo.length });
  await fake.waitForRequest(finalResult(slash.token), 15_000);
}

describe('gateway trouble is logged and survived', () => {
  it.each([
    ['op 7 RECONNECT', () => fake.requestGatewayReconnect(), [/^warn gateway reconnecting/, /^info gateway session resumed/, /Told to reconnect/]],
    ['a zombie connection (no heartbeat ACKs)', () => fake.stopHeartbeatAcks(), [/^warn gateway reconnecting/, /Zombie connection/]],
    [
      'op 9 INVALID_SESSION, not resumable',
      () => fake.invalidateSession(false),
      [/Invalid session; will attempt to resume: false/, /^info gateway ready/],
    ],
    [
      'op 9 INVALID_SESSION, resumable',
      () => fake.invalidateSession(true),
      [/Invalid session; will attempt to resume: true/, /^info gateway session resumed/],
    ],
  ])('%s', async (_name, inject, expected) => {
    const from = logger.lines.length;
    inject();
    await until(() => expected.every((pattern) => linesSince(from).some((line) => pattern.test(line))), 10_000, `log lines ${expected.join(', ')}`);
    fake.resumeHeartbeatAcks();
    await stillServes();
  });

  it('a REST rate limit is logged with its route and wait, and the edit still lands', async () => {
    const from = logger.lines.length;
    const slash = sendCommand(fake, 'mask', { url: photoUrl, size: photo.length });
    fake.rateLimitNext((r) => r.method === 'PATCH' && r.path.includes(slash.token), { retryAfterSeconds: 0.3 });
    await fake.waitForRequest(finalResult(slash.token), 15_000);
    const line = logger.lines.slice(from).find((l) => l.msg.startsWith('Discord rate limit'));
    expect(line?.level).toBe('warn');
    expect(line?.fields).toMatchObject({ method: 'PATCH', global: false });
    expect(Number(line?.fields['retryAfterMs'])).toBeGreaterThan(0);
  });
});

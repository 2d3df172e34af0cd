/** METRICS_PORT: /healthz and Prometheus /metrics of a real bot that served a job through the fake Discord. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DiffEditBot } from '../../src/bot/bot.js';
import type { DiffEditEngine } from '../../src/engine/engine.js';
import type { FakeDiscord } from '../fake-discord/index.js';
import { finalResult, privateAnswer, sendCommand, startBot, startWorld, type World } from './harness.js';

let world: World;
let fake: FakeDiscord;
let photoUrl: string;
let engine: DiffEditEngine;
let bot: DiffEditBot;
let dataDir: string;
let base: string;

beforeAll(async () => {
  let photo: Buffer;
  world = await startWorld();
  ({ fake, engine, photo, photoUrl, dataDir } = world);
  bot = await startBot(fake, { engine, dataDir, config: { metricsPort: 0 } });
  base = `http://127.0.0.1:${String(bot.metricsPort)}`;
  const url = photoUrl;
  await fake.waitForRequest(finalResult(sendCommand(fake, 'mask', { url, size: photo.length }).token), 10_000);
  await fake.waitForRequest(privateAnswer(sendCommand(fake, 'mask', { url, size: photo.length, ref: 'same', query: 'same' }).token), 3000);
});

afterAll(async () => {
  await bot.stop(1000);
  await world.close();
});

describe('metrics server', () => {
  it('/healthz is 200 while connected to Discord', async () => {
    const response = await fetch(`${base}/healthz`);
    expect([response.status, await response.json()]).toEqual([200, { status: 'ok' }]);
  });

  it('/metrics counts jobs by outcome, deliveries by route, edit seconds and the queue', async () => {
    const response = await fetch(`${base}/metrics`);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await response.text();
    expect(text).toContain('diffedit_jobs_total{kind="mask",outcome="delivered"} 1');
    expect(text).toContain('diffedit_jobs_total{kind="mask",outcome="refused"} 1');
    expect(text).toContain('diffedit_deliveries_total{route="reply"} 1');
    expect(text).toContain('diffedit_edit_seconds_count{kind="mask"} 1');
    expect(text).toMatch(/^diffedit_queue_waiting 0$/m);
    expect(text).toMatch(/^process_resident_memory_bytes \d+/m);
  });

  it('answers 404 elsewhere', async () => {
    expect((await fetch(`${base}/`)).status).toBe(404);
  });
});

/**
 * An SDXL export end to end through the fake Discord: the real bot, an engine on a tiny SDXL folder in optimum's
 * layout around the real-architecture SDXL UNet (test/fixtures/sd-real-arch-xl), /diffedit, Reroll and /mask.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DiffEditBot } from '../../src/bot/bot.js';
import type { DiffEditEngine } from '../../src/engine/engine.js';
import { FakeDiscord, type RecordedRequest } from '../fake-discord/index.js';
import { smoothPhoto, tinyEngine } from '../engine/tiny-engine.js';
import { ALICE, contentOf, customIds, finalResult, maskSeedOf, panelPixels, seedOf, sendCommand, startBot, tempDataDir } from './harness.js';

const SDXL_UNET = path.resolve(import.meta.dirname, '../fixtures/sd-real-arch-xl/sdxl-xs-int64/unet');

let fake: FakeDiscord;
let engine: DiffEditEngine;
let bot: DiffEditBot;
let dataDir: string;
let photo: Buffer;
let photoUrl: string;

beforeAll(async () => {
  engine = await tinyEngine({ family: 'sdxl', unetFrom: SDXL_UNET }, { preferOptimized: false });
  [fake, photo, dataDir] = await Promise.all([FakeDiscord.start(), smoothPhoto(), tempDataDir()]);
  photoUrl = fake.serveFile('photo.png', photo, { contentType: 'image/png' });
  bot = await startBot(fake, { engine, dataDir });
}, 300_000);

afterAll(async () => {
  await bot.stop(1000);
  await fake.close();
  await engine.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe('an SDXL model behind the bot', () => {
  let result: RecordedRequest;

  beforeAll(async () => {
    expect(engine.models.family.name).toBe('sdxl');
    const slash = sendCommand(fake, 'diffedit', { url: photoUrl, size: photo.length, seed: 42, maskSeed: 8 });
    result = await fake.waitForRequest(finalResult(slash.token), 240_000);
  }, 300_000);

  it('/diffedit delivers the three-panel PNG and the photo, with both seeds', async () => {
    expect(result.files.map((f) => f.filename)).toEqual(['diffedit.png', 'edited.png']);
    const meta = await sharp(result.files[0]?.data).metadata();
    expect([meta.format, meta.width, (meta.height ?? 0) >= 128]).toEqual(['png', 3 * 128 + 2 * 8, true]);
    expect(contentOf(result)).toMatch(/seed 42 \| mask seed 8/);
  });

  it('Reroll keeps the mask panel and re-draws the output with a new edit seed', async () => {
    const click = fake.clickButton({ customId: customIds(result)[0] as string, message: result.response, user: ALICE });
    const rerolled = await fake.waitForRequest(finalResult(click.token), 240_000);
    expect(seedOf(rerolled)).not.toBe(42);
    expect(maskSeedOf(rerolled)).toBe(8);
    expect((await panelPixels(rerolled, 1)).equals(await panelPixels(result, 1))).toBe(true);
    expect((await panelPixels(rerolled, 2)).equals(await panelPixels(result, 2))).toBe(false);
  }, 300_000);

  it('/mask delivers the mask only', async () => {
    const slash = sendCommand(fake, 'mask', { url: photoUrl, size: photo.length, maskSeed: 8 });
    const mask = await fake.waitForRequest(finalResult(slash.token), 240_000);
    expect(mask.files.map((f) => f.filename)).toEqual(['mask.png', 'mask-full.png']);
  }, 300_000);
});

/**
 * The full-size photo end to end: the real bot on the fake Discord, the tiny engine. A result message carries the
 * three-panel PNG and the edited photo at the uploaded picture's own size, in its format; /mask carries the mask at
 * that size; `composite: false` reaches the engine; a strip beyond 4:1 is refused privately before anything public.
 */
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DiffEditBot } from '../../src/bot/bot.js';
import type { FakeOption, RecordedRequest } from '../fake-discord/index.js';
import { ALICE, QUERY, REF, contentOf, finalResult, forToken, privateAnswer, sendCommand, startBot, startWorld, type World } from './harness.js';

let world: World;
let bot: DiffEditBot;
let jpeg: Buffer;
let jpegUrl: string;

beforeAll(async () => {
  world = await startWorld();
  // 320 x 240: not the model's size (128 x 128 here, a centred crop), so the photo's size says it is the upload's own.
  jpeg = await sharp(world.photo).resize(320, 240, { fit: 'fill' }).jpeg({ quality: 90 }).toBuffer();
  jpegUrl = world.fake.serveFile('photo.jpg', jpeg, { contentType: 'image/jpeg' });
  bot = await startBot(world.fake, { engine: world.engine, dataDir: world.dataDir });
});

afterAll(async () => {
  await bot.stop(1000);
  await world.close();
});

/** /diffedit with extra options and the attachment declared as given (sendCommand declares a 128 x 128 PNG). */
function diffedit(extra: FakeOption[], attachment: { filename: string; contentType: string; width: number; height: number; size: number }) {
  return world.fake.sendSlashCommand({
    name: 'diffedit',
    user: ALICE,
    options: [
      { name: 'image', type: 'attachment', value: 'photo' },
      { name: 'ref', type: 'string', value: REF },
      { name: 'query', type: 'string', value: QUERY },
      ...extra,
    ],
    attachments: { photo: { url: jpegUrl, ...attachment } },
  });
}

async function sizeOf(data: Buffer | undefined): Promise<[string | undefined, number | undefined, number | undefined]> {
  const meta = await sharp(data).metadata();
  return [meta.format, meta.width, meta.height];
}

describe('the full-size photo', () => {
  let result: RecordedRequest;

  beforeAll(async () => {
    const slash = sendCommand(world.fake, 'diffedit', { url: jpegUrl, size: jpeg.length, contentType: 'image/jpeg', seed: 9 });
    result = await world.fake.waitForRequest(finalResult(slash.token), 20_000);
  });

  it('comes as a second attachment beside the panel, at the uploaded size, as a JPEG for a JPEG', async () => {
    expect(result.files.map((f) => f.filename)).toEqual(['diffedit.png', 'edited.jpg']);
    expect((await sizeOf(result.files[0]?.data)).slice(0, 2)).toEqual(['png', 3 * 128 + 2 * 8]);
    expect(await sizeOf(result.files[1]?.data)).toEqual(['jpeg', 320, 240]);
    const total = result.files.reduce((n, f) => n + f.data.length, 0);
    expect(total).toBeLessThanOrEqual(10 * 1024 * 1024);
  });

  it('/mask attaches the mask at the uploaded size as a PNG', async () => {
    const slash = sendCommand(world.fake, 'mask', { url: jpegUrl, size: jpeg.length, contentType: 'image/jpeg', seed: 9 });
    const mask = await world.fake.waitForRequest(finalResult(slash.token), 20_000);
    expect(mask.files.map((f) => f.filename)).toEqual(['mask.png', 'mask-full.png']);
    expect(await sizeOf(mask.files[1]?.data)).toEqual(['png', 320, 240]);
  });

  it('composite: false gives the whole re-drawn frame: the model crop of the photo, upscaled', async () => {
    const slash = diffedit([{ name: 'composite', type: 'boolean', value: false }], {
      filename: 'photo.jpg',
      contentType: 'image/jpeg',
      width: 320,
      height: 240,
      size: jpeg.length,
    });
    const plain = await world.fake.waitForRequest(finalResult(slash.token), 20_000);
    // 320 x 240 maps to a 128 x 128 model frame: the centred 240 x 240 square.
    expect(await sizeOf(plain.files[1]?.data)).toEqual(['jpeg', 240, 240]);
  });

  it('a 10000 x 10 strip is refused privately before anything public is posted', async () => {
    const slash = diffedit([], { filename: 'strip.png', contentType: 'image/png', width: 10_000, height: 10, size: 1000 });
    const answer = await world.fake.waitForRequest(privateAnswer(slash.token), 5000);
    expect(contentOf(answer) || JSON.stringify(answer.json)).toMatch(/10000x10, 1000:1; the model takes at most 4:1/);
    expect(world.fake.requests.filter(forToken(slash.token)).every((r) => (r.json as { type?: number } | undefined)?.type !== 5)).toBe(true);
  });
});

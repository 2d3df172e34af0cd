/**
 * The whole product on a model that learned its world: a user uploads a held-out demo scene (at 4x the model's size,
 * as photos are bigger than the model), types /diffedit "a red circle" -> "a blue circle" (whatever the scene holds),
 * and the photo the real bot posts to the fake Discord shows the object in the new colour and, outside the mask,
 * the upload byte for byte.
 */
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DiffEditBot } from '../../src/bot/bot.js';
import type { DiffEditEngine } from '../../src/engine/engine.js';
import { FakeDiscord, type RecordedRequest } from '../fake-discord/index.js';
import { HELD_OUT_SEED, colourCase, type EditCase } from '../../tools/demo-model/cases.js';
import { binary, dilate, shareNearer } from '../../tools/demo-model/metrics.js';
import { QUALITY_THRESHOLDS } from '../../tools/demo-model/thresholds.js';
import { demoEngine } from '../engine/quality/demo-engine.js';
import { ALICE, finalResult, startBot, tempDataDir } from './harness.js';

const SCALE = 4;

let fake: FakeDiscord;
let engine: DiffEditEngine;
let bot: DiffEditBot;
let scene: EditCase;
let upload: Buffer;
let result: RecordedRequest;

/** `mask` (scene size) scaled up to the upload's size by pixel repetition. */
function scaled(mask: Uint8Array, size: number): Uint8Array {
  const big = size * SCALE;
  const out = new Uint8Array(big * big);
  for (let y = 0; y < big; y++) for (let x = 0; x < big; x++) out[y * big + x] = mask[Math.floor(y / SCALE) * size + Math.floor(x / SCALE)] ?? 0;
  return out;
}

beforeAll(async () => {
  [fake, engine] = await Promise.all([FakeDiscord.start(), demoEngine()]);
  scene = await colourCase(HELD_OUT_SEED + 2, { count: 1 });
  const size = scene.rendered.size;
  upload = await sharp(scene.png)
    .resize(size * SCALE, size * SCALE, { kernel: 'nearest' })
    .png()
    .toBuffer();
  const url = fake.serveFile('scene.png', upload, { contentType: 'image/png' });
  bot = await startBot(fake, { engine, dataDir: await tempDataDir() });
  const slash = fake.sendSlashCommand({
    name: 'diffedit',
    user: ALICE,
    options: [
      { name: 'image', type: 'attachment', value: 'photo' },
      { name: 'ref', type: 'string', value: scene.ref },
      { name: 'query', type: 'string', value: scene.query },
      { name: 'seed', type: 'integer', value: 11 },
      { name: 'mask_seed', type: 'integer', value: 7 },
    ],
    attachments: { photo: { filename: 'scene.png', url, size: upload.length, contentType: 'image/png', width: size * SCALE, height: size * SCALE } },
  });
  result = await fake.waitForRequest(finalResult(slash.token), 60_000);
}, 90_000);

afterAll(async () => {
  await bot.stop(1000);
  await fake.close();
  await engine.close();
});

describe('/diffedit on a demo scene through the fake Discord', () => {
  it('posts the panel and the edited photo at the upload size', async () => {
    expect(result.files.map((f) => f.filename)).toEqual(['diffedit.png', 'edited.png']);
    const meta = await sharp(result.files[1]?.data).metadata();
    expect([meta.width, meta.height]).toEqual([scene.rendered.size * SCALE, scene.rendered.size * SCALE]);
  });

  it('shows the object in the query colour and the background as uploaded', async () => {
    const size = scene.rendered.size * SCALE;
    const photo = await sharp(result.files[1]?.data).removeAlpha().raw().toBuffer();
    const before = await sharp(upload).removeAlpha().raw().toBuffer();
    const object = scaled(scene.rendered.masks[scene.target] as Uint8Array, scene.rendered.size);
    const share = shareNearer({ width: size, height: size, data: photo }, object, scene.to, scene.from);
    expect(share).toBeGreaterThanOrEqual(QUALITY_THRESHOLDS.colourSuccess);
    // Outside the mask's composited band (one latent cell plus the feather, in upload pixels) every byte is the
    // upload's. The mask is the one the engine gives for the same mask seed (it depends on nothing else).
    const masked = await engine.run({ image: scene.png, ref: scene.ref, query: scene.query, maskSeed: 7, maskOnly: true });
    const band = dilate(scaled(binary(masked.mask), scene.rendered.size), size, (engine.models.vaeScaleFactor + 3) * SCALE);
    let differing = 0;
    for (let i = 0; i < band.length; i++) {
      if (band[i] !== 0) continue;
      for (let c = 0; c < 3; c++) if (photo[i * 3 + c] !== before[i * 3 + c]) differing++;
    }
    expect(differing).toBe(0);
  });
});

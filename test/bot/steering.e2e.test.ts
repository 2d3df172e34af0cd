/**
 * Steering an edit end to end, with the file job store and with Redis (a redis-server of the test's own, the worker
 * in this process): Smaller / Larger area under a result give regions strictly inside / strictly containing its own
 * with no mask and no inversion UNet call; an area that would empty the region is refused privately; four variations
 * come as one panel of four candidates that differ inside the region only, and Use 2 posts candidate 2's photo; the
 * buttons still work after the bot restarts. Assertions are on what the fake Discord received and on the engine's
 * own counts of UNet calls.
 */
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DiffEditBot } from '../../src/bot/bot.js';
import type { EditRunner } from '../../src/bot/job-lifecycle.js';
import { MemoryStageCache } from '../../src/engine/cache/memory-cache.js';
import type { DiffEditEngine, EditResult } from '../../src/engine/engine.js';
import { EditWorker } from '../../src/queue/redis/worker.js';
import { silentLogger } from '../../src/logger.js';
import { smoothPhoto, tinyEngine } from '../engine/tiny-engine.js';
import { FakeDiscord, type RecordedRequest } from '../fake-discord/index.js';
import { HAS_REDIS, startRedis, type RedisServer } from '../queue/redis/redis-server.js';
import { ALICE, BOB, QUERY, REF, contentOf, customIds, finalResult, panelPixels, privateAnswer, startBot, tempDataDir } from './harness.js';

/** The tiny UNet's region, where ref and query differ: latent cells 6..8 in both axes (9 of 16 x 16), pixels 48..71. */
const REGION = { x0: 6 / 16, y0: 6 / 16, x1: 9 / 16, y1: 9 / 16 };
/** 50 steps x 0.8: 40 decoding steps of one [uncond, query] pair, 40 inversion calls of 1, 10 mask draws in 1 call. */
const FIRST_EDIT = { calls: 1 + 40 + 40, evaluations: 20 + 40 + 80 };
const DECODE_ONLY = { calls: 40, evaluations: 80 };

const stores = HAS_REDIS ? (['file', 'redis'] as const) : (['file'] as const);

describe.each(stores)('steering an edit (%s job store)', (store) => {
  let fake: FakeDiscord;
  let engine: DiffEditEngine;
  let photo: Buffer;
  let photoUrl: string;
  let dataDir: string;
  let redis: RedisServer | undefined;
  let worker: EditWorker | undefined;
  let bot: DiffEditBot;
  /** Every engine run, in order: the jobs here run one at a time. */
  const runs: EditResult[] = [];
  const runner: EditRunner = {
    run: async (request, controls) => {
      const result = await engine.run(request, controls);
      runs.push(result);
      return result;
    },
  };

  const work = (r: EditResult | undefined) => ({ calls: r?.unetCalls, evaluations: r?.unetEvaluations });

  async function start(): Promise<DiffEditBot> {
    if (redis === undefined) return startBot(fake, { engine: runner, dataDir });
    return startBot(fake, { dataDir, config: { queueBackend: 'redis', redisUrl: redis.url } });
  }

  beforeAll(async () => {
    [fake, engine, photo, dataDir] = await Promise.all([
      FakeDiscord.start(),
      tinyEngine({ region: REGION }, { cache: new MemoryStageCache(64 * 1024 * 1024) }),
      smoothPhoto(),
      tempDataDir(),
    ]);
    photoUrl = fake.serveFile('photo.png', photo, { contentType: 'image/png' });
    if (store === 'redis') {
      redis = await startRedis();
      worker = new EditWorker({ redisUrl: redis.url, engine: runner, jobTimeoutMs: 60_000, lockMs: 30_000, logger: silentLogger });
      await worker.ready();
    }
    bot = await start();
  });

  afterAll(async () => {
    await bot.stop(1000);
    await worker?.close(1000);
    await redis?.stop();
    await fake.close();
    await engine.close();
  });

  /** /diffedit with the given integer options besides the picture and prompts. */
  function diffedit(options: Record<string, number>, user = ALICE): { id: string; token: string } {
    return fake.sendSlashCommand({
      name: 'diffedit',
      user,
      options: [
        { name: 'image', type: 'attachment', value: 'photo' },
        { name: 'ref', type: 'string', value: REF },
        { name: 'query', type: 'string', value: QUERY },
        ...Object.entries(options).map(([name, value]) => ({ name, type: 'integer' as const, value })),
      ],
      attachments: { photo: { filename: 'photo.png', url: photoUrl, size: photo.length, contentType: 'image/png', width: 128, height: 128 } },
    });
  }

  /** Clicks the button of `result` whose custom_id starts with `action` and waits for the result it delivers. */
  async function click(result: RecordedRequest, action: string, user = ALICE): Promise<RecordedRequest> {
    const customId = customIds(result).find((id) => id.startsWith(`${action}:`));
    if (customId === undefined) throw new Error(`no ${action} button under the result`);
    const clicked = fake.clickButton({ customId, message: result.response, user });
    return fake.waitForRequest(finalResult(clicked.token), 30_000);
  }

  /** The region a result's mask panel shows, per pixel: the overlay dims the input outside it and tints it inside. */
  async function shownRegion(result: RecordedRequest): Promise<boolean[]> {
    const [input, overlay] = await Promise.all([panelPixels(result, 0), panelPixels(result, 1)]);
    return Array.from({ length: 128 * 128 }, (_, i) => overlay[3 * i] !== Math.round((input[3 * i] as number) * 0.4));
  }

  const strictlyInside = (a: boolean[], b: boolean[]) => a.every((on, i) => !on || b[i]) && a.filter(Boolean).length < b.filter(Boolean).length;

  let first: RecordedRequest;
  let grid: RecordedRequest;

  it('Smaller / Larger area: a region strictly inside / strictly containing the first one, without a mask or inversion UNet call', async () => {
    first = await fake.waitForRequest(finalResult(diffedit({ seed: 42, mask_seed: 8 }).token), 30_000);
    expect(work(runs.at(-1))).toEqual(FIRST_EDIT);
    expect(customIds(first).map((id) => id.split(':')[0])).toEqual(['reroll', 'smaller', 'larger', 'delete']);
    expect(contentOf(first)).toMatch(/\| area: 4% of the picture$/);

    const smaller = await click(first, 'smaller');
    expect(work(runs.at(-1))).toEqual(DECODE_ONLY);
    const larger = await click(first, 'larger');
    expect(work(runs.at(-1))).toEqual(DECODE_ONLY);

    const [region, inner, outer] = await Promise.all([shownRegion(first), shownRegion(smaller), shownRegion(larger)]);
    expect(strictlyInside(inner, region)).toBe(true);
    expect(strictlyInside(region, outer)).toBe(true);
    // Same seeds: only the region changed.
    expect(contentOf(smaller)).toMatch(/seed 42 \| mask seed 8 \| .* \| area: 2% of the picture \(area -1\)/);
    expect(contentOf(larger)).toMatch(/seed 42 \| mask seed 8 \| .* \| area: 5% of the picture \(area \+1\)/);
  });

  it('an area that would empty the region is refused privately, and no result is posted', async () => {
    // 9 cells: -1 keeps 5, -2 keeps 1, -3 none.
    const slash = diffedit({ area: -3 });
    const refusal = await fake.waitForRequest(privateAnswer(slash.token), 30_000);
    expect(contentOf(refusal)).toMatch(/At area -3 the region would be empty/);
    expect(fake.requests.filter(finalResult(slash.token))).toEqual([]);
  });

  it('four variations: one panel whose candidates differ inside the region only; Use 2 posts candidate 2’s photo', async () => {
    grid = await fake.waitForRequest(finalResult(diffedit({ seed: 100, mask_seed: 8, variations: 4 }).token), 30_000);
    expect(contentOf(grid)).toMatch(/seeds 100, 101, 102, 103 \| mask seed 8/);
    expect(grid.files.map((f) => f.filename)).toEqual(['diffedit.png']);
    expect((await sharp(grid.files[0]?.data).metadata()).width).toBe(6 * 128 + 5 * 8);
    expect(customIds(grid).map((id) => id.split(':')[0])).toEqual(['use1', 'use2', 'use3', 'use4', 'reroll', 'smaller', 'larger', 'delete']);
    // One mask (cached from the first test), one inversion (cached), 4 candidates x 2 items per decoding call.
    expect(work(runs.at(-1))).toEqual({ calls: 40, evaluations: 40 * 8 });

    const tiles = await Promise.all([2, 3, 4, 5].map((slot) => panelPixels(grid, slot)));
    const rows = (raw: Buffer, from: number, to: number) => raw.subarray(3 * 128 * from, 3 * 128 * to).toString('hex');
    // Inside the region (rows 48..71) four different pictures; far outside it (rows 0..31) four times the same.
    expect(new Set(tiles.map((t) => rows(t, 52, 68))).size).toBe(4);
    expect(new Set(tiles.map((t) => rows(t, 0, 32))).size).toBe(1);

    const used = await click(grid, 'use2', BOB);
    expect(used.files.map((f) => f.filename)).toEqual(['edited.png']);
    expect(contentOf(used)).toMatch(/candidate 2 of 4 \| seed 101 \| mask seed 8/);
    // The posted photo (128 px, as the upload) is the picture of candidate 2's tile, pixel for pixel.
    const posted = await sharp(used.files[0]?.data).removeAlpha().raw().toBuffer();
    expect(posted.equals(tiles[1] as Buffer)).toBe(true);
    expect(customIds(used).map((id) => id.split(':')[0])).toEqual(['reroll', 'smaller', 'larger', 'delete']);
    // No model ran for it.
    expect(work(runs.at(-1))).toEqual({ calls: 40, evaluations: 40 * 8 });
  });

  it('the buttons still work after the bot restarts', async () => {
    await bot.stop(1000);
    bot = await start();
    const used = await click(grid, 'use3');
    const tile = await panelPixels(grid, 4);
    expect((await sharp(used.files[0]?.data).removeAlpha().raw().toBuffer()).equals(tile)).toBe(true);

    const before = runs.length;
    const smaller = await click(first, 'smaller');
    expect(runs.length).toBe(before + 1);
    expect(work(runs.at(-1))).toEqual(DECODE_ONLY);
    expect(strictlyInside(await shownRegion(smaller), await shownRegion(first))).toBe(true);
  });
});

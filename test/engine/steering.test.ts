/**
 * Steering an edit on the tiny models: another area re-thresholds the cached difference map (no mask draws, no
 * inversion) into nested regions, areas that empty the region or take the whole picture are refused, several
 * candidates decode together over one mask and inversion, and the panel shows the composited picture that is posted.
 */
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStageCache } from '../../src/engine/cache/memory-cache.js';
import type { DiffEditEngine, EditRequest, EditResult } from '../../src/engine/engine.js';
import { ErrorCode } from '../../src/errors.js';
import { smoothPhoto, tinyEngine } from './tiny-engine.js';

/** 10 steps x 0.8 = 8 decoding steps; 4 mask draws = 8 items in 1 call; 8 inversion calls of 1. */
const FIRST = { calls: 1 + 8 + 8, evaluations: 8 + 8 + 16 };
const DECODE_ONLY = { calls: 8, evaluations: 16 };

let photo: Buffer;
let request: EditRequest;
const engines: DiffEditEngine[] = [];

const work = (r: EditResult) => ({ calls: r.unetCalls, evaluations: r.unetEvaluations });
const cells = (mask: Float32Array) => mask.reduce((n, v) => n + v, 0);
const inside = (a: Float32Array, b: Float32Array) => a.every((v, i) => v <= (b[i] as number));

async function engine(...args: Parameters<typeof tinyEngine>): Promise<DiffEditEngine> {
  const made = await tinyEngine(...args);
  engines.push(made);
  return made;
}

/** A tiny model whose region (where ref and query differ) is the latent cells [from, to) in both axes, of 16. */
const square = (from: number, to: number) => ({ region: { x0: from / 16, y0: from / 16, x1: to / 16, y1: to / 16 } });

/** Raw RGB of panel `slot` of a result PNG at the tiny engine's 128 px. */
async function panel(png: Buffer, slot: number): Promise<Buffer> {
  return sharp(png)
    .extract({ left: slot * (128 + 8), top: 0, width: 128, height: 128 })
    .removeAlpha()
    .raw()
    .toBuffer();
}

beforeAll(async () => {
  photo = await smoothPhoto();
  request = { image: photo, ref: 'a bowl of strawberries', query: 'a bowl of grapes', seed: 1, maskSeed: 2, steps: 10, maskDraws: 4 };
});

afterAll(async () => {
  await Promise.all(engines.map((e) => e.close()));
});

describe('area steps', () => {
  let cached: DiffEditEngine;
  let first: EditResult;

  beforeAll(async () => {
    cached = await engine({}, { cache: new MemoryStageCache(64 * 1024 * 1024) });
    first = await cached.run(request);
  });

  it('a smaller area lies strictly inside, a larger one strictly contains, and neither draws a mask or inverts', async () => {
    expect(work(first)).toEqual(FIRST);
    const smaller = await cached.run({ ...request, area: -1 });
    const larger = await cached.run({ ...request, area: 1 });
    expect(work(smaller)).toEqual(DECODE_ONLY);
    expect(work(larger)).toEqual(DECODE_ONLY);
    expect(inside(smaller.latentMask, first.latentMask) && cells(smaller.latentMask) < cells(first.latentMask)).toBe(true);
    expect(inside(first.latentMask, larger.latentMask) && cells(larger.latentMask) > cells(first.latentMask)).toBe(true);
    // 64 cells of 256 automatically; x0.7 and x1.4.
    expect([smaller.coverage, first.coverage, larger.coverage]).toEqual([45 / 256, 64 / 256, 90 / 256]);
    expect(smaller.parameters.area).toBe(-1);
  });

  it('gives the same picture without a cache (the area does not depend on what was cached)', async () => {
    const cold = await (await engine()).run({ ...request, area: -2 });
    const warm = await cached.run({ ...request, area: -2 });
    expect(Buffer.from(warm.png).equals(cold.png)).toBe(true);
  });

  it('refuses an area that would empty the region', async () => {
    // 9 cells: -1 -> 5, -2 -> 1, -3 -> nothing.
    const small = await engine(square(6, 9));
    expect((await small.run({ ...request, area: -2, maskOnly: true })).coverage).toBe(1 / 256);
    await expect(small.run({ ...request, area: -3 })).rejects.toMatchObject({ code: ErrorCode.InvalidOption, message: /area -3 .* empty/ });
  });

  it('refuses an area that would take the whole picture', async () => {
    // 12 x 12 = 144 cells: +1 -> 202, +2 -> 283 of 256.
    const large = await engine(square(2, 14));
    expect((await large.run({ ...request, area: 1, maskOnly: true })).coverage).toBe(202 / 256);
    await expect(large.run({ ...request, area: 2 })).rejects.toMatchObject({ code: ErrorCode.InvalidOption, message: /area \+2 .* whole picture/ });
  });
});

describe('variations', () => {
  let batched: DiffEditEngine;
  let four: EditResult;

  beforeAll(async () => {
    batched = await engine({}, { cache: new MemoryStageCache(64 * 1024 * 1024) });
    four = await batched.run({ ...request, variations: 4 });
  });

  it('decodes 4 candidates in one UNet call of 8 items per step, over one mask and one inversion', () => {
    // mask: 1 call of 8; inversion: 8 calls of 1; decoding: 8 calls of 4 x 2.
    expect(work(four)).toEqual({ calls: 1 + 8 + 8, evaluations: 8 + 8 + 8 * 8 });
    expect(four.candidates.map((c) => c.seed)).toEqual([1, 2, 3, 4]);
  });

  it('cuts the calls to MAX_BATCH: 2 items per call on the CPU default', async () => {
    const cpu = await engine({}, { maxBatch: 2 });
    const result = await cpu.run({ ...request, variations: 4 });
    expect(work(result)).toEqual({ calls: 4 + 8 + 8 * 4, evaluations: 8 + 8 + 8 * 8 });
  });

  it('gives each candidate its own inside and the photo’s own pixels outside', async () => {
    const photos = await Promise.all(four.candidates.map(async (c) => sharp(c.photo?.data).raw().toBuffer()));
    const original = await sharp(photo).removeAlpha().raw().toBuffer();
    // The region is the middle quarter of the latent grid; the corners are far outside it.
    const corner = (raw: Buffer) => raw.subarray(0, 3 * 128 * 8);
    const centre = (raw: Buffer) => raw.subarray(3 * 128 * 60, 3 * 128 * 68);
    for (const raw of photos) expect(corner(raw).equals(corner(original))).toBe(true);
    const insides = new Set(photos.map((raw) => centre(raw).toString('hex')));
    expect(insides.size).toBe(4);
    expect(four.photo).toBeUndefined();
  });

  it('shows input, mask and the four candidates side by side', async () => {
    const meta = await sharp(four.png).metadata();
    expect(meta.width).toBe(6 * 128 + 5 * 8);
    const tiles = await Promise.all([2, 3, 4, 5].map((slot) => panel(four.png, slot)));
    expect(new Set(tiles.map((t) => t.toString('hex'))).size).toBe(4);
  });

  it('a candidate is the picture its seed gives alone', async () => {
    const alone = await batched.run({ ...request, seed: 3, variations: 1 });
    const third = await sharp(four.candidates[2]?.photo?.data).raw().toBuffer();
    const single = await sharp(alone.photo?.data).raw().toBuffer();
    let worst = 0;
    for (let i = 0; i < third.length; i++) worst = Math.max(worst, Math.abs((third[i] as number) - (single[i] as number)));
    expect(worst).toBeLessThanOrEqual(1);
  });

  it('refuses a number of variations outside 1-4', async () => {
    await expect(batched.run({ ...request, variations: 5 })).rejects.toMatchObject({ code: ErrorCode.InvalidOption, message: /variations/ });
  });
});

describe('the panel', () => {
  it('shows the composited picture: outside the region the output panel is the input panel, pixel for pixel', async () => {
    const result = await (await engine()).run(request);
    const [input, output] = await Promise.all([panel(result.png, 0), panel(result.png, 2)]);
    const rows = (raw: Buffer) => raw.subarray(0, 3 * 128 * 16);
    expect(rows(output).equals(rows(input))).toBe(true);
    // ... and the posted photo is the same picture.
    const posted = await sharp(result.photo?.data).raw().toBuffer();
    expect(posted.equals(output)).toBe(true);
  });
});

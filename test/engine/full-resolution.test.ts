/**
 * The engine's full-size output on the tiny models: the photo comes back at its own resolution, byte for byte outside
 * the dilated mask, changed inside; JPEG in gives JPEG out within the upload limit; shapes the model cannot take are
 * refused before any model runs; an animation says only its first frame was used.
 */
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DiffEditEngine, EditResult } from '../../src/engine/engine.js';
import { isDiffEditError } from '../../src/errors.js';
import { smoothPhoto, tinyEngine } from './tiny-engine.js';

const REF = 'a bowl of strawberries';
const QUERY = 'a bowl of grapes';
const FAST = { steps: 10, maskDraws: 4, seed: 11 } as const;

/** Decoded RGB bytes of an encoded picture. */
async function rgb(bytes: Uint8Array): Promise<{ data: Buffer; width: number; height: number }> {
  const { data, info } = await sharp(bytes).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

/**
 * For each photo pixel: is its latent cell within `cells` cells (Chebyshev) of a masked cell? Computed from the latent
 * mask alone, independently of the compositing code, so "outside" is conservative: 1 cell of dilation plus the feather
 * (a quarter cell) plus the upscaler's reach stay within 2 cells.
 */
function nearMask(result: EditResult, width: number, height: number, cells: number): (x: number, y: number) => boolean {
  const lw = result.input.width / 8;
  const lh = result.input.height / 8;
  return (x, y) => {
    const cx = Math.floor((x * lw) / width);
    const cy = Math.floor((y * lh) / height);
    for (let dy = -cells; dy <= cells; dy++) {
      for (let dx = -cells; dx <= cells; dx++) {
        const nx = cx + dx;
        const ny = cy + dy;
        if (nx >= 0 && ny >= 0 && nx < lw && ny < lh && result.latentMask[ny * lw + nx] === 1) return true;
      }
    }
    return false;
  };
}

let engine: DiffEditEngine;
let photo: Buffer;

beforeAll(async () => {
  // At 256 a 4:3 photo maps to 256 x 192 exactly (at 128 it would round to a square and be cropped).
  [engine, photo] = await Promise.all([tinyEngine({}, { size: 256 }), smoothPhoto(1600, 1200)]);
});
afterAll(async () => {
  await engine.close();
});

describe('a 1600 x 1200 PNG photo', () => {
  let result: EditResult;
  beforeAll(async () => {
    result = await engine.run({ image: photo, ref: REF, query: QUERY, ...FAST });
  });

  it('comes back as a 1600 x 1200 PNG beside the model-size panel', async () => {
    expect([result.input.width, result.input.height]).toEqual([256, 192]);
    expect(result.photo).toMatchObject({ format: 'png', width: 1600, height: 1200 });
    const meta = await sharp(result.photo?.data).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 1600, 1200]);
    expect(result.timings.output).toBeGreaterThan(0);
  });

  it('equals the input byte for byte outside the dilated mask and differs inside it', async () => {
    const [input, output] = await Promise.all([rgb(photo), rgb(result.photo?.data as Buffer)]);
    const near = nearMask(result, 1600, 1200, 2);
    let outside = 0;
    let outsideChanged = 0;
    let inside = 0;
    let insideChanged = 0;
    for (let y = 0; y < 1200; y++) {
      for (let x = 0; x < 1600; x++) {
        const p = 3 * (y * 1600 + x);
        const same = input.data[p] === output.data[p] && input.data[p + 1] === output.data[p + 1] && input.data[p + 2] === output.data[p + 2];
        if (!near(x, y)) {
          outside++;
          if (!same) outsideChanged++;
        } else if (nearMask(result, 1600, 1200, 0)(x, y)) {
          inside++;
          if (!same) insideChanged++;
        }
      }
    }
    expect(outside).toBeGreaterThan(1600 * 1200 * 0.2);
    expect(outsideChanged).toBe(0);
    expect(inside).toBeGreaterThan(1600 * 1200 * 0.1);
    expect(insideChanged / inside).toBeGreaterThan(0.9);
  });

  it('without compositing is the whole decoded frame, changed outside the mask too', async () => {
    const plain = await engine.run({ image: photo, ref: REF, query: QUERY, ...FAST, composite: false });
    expect(plain.parameters.composite).toBe(false);
    expect(plain.photo).toMatchObject({ width: 1600, height: 1200 });
    const [input, output] = await Promise.all([rgb(photo), rgb(plain.photo?.data as Buffer)]);
    const near = nearMask(plain, 1600, 1200, 2);
    let changed = 0;
    for (let y = 0; y < 1200; y += 7) {
      for (let x = 0; x < 1600; x += 7) {
        const p = 3 * (y * 1600 + x);
        if (!near(x, y) && input.data[p] !== output.data[p]) changed++;
      }
    }
    expect(changed).toBeGreaterThan(100);
  });
});

describe('formats and limits', () => {
  it('a JPEG gives a JPEG of the same size within the upload limit', async () => {
    const jpeg = await sharp(photo).jpeg({ quality: 90 }).toBuffer();
    const result = await engine.run({ image: jpeg, ref: REF, query: QUERY, ...FAST });
    expect(result.photo).toMatchObject({ format: 'jpeg', width: 1600, height: 1200 });
    const meta = await sharp(result.photo?.data).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 1600, 1200]);
    expect((result.photo?.data.length ?? Infinity) + result.png.length).toBeLessThanOrEqual(10 * 1024 * 1024);
  });

  it('a tight upload limit re-encodes the photo smaller instead of failing, and says so', async () => {
    const small = await tinyEngine({}, { size: 256, maxResultBytes: 200 * 1024 });
    try {
      const result = await small.run({ image: photo, ref: REF, query: QUERY, ...FAST });
      expect(result.photo?.format).toBe('png');
      expect((result.photo?.data.length ?? Infinity) + result.png.length).toBeLessThanOrEqual(200 * 1024);
      expect(result.photo?.width).toBeLessThan(1600);
      expect(result.warnings.join(' ')).toMatch(/scaled down to \d+x\d+ to fit within the upload limit/);
    } finally {
      await small.close();
    }
  });

  it('caps the long side at maxOutputSide', async () => {
    const capped = await tinyEngine({}, { size: 256, maxOutputSide: 800 });
    try {
      const result = await capped.run({ image: photo, ref: REF, query: QUERY, ...FAST });
      expect(result.photo).toMatchObject({ width: 800, height: 600 });
    } finally {
      await capped.close();
    }
  });

  it('a mask-only job attaches the mask at the photo size as a grey PNG', async () => {
    const result = await engine.run({ image: photo, ref: REF, query: QUERY, ...FAST, maskOnly: true });
    expect(result.photo).toMatchObject({ format: 'png', width: 1600, height: 1200 });
    expect((await sharp(result.photo?.data).metadata()).channels).toBe(1);
    const data = await sharp(result.photo?.data).extractChannel(0).raw().toBuffer();
    const on = data.reduce((n, v) => n + (v === 255 ? 1 : 0), 0);
    expect(on / data.length).toBeCloseTo(result.coverage, 1);
    expect(data.every((v) => v === 0 || v === 255)).toBe(true);
  });

  it('a 10000 x 10 picture is refused with a clear message before any model runs', async () => {
    const strip = await sharp({ create: { width: 10_000, height: 10, channels: 3, background: { r: 9, g: 99, b: 199 } } })
      .png()
      .toBuffer();
    const before = engine.models.unetEvaluations;
    const error: unknown = await engine.run({ image: strip, ref: REF, query: QUERY, ...FAST }).catch((e: unknown) => e);
    expect(isDiffEditError(error, 'UnsupportedShape')).toBe(true);
    expect((error as Error).message).toMatch(/10000x10, 1000:1; the model takes at most 4:1/);
    expect(engine.models.unetEvaluations).toBe(before);
  });

  it('an animated GIF is edited from its first frame, with a warning saying so', async () => {
    const [width, height] = [160, 120];
    const frames = Buffer.alloc(width * height * 2 * 3, 0);
    const first = await rgb(await smoothPhoto(width, height));
    first.data.copy(frames);
    frames.fill(30, width * height * 3);
    const gif = await sharp(frames, { raw: { width, height: height * 2, channels: 3, pageHeight: height } })
      .gif({ delay: [100, 100] })
      .toBuffer();
    expect((await sharp(gif).metadata()).pages).toBe(2);
    const result = await engine.run({ image: gif, ref: REF, query: QUERY, ...FAST });
    expect(result.warnings).toContain('The picture is animated (2 frames): only its first frame was used.');
    expect(result.photo).toMatchObject({ format: 'png', width, height });
    // The first frame, not the dark second one.
    const corner = (await rgb(result.photo?.data as Buffer)).data.subarray(0, 3);
    expect(corner[2]).toBeGreaterThan(100);
  });
});

/**
 * The engine with a stage cache, on the tiny models: a Reroll (new edit seed) or a repeat with other decoding
 * parameters runs only the decoding and gives the bytes a run without cache gives; the disk tier survives a new
 * engine; a corrupt entry is ignored; a request's stored mask is used exactly.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DiskStageCache } from '../../src/engine/cache/disk-cache.js';
import { MemoryStageCache } from '../../src/engine/cache/memory-cache.js';
import { packMask } from '../../src/engine/diffedit/packed-mask.js';
import type { DiffEditEngine, EditRequest, EditResult } from '../../src/engine/engine.js';
import { recordingLogger } from '../bot/harness.js';
import { smoothPhoto, tinyEngine } from './tiny-engine.js';

/** 10 steps x 0.8 = 8 inversion calls (batch 1) and 8 decoding calls (batch 2); 4 mask draws = 8 items in 1 call. */
const FIRST = { calls: 1 + 8 + 8, evaluations: 8 + 8 + 16 };
const DECODE_ONLY = { calls: 8, evaluations: 16 };

let plain: DiffEditEngine;
let photo: Buffer;
let request: EditRequest;
const dirs: string[] = [];

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'diffedit-stage-cache-'));
  dirs.push(dir);
  return dir;
}

const work = (r: EditResult) => ({ calls: r.unetCalls, evaluations: r.unetEvaluations });
const bytes = (r: EditResult) => Buffer.from(r.output?.data ?? []);

beforeAll(async () => {
  [plain, photo] = await Promise.all([tinyEngine(), smoothPhoto()]);
  request = { image: photo, ref: 'a bowl of strawberries', query: 'a bowl of grapes', seed: 1, maskSeed: 2, steps: 10, maskDraws: 4 };
});

afterAll(async () => {
  await plain.close();
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('with a memory cache', () => {
  let engine: DiffEditEngine;
  let first: EditResult;

  beforeAll(async () => {
    engine = await tinyEngine({}, { cache: new MemoryStageCache(64 * 1024 * 1024) });
    first = await engine.run(request);
  });
  afterAll(async () => {
    await engine.close();
  });

  it('a first edit computes every stage, as without a cache', async () => {
    expect(work(first)).toEqual(FIRST);
    expect(bytes(first).equals(bytes(await plain.run(request)))).toBe(true);
  });

  it('a Reroll (new edit seed) runs only the decoding, keeps the mask bytes, changes the inside, and matches a fresh run', async () => {
    const reroll = await engine.run({ ...request, seed: 99 });
    expect(work(reroll)).toEqual(DECODE_ONLY);
    expect(Buffer.from(reroll.mask.data).equals(Buffer.from(first.mask.data))).toBe(true);
    expect(Array.from(reroll.latentMask)).toEqual(Array.from(first.latentMask));
    expect(bytes(reroll).equals(bytes(first))).toBe(false);
    expect(bytes(reroll).equals(bytes(await plain.run({ ...request, seed: 99 })))).toBe(true);
  });

  it.each([
    ['guidance', { guidance: 3 }],
    ['eta', { eta: 0.2 }],
  ])('a repeat with another %s runs only the decoding', async (_name, change) => {
    expect(work(await engine.run({ ...request, ...change }))).toEqual(DECODE_ONLY);
  });

  it('another mask seed recomputes the mask only; another strength the inversion only', async () => {
    expect(work(await engine.run({ ...request, maskSeed: 3 }))).toEqual({ calls: 1 + 8, evaluations: 8 + 16 });
    // 10 x 0.5 = 5 inversion and 5 decoding calls.
    expect(work(await engine.run({ ...request, strength: 0.5 }))).toEqual({ calls: 5 + 5, evaluations: 5 + 10 });
  });

  it('a mask-only job fills the mask entry that the edit then uses', async () => {
    const maskOnly = await engine.run({ ...request, maskSeed: 40, maskOnly: true });
    expect(work(maskOnly)).toEqual({ calls: 1, evaluations: 8 });
    expect(work(await engine.run({ ...request, maskSeed: 40 }))).toEqual(DECODE_ONLY);
  });
});

describe('a stored mask in the request ("Edit with this mask")', () => {
  it('is used exactly, without any mask UNet call', async () => {
    const made = await plain.run({ ...request, maskOnly: true });
    // A hand-made mask the models would never produce: the edit must take it as it is.
    const cells = made.latentMask.map((_, i) => (i % 16 < 5 ? 1 : 0));
    const edit = await plain.run({ ...request, latentMask: packMask(cells, 16, 16) });
    expect(Array.from(edit.latentMask)).toEqual(Array.from(cells));
    expect(work(edit)).toEqual({ calls: 8 + 8, evaluations: 8 + 16 });
  });

  it('made at another model size is not used: the mask is computed and the job still runs', async () => {
    const logger = recordingLogger();
    const engine = await tinyEngine({}, { logger });
    try {
      const edit = await engine.run({ ...request, latentMask: packMask(new Float32Array(64), 8, 8) });
      expect(work(edit)).toEqual(FIRST);
      expect(logger.lines.some((l) => l.level === 'warn' && /stored mask does not fit/.test(l.msg))).toBe(true);
    } finally {
      await engine.close();
    }
  });
});

describe('with a disk cache', () => {
  it('survives a new engine instance (a restart): the Reroll runs only the decoding and matches a fresh run', async () => {
    const dir = await tempDir();
    const before = await tinyEngine({}, { cache: await DiskStageCache.open(dir, { maxBytes: 64 * 1024 * 1024 }) });
    try {
      expect(work(await before.run(request))).toEqual(FIRST);
    } finally {
      await before.close();
    }
    const after = await tinyEngine({}, { cache: await DiskStageCache.open(dir, { maxBytes: 64 * 1024 * 1024 }) });
    try {
      const reroll = await after.run({ ...request, seed: 5 });
      expect(work(reroll)).toEqual(DECODE_ONLY);
      expect(bytes(reroll).equals(bytes(await plain.run({ ...request, seed: 5 })))).toBe(true);
    } finally {
      await after.close();
    }
  });

  it('a corrupt entry is ignored (logged, recomputed) and the job gives the right picture', async () => {
    const dir = await tempDir();
    const first = await tinyEngine({}, { cache: await DiskStageCache.open(dir, { maxBytes: 64 * 1024 * 1024 }) });
    try {
      await first.run(request);
    } finally {
      await first.close();
    }
    const files = await readdir(dir);
    expect(files).toHaveLength(2);
    for (const name of files) {
      const data = await readFile(path.join(dir, name));
      data[data.length >> 1] = (data[data.length >> 1] as number) ^ 0xff;
      await writeFile(path.join(dir, name), data);
    }
    const logger = recordingLogger();
    const engine = await tinyEngine({}, { cache: await DiskStageCache.open(dir, { maxBytes: 64 * 1024 * 1024, logger }) });
    try {
      const again = await engine.run(request);
      expect(work(again)).toEqual(FIRST);
      expect(bytes(again).equals(bytes(await plain.run(request)))).toBe(true);
      expect(logger.lines.filter((l) => l.level === 'warn' && /corrupt/.test(l.msg))).toHaveLength(2);
    } finally {
      await engine.close();
    }
  });
});

import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { digest } from '../../../src/engine/cache/cache-keys.js';
import { decodeEntry, DiskStageCache, encodeEntry } from '../../../src/engine/cache/disk-cache.js';
import { openStageCache } from '../../../src/engine/cache/open-cache.js';
import { recordingLogger } from '../../bot/harness.js';

const key = (name: string) => digest([name]);
const floats = (n: number, value: number) => Float32Array.from({ length: n }, (_, i) => value + i / 7);
/** Bytes of an entry file holding arrays of these lengths. */
const fileBytes = (...lengths: number[]) => 4 + 32 + 4 + 4 * lengths.length + 4 * lengths.reduce((a, b) => a + b, 0) + 32;

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'diffedit-disk-cache-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('entry files', () => {
  it('round-trip arrays exactly, empty ones included', () => {
    const arrays = [floats(5, 0.5), new Float32Array(0), Float32Array.of(-0, Infinity, NaN, 1e-40)];
    const decoded = decodeEntry(encodeEntry(key('a'), arrays), key('a'));
    expect(decoded?.map((a) => Array.from(a))).toEqual(arrays.map((a) => Array.from(a)));
    expect(encodeEntry(key('a'), arrays)).toHaveLength(fileBytes(5, 0, 4));
  });

  it.each<[string, (b: Buffer) => Buffer]>([
    ['a flipped byte', (b) => Buffer.concat([b.subarray(0, 50), Buffer.from([(b[50] as number) ^ 1]), b.subarray(51)])],
    ['a truncated file', (b) => b.subarray(0, b.length - 10)],
    ['an empty file', () => Buffer.alloc(0)],
    ['trailing garbage', (b) => Buffer.concat([b, Buffer.from('x')])],
  ])('%s is refused', (_name, damage) => {
    expect(decodeEntry(damage(encodeEntry(key('a'), [floats(8, 1)])), key('a'))).toBeUndefined();
  });

  it("another key's file is refused", () => {
    expect(decodeEntry(encodeEntry(key('a'), [floats(8, 1)]), key('b'))).toBeUndefined();
  });
});

describe('disk stage cache', () => {
  it('keeps entries across a reopen (a restart)', async () => {
    const first = await DiskStageCache.open(dir, { maxBytes: 1 << 20 });
    await first.set(key('a'), [floats(10, 1), floats(3, 2)]);
    const second = await DiskStageCache.open(dir, { maxBytes: 1 << 20 });
    expect(second.usedBytes).toBe(fileBytes(10, 3));
    expect((await second.get(key('a')))?.map((a) => Array.from(a))).toEqual([Array.from(floats(10, 1)), Array.from(floats(3, 2))]);
    expect(await second.get(key('b'))).toBeUndefined();
  });

  it('evicts the least recently used entries past the cap, also when reopened with a lower cap', async () => {
    const cache = await DiskStageCache.open(dir, { maxBytes: 3 * fileBytes(100) });
    for (const name of ['a', 'b', 'c']) await cache.set(key(name), [floats(100, 1)]);
    await cache.get(key('a'));
    await cache.set(key('d'), [floats(100, 1)]);
    expect(await cache.get(key('b'))).toBeUndefined();
    expect(await cache.get(key('a'))).toBeDefined();
    expect((await readdir(dir)).sort()).toEqual(['a', 'c', 'd'].map((n) => `${key(n)}.stage`).sort());
    const smaller = await DiskStageCache.open(dir, { maxBytes: fileBytes(100) });
    expect(smaller.usedBytes).toBe(fileBytes(100));
    expect(await readdir(dir)).toHaveLength(1);
  });

  it('a corrupt entry is a logged miss and is removed; other files in the directory are left alone', async () => {
    const logger = recordingLogger();
    const cache = await DiskStageCache.open(dir, { maxBytes: 1 << 20, logger });
    await cache.set(key('a'), [floats(10, 1)]);
    const file = path.join(dir, `${key('a')}.stage`);
    const data = await readFile(file);
    data[60] = (data[60] as number) ^ 0xff;
    await writeFile(file, data);
    await writeFile(path.join(dir, 'notes.txt'), 'not ours');
    expect(await cache.get(key('a'))).toBeUndefined();
    expect(logger.lines.some((l) => l.level === 'warn' && /corrupt/.test(l.msg))).toBe(true);
    expect(await readdir(dir)).toEqual(['notes.txt']);
    expect(cache.usedBytes).toBe(0);
  });

  it('removes leftovers of interrupted writes on open', async () => {
    await writeFile(path.join(dir, `${key('a')}.stage.abcdefgh.tmp`), 'half');
    await DiskStageCache.open(dir, { maxBytes: 1 << 20 });
    expect(await readdir(dir)).toEqual([]);
  });

  it('a failed write (the directory gone) is logged and not thrown; the cache keeps working after', async () => {
    const logger = recordingLogger();
    const cache = await DiskStageCache.open(dir, { maxBytes: 1 << 20, logger });
    await rm(dir, { recursive: true });
    await expect(cache.set(key('a'), [floats(10, 1)])).resolves.toBeUndefined();
    expect(logger.lines.some((l) => l.level === 'warn' && /write failed/.test(l.msg))).toBe(true);
    expect(await cache.get(key('a'))).toBeUndefined();
  });

  it('an unusable directory costs only the disk tier: the memory tier still serves', async () => {
    const file = path.join(dir, 'a-file');
    await writeFile(file, 'in the way');
    const logger = recordingLogger();
    const cache = await openStageCache(path.join(file, 'cache'), { memoryBytes: 1 << 20, diskBytes: 1 << 20, logger });
    await cache?.set(key('a'), [floats(4, 1)]);
    expect((await cache?.get(key('a')))?.[0]?.[0]).toBe(1);
    expect(logger.lines.some((l) => l.level === 'warn' && /memory only/.test(l.msg))).toBe(true);
    expect((await stat(file)).isFile()).toBe(true);
  });

  it('both tiers off: no cache', async () => {
    expect(await openStageCache(dir, { memoryBytes: 0, diskBytes: 0, logger: recordingLogger() })).toBeUndefined();
  });
});

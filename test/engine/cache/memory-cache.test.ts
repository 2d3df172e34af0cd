import { describe, expect, it } from 'vitest';
import { MemoryStageCache } from '../../../src/engine/cache/memory-cache.js';
import { TieredStageCache } from '../../../src/engine/cache/stage-cache.js';

const floats = (n: number, value = 1) => new Float32Array(n).fill(value);

describe('memory stage cache', () => {
  it('returns what was stored and evicts the least recently used entries past the byte cap', async () => {
    const cache = new MemoryStageCache(3 * 400);
    await cache.set('a', [floats(100, 1)]);
    await cache.set('b', [floats(100, 2)]);
    await cache.set('c', [floats(50, 3), floats(50, 4)]);
    expect((await cache.get('a'))?.[0]?.[0]).toBe(1); // a is now the most recently used
    await cache.set('d', [floats(100, 5)]);
    expect(await cache.get('b')).toBeUndefined();
    expect((await cache.get('a'))?.[0]?.[0]).toBe(1);
    expect((await cache.get('c'))?.map((x) => x[0])).toEqual([3, 4]);
    expect(cache.usedBytes).toBe(1200);
  });

  it('does not keep an entry larger than the whole cap', async () => {
    const cache = new MemoryStageCache(100);
    await cache.set('big', [floats(26)]);
    expect(await cache.get('big')).toBeUndefined();
    expect(cache.usedBytes).toBe(0);
  });

  it('a tiered cache copies hits from the slow tier up', async () => {
    const fast = new MemoryStageCache(1000);
    const slow = new MemoryStageCache(1000);
    await slow.set('k', [floats(10, 7)]);
    const tiered = new TieredStageCache(fast, slow);
    expect((await tiered.get('k'))?.[0]?.[0]).toBe(7);
    expect((await fast.get('k'))?.[0]?.[0]).toBe(7);
    await tiered.set('j', [floats(10, 8)]);
    expect((await slow.get('j'))?.[0]?.[0]).toBe(8);
  });
});

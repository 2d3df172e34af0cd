import { describe, expect, it } from 'vitest';
import { LruIndex } from '../../src/util/lru-index.js';

/** An index holding `entries` ([key, bytes, lastUsed]). */
function indexOf(entries: [string, number, number][]): LruIndex {
  const index = new LruIndex();
  for (const [key, bytes, lastUsed] of entries) index.track(key, bytes, lastUsed);
  return index;
}

describe('LruIndex', () => {
  const three: [string, number, number][] = [
    ['b', 30, 2],
    ['a', 10, 1],
    ['c', 50, 3],
  ];

  it.each([
    { downTo: 90, keep: undefined, victims: [], used: 90 },
    { downTo: 80, keep: undefined, victims: ['a'], used: 80 },
    { downTo: 50, keep: undefined, victims: ['a', 'b'], used: 50 },
    { downTo: 0, keep: undefined, victims: ['a', 'b', 'c'], used: 0 },
    { downTo: 50, keep: 'a', victims: ['b', 'c'], used: 10 },
    { downTo: 0, keep: 'c', victims: ['a', 'b'], used: 50 },
  ])('down to $downTo bytes, keeping $keep: $victims go', ({ downTo, keep, victims, used }) => {
    const index = indexOf(three);
    expect(index.takeVictims(downTo, keep)).toEqual(victims);
    expect(index.usedBytes).toBe(used);
    expect(index.size).toBe(3 - victims.length);
    for (const key of victims) expect(index.get(key)).toBeUndefined();
    // Taken once: a second caller finds nothing more to evict for the same target.
    expect(index.takeVictims(downTo, keep)).toEqual([]);
  });

  it('tracking a key again replaces its bytes and moves it in the order', () => {
    const index = indexOf(three);
    index.track('a', 20, index.tick());
    expect(index.usedBytes).toBe(100);
    expect(index.takeVictims(70)).toEqual(['b']);
  });

  it('untracking forgets a key and its bytes; unknown keys are ignored', () => {
    const index = indexOf(three);
    index.untrack('b');
    index.untrack('nope');
    expect(index.usedBytes).toBe(60);
    expect(index.get('b')).toBeUndefined();
  });

  it('tick is strictly later than every use seen, even one in the future', () => {
    const future = Date.now() + 60_000;
    const index = indexOf([['x', 1, future]]);
    const first = index.tick();
    expect(first).toBeGreaterThan(future);
    expect(index.tick()).toBe(first + 1);
  });
});

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ThrottledStatus } from '../../src/bot/throttled-status.js';

describe('ThrottledStatus', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('sends the first text at once, then at most one edit per interval, the latest text winning', async () => {
    const sent: [number, string][] = [];
    const status = new ThrottledStatus(async (c) => {
      sent.push([Date.now(), c]);
    }, 2000);
    const start = Date.now();
    status.update('a');
    status.update('b');
    status.update('c');
    await vi.advanceTimersByTimeAsync(1999);
    expect(sent.map(([, c]) => c)).toEqual(['a']);
    await vi.advanceTimersByTimeAsync(1);
    expect(sent.map(([, c]) => c)).toEqual(['a', 'c']);
    expect((sent[1]?.[0] ?? 0) - start).toBe(2000);
    await status.stop();
  });

  it('never has two edits in flight, and stop() drops pending text and waits for the one in flight', async () => {
    let inFlight = 0;
    let most = 0;
    const sent: string[] = [];
    const status = new ThrottledStatus(async (c) => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((r) => setTimeout(r, 5000));
      sent.push(c);
      inFlight--;
    }, 100);
    status.update('a');
    await vi.advanceTimersByTimeAsync(200);
    status.update('b');
    const stopped = status.stop();
    await vi.advanceTimersByTimeAsync(5000);
    await stopped;
    expect(most).toBe(1);
    expect(sent).toEqual(['a']);
  });

  it('a failing edit is reported and later edits still go out', async () => {
    const errors: unknown[] = [];
    const sent: string[] = [];
    let first = true;
    const status = new ThrottledStatus(
      async (c) => {
        if (first) {
          first = false;
          throw new Error('rate limited');
        }
        sent.push(c);
      },
      10,
      (e) => errors.push(e),
    );
    status.update('a');
    await vi.advanceTimersByTimeAsync(20);
    status.update('b');
    await vi.advanceTimersByTimeAsync(20);
    expect(errors).toHaveLength(1);
    expect(sent).toEqual(['b']);
    await status.stop();
  });
});

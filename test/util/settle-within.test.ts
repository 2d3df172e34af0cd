import { describe, expect, it } from 'vitest';
import { settleWithin, TookTooLong, within } from '../../src/util/settle-within.js';

const after = <T>(ms: number, value: T, fail = false) =>
  new Promise<T>((resolve, reject) => setTimeout(() => (fail ? reject(new Error(String(value))) : resolve(value)), ms));

describe('settleWithin', () => {
  it.each([
    { what: 'answers in time', work: () => after(5, 'ok'), ms: 200, expected: { value: 'ok' } },
    { what: 'fails in time', work: () => after(5, 'broken', true), ms: 200, expected: { error: 'broken' } },
    { what: 'answers too late', work: () => after(300, 'late'), ms: 20, expected: { error: 'no answer within 20 ms' } },
    { what: 'never answers', work: () => new Promise<string>(() => undefined), ms: 20, expected: { error: 'no answer within 20 ms' } },
  ])('$what', async ({ work, ms, expected }) => {
    const settled = await settleWithin(work(), ms).then(
      (value) => ({ value }),
      (error: unknown) => ({ error: (error as Error).message }),
    );
    expect(settled).toEqual(expected);
  });

  it('says how long it waited, as a typed error', async () => {
    await expect(settleWithin(new Promise(() => undefined), 10)).rejects.toBeInstanceOf(TookTooLong);
    await expect(settleWithin(new Promise(() => undefined), 10)).rejects.toMatchObject({ ms: 10 });
  });
});

describe('within', () => {
  it.each([
    { what: 'done in time', work: () => after(5, 'ok'), expected: { value: 'done' } },
    { what: 'too late', work: () => after(300, 'late'), expected: { value: 'timeout' } },
    { what: 'failed in time: passed on', work: () => after(5, 'broken', true), expected: { error: 'broken' } },
  ])('$what', async ({ work, expected }) => {
    const settled = await within(work(), 50).then(
      (value) => ({ value }),
      (error: unknown) => ({ error: (error as Error).message }),
    );
    expect(settled).toEqual(expected);
  });
});

import { describe, expect, it } from 'vitest';
import { isPackedMask, packMask, unpackMask } from '../../../src/engine/diffedit/packed-mask.js';

describe('packed masks', () => {
  it.each([
    ['empty', 4, 4, () => 0],
    ['full', 4, 4, () => 1],
    ['a checkerboard, not a multiple of 8 cells', 3, 5, (i: number) => i % 2],
    ['a 64 x 64 block', 64, 64, (i: number) => (i % 64 > 20 && i % 64 < 40 ? 1 : 0)],
  ])('%s round-trips exactly', (_name, width, height, cell) => {
    const mask = Float32Array.from({ length: width * height }, (_, i) => cell(i));
    const packed = packMask(mask, width, height);
    expect(isPackedMask(JSON.parse(JSON.stringify(packed)))).toBe(true);
    expect(Array.from(unpackMask(packed) ?? [])).toEqual(Array.from(mask));
  });

  it('a 64 x 64 mask takes 684 characters', () => {
    expect(packMask(new Float32Array(4096), 64, 64).bits).toHaveLength(684);
  });

  it.each([
    ['too few bits', { width: 64, height: 64, bits: 'AAAA' }],
    ['not base64', { width: 2, height: 2, bits: '!!' }],
    ['a zero side', { width: 0, height: 4, bits: '' }],
    ['a fractional side', { width: 1.5, height: 4, bits: 'AA==' }],
  ])('%s is refused', (_name, packed) => {
    expect(unpackMask(packed)).toBeUndefined();
  });

  it('refuses a mask whose cell count does not match its sides', () => {
    expect(() => packMask(new Float32Array(10), 4, 4)).toThrow(RangeError);
  });
});

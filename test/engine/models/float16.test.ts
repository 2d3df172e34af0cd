import { describe, expect, it } from 'vitest';
import { float16ToFloat32, float32ToFloat16, fromHalfBits, toHalfBits } from '../../../src/engine/models/float16.js';

describe('float16 bits', () => {
  it.each([
    [0, 0x0000],
    [-0, 0x8000],
    [1, 0x3c00],
    [-2, 0xc000],
    [0.5, 0x3800],
    [65504, 0x7bff],
    [65520, 0x7c00], // rounds up to infinity
    [Infinity, 0x7c00],
    [-Infinity, 0xfc00],
    [2 ** -24, 0x0001], // smallest subnormal
    [2 ** -14, 0x0400], // smallest normal
    [0.1, 0x2e66],
    [0.18215, 0x31d4],
  ])('%f <-> 0x%s', (value, bits) => {
    expect(toHalfBits(value)).toBe(bits);
    if (Number.isFinite(value) && Math.abs(value) < 65505) expect(fromHalfBits(bits)).toBeCloseTo(value, 3);
  });

  it('NaN stays NaN', () => {
    expect(Number.isNaN(fromHalfBits(toHalfBits(NaN)))).toBe(true);
  });

  it('rounds to nearest even halfway between two halves', () => {
    // 1 + 2^-11 is exactly halfway between 1 and 1 + 2^-10: ties to even (1).
    expect(toHalfBits(1 + 2 ** -11)).toBe(0x3c00);
    expect(toHalfBits(1 + 3 * 2 ** -11)).toBe(0x3c02);
  });

  it('round-trips arrays within half precision', () => {
    const values = Float32Array.from([-3.5, -0.001, 0, 0.25, 7.75, 1000]);
    const back = float16ToFloat32(float32ToFloat16(values));
    back.forEach((v, i) => expect(Math.abs(v - (values[i] as number))).toBeLessThanOrEqual(Math.abs(values[i] as number) * 1e-3 + 1e-7));
  });
});

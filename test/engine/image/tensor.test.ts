import { describe, expect, it } from 'vitest';
import { imageToTensor, tensorToImage } from '../../../src/engine/image/tensor.js';
import { rawRgb } from './fixtures.js';

describe('imageToTensor / tensorToImage', () => {
  // 16x16 x 3 channels = 768 values: every 8-bit value appears in every channel.
  const img = { width: 16, height: 16, data: rawRgb(16, 16, (x, y) => [y * 16 + x, 255 - (y * 16 + x), (y * 16 + x + 85) & 255]) };

  it('lays the picture out as NCHW planes in [-1, 1]', () => {
    const t = imageToTensor(img);
    expect(t.length).toBe(3 * 16 * 16);
    expect(t[0]).toBe(-1); // R of pixel 0 is 0
    expect(t[255]).toBe(1); // R of pixel 255 is 255
    expect(t[256]).toBe(1); // G plane starts: G of pixel 0 is 255
    expect(t[512]).toBeCloseTo(85 / 127.5 - 1, 6); // B plane starts
    for (const v of t) {
      expect(v).toBeGreaterThanOrEqual(-1);
      expect(v).toBeLessThanOrEqual(1);
    }
  });

  it('round-trips every 8-bit value exactly', () => {
    const back = tensorToImage(imageToTensor(img), 16, 16);
    expect(back.width).toBe(16);
    expect(back.height).toBe(16);
    expect(Array.from(back.data)).toEqual(Array.from(img.data));
  });

  it('reads one item of a batch at an offset', () => {
    const t = imageToTensor(img);
    const batch = new Float32Array(2 * t.length);
    batch.set(t, t.length);
    expect(Array.from(tensorToImage(batch, 16, 16, t.length).data)).toEqual(Array.from(img.data));
  });

  it('clamps out-of-range values and maps NaN to 0', () => {
    const t = new Float32Array(3).fill(0);
    t[0] = -3;
    t[1] = 7;
    t[2] = Number.NaN;
    expect(Array.from(tensorToImage(t, 1, 1).data)).toEqual([0, 255, 0]);
  });

  it('refuses a tensor too short for the dimensions', () => {
    expect(() => tensorToImage(new Float32Array(10), 2, 2)).toThrow(RangeError);
    expect(() => tensorToImage(new Float32Array(12), 2, 2, 1)).toThrow(RangeError);
  });
});

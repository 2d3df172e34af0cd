import { describe, expect, it } from 'vitest';
import { blend, blendWeights, dilationRadius, featherWeight, featherWidth, squaredDistances } from '../../../src/engine/image/composite.js';
import type { GrayMask, RgbImage } from '../../../src/engine/image/types.js';

/** A mask of `width` x `height` with the listed pixels on. */
function maskWith(width: number, height: number, on: readonly (readonly [number, number])[]): GrayMask {
  const data = new Uint8Array(width * height);
  for (const [x, y] of on) data[y * width + x] = 255;
  return { width, height, data };
}

describe('dilation radius and feather width', () => {
  it.each([
    // scale (photo px per model px), cell (model px per latent cell), radius
    [1, 8, 8],
    [3.125, 8, 25],
    [12.5, 8, 100],
    [4, 8, 32],
    [0.5, 8, 4],
    [1.01, 8, 9],
    [1, 2, 2],
  ])('scale %s with %s-pixel cells: radius %s', (scale, cell, radius) => {
    expect(dilationRadius(scale, cell)).toBe(radius);
  });

  it.each([
    [1, 2],
    [3.125, 6],
    [12.5, 25],
    [0.5, 1],
    [0.1, 1],
  ])('scale %s: feather %s', (scale, feather) => {
    expect(featherWidth(scale)).toBe(feather);
  });

  it.each([0, -1, Number.NaN])('refuses scale %s', (scale) => {
    expect(() => dilationRadius(scale, 8)).toThrow(RangeError);
    expect(() => featherWidth(scale)).toThrow(RangeError);
  });
});

describe('featherWeight', () => {
  it.each([
    // distance, radius, feather, weight
    [0, 8, 2, 1],
    [8, 8, 2, 1],
    [9, 8, 2, 0.5],
    [10, 8, 2, 0],
    [1e6, 8, 2, 0],
    [26, 25, 6, 5 / 6],
    [28.5, 25, 6, 2.5 / 6],
    [31, 25, 6, 0],
    [0.5, 0, 1, 0.5],
  ])('distance %s, radius %s, feather %s: %s', (distance, radius, feather, weight) => {
    expect(featherWeight(distance, radius, feather)).toBeCloseTo(weight, 12);
  });
});

describe('squaredDistances', () => {
  it('matches brute force on a scattered mask', () => {
    const [w, h] = [23, 17];
    const on: [number, number][] = [
      [0, 0],
      [5, 9],
      [22, 3],
      [11, 16],
      [12, 16],
    ];
    const mask = maskWith(w, h, on);
    const got = squaredDistances(mask.data, w, h);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const want = Math.min(...on.map(([px, py]) => (px - x) ** 2 + (py - y) ** 2));
        expect(got[y * w + x], `(${x}, ${y})`).toBe(want);
      }
    }
  });

  it('is Infinity everywhere for an empty mask', () => {
    expect([...squaredDistances(new Uint8Array(12), 4, 3)].every((d) => d === Infinity)).toBe(true);
  });
});

describe('blendWeights', () => {
  it('is 1 within the radius, feathered beyond, 0 from radius + feather on', () => {
    const weights = blendWeights(maskWith(40, 1, [[10, 0]]), 3, 4);
    expect(Array.from(weights.subarray(3, 19))).toEqual([0, 0.25, 0.5, 0.75, 1, 1, 1, 1, 1, 1, 1, 0.75, 0.5, 0.25, 0, 0]);
    expect(weights.subarray(19).every((v) => v === 0)).toBe(true);
  });

  it('uses Euclidean distance (a diagonal neighbour is sqrt 2 away)', () => {
    const weights = blendWeights(maskWith(5, 5, [[2, 2]]), 1, 1);
    expect(weights[0]).toBe(0); // (0, 0): 2.83 away
    expect(weights[1 * 5 + 1]).toBeCloseTo(2 - Math.SQRT2, 6); // (1, 1): 1.41 away
    expect(weights[1 * 5 + 2]).toBe(1); // (2, 1): 1 away
  });

  it('is all 0 for an empty mask', () => {
    expect(blendWeights(maskWith(6, 6, []), 3, 2).every((v) => v === 0)).toBe(true);
  });
});

describe('blend', () => {
  const base: RgbImage = { width: 3, height: 1, data: Uint8Array.from([10, 20, 30, 40, 50, 60, 70, 80, 90]) };
  const edited: RgbImage = { width: 3, height: 1, data: Uint8Array.from([200, 201, 202, 100, 150, 200, 0, 0, 0]) };

  it('copies the base where the weight is 0, the edit where it is 1, and rounds the mix between', () => {
    const out = blend(base, edited, Float32Array.from([1, 0.5, 0]));
    expect(Array.from(out.data)).toEqual([200, 201, 202, 70, 100, 130, 70, 80, 90]);
  });

  it('refuses mismatched sizes', () => {
    expect(() => blend(base, edited, new Float32Array(2))).toThrow(RangeError);
  });
});

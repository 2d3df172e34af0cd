/**
 * Seeded random numbers for the tiny models' weights: the same seed gives the same bytes on every machine.
 */

/** A small, fast 32-bit PRNG (mulberry32) with a Box-Muller normal sampler. */
export class Random {
  private state: number;
  private spare: number | undefined;

  constructor(seed: number) {
    // Mix the seed so that nearby seeds don't give correlated streams.
    this.state = (Math.imul((seed | 0) ^ 0x9e3779b9, 0x85ebca6b) ^ 0xc2b2ae35) >>> 0;
    this.spare = undefined;
  }

  /** Uniform in [0, 1). */
  uniform(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Standard normal. */
  normal(): number {
    if (this.spare !== undefined) {
      const value = this.spare;
      this.spare = undefined;
      return value;
    }
    let u = this.uniform();
    while (u <= 1e-12) u = this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** `count` values from N(0, std²). */
  normals(count: number, std: number): Float32Array {
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++) out[i] = this.normal() * std;
    return out;
  }

  /** `count` values uniform in [-limit, limit): cheaper than normals for the big benchmark weights. */
  uniforms(count: number, limit: number): Float32Array {
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++) out[i] = (this.uniform() * 2 - 1) * limit;
    return out;
  }
}

/** Half-precision conversion: the engine's own, so generated fp16 weights round exactly as the engine reads them. */
export { float32ToFloat16 as toFloat16Array, fromHalfBits as fromFloat16Bits, toHalfBits as toFloat16Bits } from '../../src/engine/models/float16.js';

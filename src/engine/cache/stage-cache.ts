/**
 * The cache of an edit's expensive, seed-independent stages (the mask and the inverted latents), as the engine sees
 * it: arrays of floats under a key that names everything they depend on (cache-keys.ts). Narrow on purpose: the bot
 * and the worker pass one rooted in their DATA_DIR (memory over disk), tests a memory one, the CLI none.
 */

/** A cache of float arrays by key. Neither method throws: a broken or unreadable entry is a miss. */
export interface StageCache {
  /** The arrays stored under `key`, or undefined. */
  get(key: string): Promise<Float32Array[] | undefined>;
  /** Stores `arrays` under `key` (the caller does not modify them afterwards); a failure only costs the cache. */
  set(key: string, arrays: readonly Float32Array[]): Promise<void>;
}

/** Bytes an entry holds. */
export function entryBytes(arrays: readonly Float32Array[]): number {
  return arrays.reduce((sum, a) => sum + a.byteLength, 0);
}

/** A memory cache in front of a slower one: hits from below are copied up. */
export class TieredStageCache implements StageCache {
  constructor(
    private readonly fast: StageCache,
    private readonly slow: StageCache,
  ) {}

  async get(key: string): Promise<Float32Array[] | undefined> {
    const near = await this.fast.get(key);
    if (near !== undefined) return near;
    const far = await this.slow.get(key);
    if (far !== undefined) await this.fast.set(key, far);
    return far;
  }

  async set(key: string, arrays: readonly Float32Array[]): Promise<void> {
    await this.fast.set(key, arrays);
    await this.slow.set(key, arrays);
  }
}

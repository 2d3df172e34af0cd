/**
 * The seed-independent stages of a job (the mask and the inverted latents), each taken from where it is cheapest:
 * the request (a stored mask), the stage cache, or computed and then cached. engine.ts calls these between its
 * preparation and its decoding, so that a Reroll runs only the decoding.
 */
import type { StageCache } from './cache/stage-cache.js';
import type { LatentShape } from './diffedit/latents.js';
import { unpackMask, type PackedMask } from './diffedit/packed-mask.js';

/** A stage's arrays and whether they were computed now. */
export interface StageOutput {
  readonly arrays: Float32Array[];
  readonly computed: boolean;
}

/** The arrays under `key` in `cache`, else `compute()`'s, stored under `key`. Without a cache or key: computed. */
export async function cachedStage(
  cache: StageCache | undefined,
  key: string | undefined,
  compute: () => Promise<Float32Array[]>,
): Promise<StageOutput> {
  if (cache === undefined || key === undefined) return { arrays: await compute(), computed: true };
  const hit = await cache.get(key);
  if (hit !== undefined) return { arrays: hit, computed: false };
  const arrays = await compute();
  await cache.set(key, arrays);
  return { arrays, computed: true };
}

/** The one array of a one-array stage (the mask). */
export function soleArray(output: StageOutput): Float32Array {
  const [array] = output.arrays;
  if (array === undefined || output.arrays.length !== 1) throw new RangeError(`expected one array, got ${output.arrays.length}`);
  return array;
}

/**
 * The latent mask a request carries ("Edit with this mask"), when it fits this job's latent `shape`; undefined
 * (the mask is computed from the mask seed instead) when it is malformed or was made at another model size.
 */
export function requestedMask(packed: PackedMask, shape: LatentShape): Float32Array | undefined {
  if (packed.width !== shape.width || packed.height !== shape.height) return undefined;
  return unpackMask(packed);
}

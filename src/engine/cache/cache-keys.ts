/**
 * Cache keys of the seed-independent stages, each naming exactly what its output depends on, so that a hit is
 * always the value a fresh computation would give and anything else is a miss:
 *
 *  - the mask's difference map (every area step thresholds the same map): the models, the model size, the picture,
 *    both prompts, the mask seed and the mask's parameters (not the edit's steps: the mask's timestep has a grid of
 *    its own);
 *  - the inverted latents: the models, the model size, the picture, steps, strength and the inversion's
 *    conditioning, with the ref prompt when that conditioning uses it.
 *
 * The edit seed, guidance and eta are in neither: a Reroll or a repeat with other decoding parameters hits both.
 */
import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import type { StableDiffusion } from '../models/stable-diffusion.js';
import type { EditParameters } from '../parameters.js';

/** What both stages depend on besides their own parameters. */
export interface StageInputs {
  /** {@link modelIdentity} of the loaded models. */
  readonly model: string;
  /** The engine's model size (the picture's long side at model resolution). */
  readonly size: number;
  /**
   * The photo's long-side cap (MAX_OUTPUT_SIDE): the model's picture is resized from the capped photo, so its pixels
   * depend on it too.
   */
  readonly outputSide: number;
  /** {@link imageDigest} of the picture's bytes. */
  readonly image: string;
  /** The cleaned prompts. */
  readonly ref: string;
  readonly query: string;
}

/** The key of a job's mask. */
export function maskKey(inputs: StageInputs, parameters: EditParameters): string {
  const { maskSeed, maskDraws, maskStrength, thresholding, dilate } = parameters;
  const { model, size, outputSide, image, ref, query } = inputs;
  return digest(['mask-map', model, size, outputSide, image, ref, query, maskSeed, maskDraws, maskStrength, thresholding, dilate]);
}

/** The key of a job's inverted latents (the DDIM decoder's; the inpainting decoder has none). */
export function inversionKey(inputs: StageInputs, parameters: EditParameters): string {
  const { inversion, steps, strength } = parameters;
  // An unconditional inversion reads the empty prompt only: any ref shares it.
  const ref = inversion === 'ref' ? inputs.ref : null;
  return digest(['inversion', inputs.model, inputs.size, inputs.outputSide, inputs.image, ref, steps, strength, inversion]);
}

/** SHA-256 of the picture's bytes, hex. */
export function imageDigest(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * What identifies the loaded models for the cache: the files of the models the stages run (path, size, mtime: a
 * re-downloaded or re-optimised export is another model; SDXL's second text encoder too), the family (what the UNet
 * is fed), the scheduler (its prediction type included), the VAE's scale, and the UNet's provider
 * (providers differ in the last bits, which can move a mask threshold).
 */
export async function modelIdentity(models: StableDiffusion): Promise<string> {
  const { textEncoder, textEncoder2, unet, vaeEncoder } = models.contract;
  const files = await Promise.all(
    [textEncoder.file, ...(textEncoder2 ? [textEncoder2.file] : []), unet.file, vaeEncoder.file].map(async (file) => {
      const info = await stat(file);
      return [file, info.size, info.mtimeMs];
    }),
  );
  return digest(['models', files, models.family, models.scheduler, models.latentScale, models.vaeScaleFactor, models.providers.unet ?? 'cpu']);
}

/** SHA-256, hex, of the values' JSON (object keys sorted, so that key order never changes a key). */
export function digest(values: readonly unknown[]): string {
  return createHash('sha256').update(JSON.stringify(values, sortedKeys)).digest('hex');
}

function sortedKeys(_key: string, value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  return Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

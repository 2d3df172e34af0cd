/**
 * DiffEdit steps 2 and 3: DDIM-encode (invert) the image latents up to the encode ratio, keeping every
 * intermediate; then decode with the query under classifier-free guidance, and after each step put back, outside
 * the mask, the inverted latent of the same noise level (the clean latents after the last).
 *
 * Inversion conditioning ({@link InversionConditioning}): the paper inverts unconditionally ('uncond', the empty
 * prompt's embedding); diffusers' `StableDiffusionDiffEditPipeline.invert` defaults to guidance 7.5 on the source
 * prompt; 'ref' here is the source prompt at guidance 1 (one UNet item per step, no guidance). The default is
 * the one with the lower reconstruction error in `npm run bench:inversion` (docs/how-it-works.md, "Inversion conditioning").
 *
 * Blending level: after the step t -> t - ratio the latents are at noise level t - ratio, so the inverted latent
 * blended in outside the mask is the one of level t - ratio, and the clean latents after the last step. diffusers'
 * DiffEdit `__call__` blends `image_latents[i]`, the level the step started from (one level behind: the outside
 * is then one step noisier than the inside, and the last step leaves the level-t_1 latent outside instead of the
 * clean one). The paper's decoding step is M y_t + (1 - M) x_t: the decoded and the encoded latent of the same t.
 *
 * Rerolls: deterministic DDIM from an inverted start barely depends on the seed, so decoding uses eta > 0
 * (default 0.5): each step adds sigma_t z with z from the seed, inside the mask only, as the blend
 * overwrites the outside. A new seed then visibly changes the edited region and nothing else.
 */
import type { StableDiffusion } from '../models/stable-diffusion.js';
import type { GaussianSource } from '../noise.js';
import {
  addNoise,
  applyGuidance,
  ddimInverseStep,
  ddimSchedule,
  ddimStep,
  ddimTimesteps,
  timestepsForStrength,
  type DdimSchedule,
} from '../scheduler.js';
import { blendInPlace, concat, latentSize, row, type LatentShape } from './latents.js';
import { checkpoint, type RunControls } from './progress.js';

/** What the inversion conditions the UNet on: the empty prompt (the paper) or ref at guidance 1. */
export const INVERSION_CONDITIONINGS = ['uncond', 'ref'] as const;
export type InversionConditioning = (typeof INVERSION_CONDITIONINGS)[number];

/** Parameters of the edit. */
export interface EditOptions {
  /** DDIM steps over the full schedule (default 50); the edit runs int(steps * strength) of them. */
  readonly steps: number;
  /** The encode ratio r (default 0.8). */
  readonly strength: number;
  /** Classifier-free guidance scale for decoding (default 7.5). */
  readonly guidance: number;
  /** DDIM eta while decoding (0 = deterministic). */
  readonly eta: number;
  /** The inversion's conditioning. */
  readonly inversion: InversionConditioning;
}

/** Prompt embedding rows ([77 * hidden] each). */
export interface EditPrompts {
  readonly uncond: Float32Array;
  readonly ref: Float32Array;
  readonly query: Float32Array;
}

/** What both decoders need besides their starting point. */
export interface DecodeInputs {
  readonly shape: LatentShape;
  /** The latent mask, [h*w] in 0..1: 1 = re-draw here. */
  readonly mask: Float32Array;
  readonly prompts: EditPrompts;
  /** The decoding noise (eta > 0, and the inpainting decoder's start). */
  readonly noise: GaussianSource;
  readonly options: EditOptions;
}

/** The timesteps an edit at `options` runs, noisiest first. */
export function editTimesteps(sd: StableDiffusion, options: EditOptions): number[] {
  return timestepsForStrength(ddimTimesteps(sd.scheduler, options.steps), options.strength);
}

/**
 * DDIM inversion of `x0`, one UNet item per step, conditioned on the empty prompt or on ref as `options.inversion`
 * says (no guidance either way; diffusers' `invert` would run ref at guidance 7.5, two items per step).
 * Returns the latents at every level: [x0, level t_1, ..., level t_m] for ascending timesteps t.
 */
export async function invertLatents(
  sd: StableDiffusion,
  x0: Float32Array,
  shape: LatentShape,
  prompts: Pick<EditPrompts, 'uncond' | 'ref'>,
  options: EditOptions,
  controls: RunControls = {},
): Promise<Float32Array[]> {
  const schedule = ddimSchedule(sd.scheduler, options.steps);
  const embedding = options.inversion === 'ref' ? prompts.ref : prompts.uncond;
  const ascending = editTimesteps(sd, options).reverse();
  const levels: Float32Array[] = [x0];
  let latents = x0;
  for (const [i, t] of ascending.entries()) {
    const eps = await sd.predictNoise('standard', latents, [1, shape.channels, shape.height, shape.width], t, embedding);
    latents = ddimInverseStep(schedule, t, latents, eps);
    levels.push(latents);
    checkpoint(controls, { phase: 'invert', step: i + 1, total: ascending.length });
  }
  return levels;
}

/**
 * Guided noise for one latent: one UNet call over [uncond, query]. `pairEmbeddings` is
 * concat([uncond, query]), built once per decode rather than once per step.
 */
async function guidedNoise(
  sd: StableDiffusion,
  kind: 'standard' | 'inpaint',
  sample: Float32Array,
  shape: LatentShape,
  t: number,
  pairEmbeddings: Float32Array,
  guidance: number,
): Promise<Float32Array> {
  const dims = [2, shape.channels, shape.height, shape.width] as const;
  const eps = await sd.predictNoise(kind, concat([sample, sample]), dims, t, pairEmbeddings);
  // The output always has 4 channels, whatever the input had (9 for inpainting).
  const half = eps.length / 2;
  return applyGuidance(row(eps, 0, half), row(eps, 1, half), guidance);
}

/**
 * DiffEdit decoding from the inverted `levels` (see {@link invertLatents}) with the 4-channel UNet:
 * denoise with the query and keep the inverted latent of the same level outside `mask` after each step
 * (diffusers keeps the one a level behind; see the module comment for why the same level is right).
 */
export async function decodeWithMask(
  sd: StableDiffusion,
  levels: readonly Float32Array[],
  inputs: DecodeInputs,
  controls: RunControls = {},
): Promise<Float32Array> {
  const { latents } = await decodeVariationsWithMask(sd, levels, inputs, [inputs.noise], 2, controls);
  return latents[0] as Float32Array;
}

/** Latents of several candidates and the UNet calls they took. */
export interface DecodedVariations {
  /** One per noise source, in order. */
  readonly latents: Float32Array[];
  readonly unetCalls: number;
}

/**
 * {@link decodeWithMask} for several candidates at once, one per noise source (the edit seeds), over the same
 * inversion and mask: each step evaluates the [uncond, query] pairs of every candidate together, 2N items per UNet
 * call, cut into calls of at most `maxBatch` items (a pair never split: at least one pair per call). On a GPU a batch
 * of 8 costs far less than 4 calls of 2; on the CPU each item costs about the same however they are batched.
 */
export async function decodeVariationsWithMask(
  sd: StableDiffusion,
  levels: readonly Float32Array[],
  { shape, mask, prompts, options }: Omit<DecodeInputs, 'noise'>,
  noises: readonly GaussianSource[],
  maxBatch: number,
  controls: RunControls = {},
): Promise<DecodedVariations> {
  const schedule = ddimSchedule(sd.scheduler, options.steps);
  const timesteps = editTimesteps(sd, options);
  const m = timesteps.length;
  const perCall = pairsPerCall(maxBatch);
  const latents = noises.map(() => levels[m] as Float32Array);
  let unetCalls = 0;
  for (const [i, t] of timesteps.entries()) {
    for (let first = 0; first < latents.length; first += perCall) {
      const group = latents.slice(first, first + perCall);
      const eps = await guidedNoises(sd, group, shape, t, prompts, options.guidance);
      unetCalls++;
      for (const [j, e] of eps.entries()) {
        const k = first + j;
        const stepped = stepWithEta(schedule, t, latents[k] as Float32Array, e, noises[k] as GaussianSource, options.eta);
        // Level t - ratio is levels[m - 1 - i]; after the last step that is levels[0], the clean latents.
        latents[k] = blendInPlace(stepped, levels[m - 1 - i] as Float32Array, mask);
      }
    }
    checkpoint(controls, { phase: 'decode', step: i + 1, total: m });
  }
  return { latents, unetCalls };
}

/** Candidates decoded per UNet call: as many [uncond, query] pairs as `maxBatch` items hold, at least one. */
function pairsPerCall(maxBatch: number): number {
  return Math.max(1, Math.floor(maxBatch / 2));
}

/** The batch size of each UNet call of one decoding step of `variations` candidates (the warm-up runs these). */
export function decodeCallSizes(variations: number, maxBatch: number): number[] {
  const perCall = pairsPerCall(maxBatch);
  return Array.from({ length: Math.ceil(variations / perCall) }, (_, call) => 2 * Math.min(perCall, variations - call * perCall));
}

/** Guided noise of several latents in one UNet call: items [uncond, query] per latent, in order. */
async function guidedNoises(
  sd: StableDiffusion,
  samples: readonly Float32Array[],
  shape: LatentShape,
  t: number,
  prompts: EditPrompts,
  guidance: number,
): Promise<Float32Array[]> {
  const items = samples.flatMap((sample) => [sample, sample]);
  const embeddings = concat(samples.flatMap(() => [prompts.uncond, prompts.query]));
  const eps = await sd.predictNoise('standard', concat(items), [items.length, shape.channels, shape.height, shape.width], t, embeddings);
  const size = latentSize(shape);
  return samples.map((_, j) => applyGuidance(row(eps, 2 * j, size), row(eps, 2 * j + 1, size), guidance));
}

/**
 * Decoding with a 9-channel inpainting UNet instead: it sees [latents, mask, masked-image latents] and keeps
 * the outside itself, so there is no inversion and no per-step blending; it starts from the image latents noised to
 * the encode ratio with the seed's noise (the standard inpainting pipeline at strength r). The final latents
 * take the image's own latents outside the mask, as the DDIM decoder's do.
 */
export async function decodeWithInpaintUnet(
  sd: StableDiffusion,
  x0: Float32Array,
  maskedImageLatents: Float32Array,
  { shape, mask, prompts, noise, options }: DecodeInputs,
  controls: RunControls = {},
): Promise<Float32Array> {
  const schedule = ddimSchedule(sd.scheduler, options.steps);
  const timesteps = editTimesteps(sd, options);
  let latents = addNoise(schedule, timesteps[0] as number, x0, noise.next(latentSize(shape)));
  const inputShape: LatentShape = { ...shape, channels: 9 };
  const pairEmbeddings = concat([prompts.uncond, prompts.query]);
  for (const [i, t] of timesteps.entries()) {
    const input = concat([latents, mask, maskedImageLatents]);
    const eps = await guidedNoise(sd, 'inpaint', input, inputShape, t, pairEmbeddings, options.guidance);
    latents = stepWithEta(schedule, t, latents, eps, noise, options.eta);
    checkpoint(controls, { phase: 'decode', step: i + 1, total: timesteps.length });
  }
  // The model is trained to keep the outside, not bound to: make DiffEdit's promise exact.
  return blendInPlace(latents, x0, mask);
}

function stepWithEta(schedule: DdimSchedule, t: number, latents: Float32Array, eps: Float32Array, noise: GaussianSource, eta: number): Float32Array {
  return eta > 0 ? ddimStep(schedule, t, latents, eps, eta, noise.next(latents.length)) : ddimStep(schedule, t, latents, eps);
}

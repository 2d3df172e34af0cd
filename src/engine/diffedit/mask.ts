/**
 * DiffEdit step 1: where must the picture change? Noise the image latents n times to strength s, predict the
 * noise conditioned on ref and on query, and average |eps_query - eps_ref| over draws and channels.
 *
 * The unconditional branch is never evaluated: with classifier-free guidance both guided predictions share
 * it, eps_q - eps_r = g (c_q - c_r), and both thresholding modes are scale-invariant, so it cancels exactly.
 * That is the "computed once" of the design taken to its limit: computed zero times, a third fewer UNet items.
 *
 * The noise level is picked on a grid of its own, {@link MASK_GRID_STEPS} steps, not on the edit's `steps`: diffusers'
 * `generate_mask` has its own `num_inference_steps` (default 50), so the same mask strength means the same timestep
 * (481 for 0.5 on SD) whatever the edit's step count, and a job's mask does not move when only its steps change.
 */
import type { StableDiffusion } from '../models/stable-diffusion.js';
import type { GaussianSource } from '../noise.js';
import { addNoise, alphaAt, ddimSchedule, ddimTimesteps, modelOutputToEpsilon, timestepsForStrength, type SchedulerConfig } from '../scheduler.js';
import { latentSize, row, type LatentShape } from './latents.js';
import { accumulateAbsDifference, blurDilate, scaleInPlace, thresholdMap, type MaskThresholding } from './mask-stats.js';
import { checkpoint, type RunControls } from './progress.js';

/**
 * Inference steps of the timestep grid the mask strength picks from: diffusers' `generate_mask` default
 * `num_inference_steps`, independent of the edit's steps (the two are separate calls there too).
 */
export const MASK_GRID_STEPS = 50;

/** The timestep the mask's draws are noised to: int(50 x strength) steps up the 50-step DDIM grid. */
export function maskTimestep(scheduler: SchedulerConfig, strength: number): number {
  return timestepsForStrength(ddimTimesteps(scheduler, MASK_GRID_STEPS), strength)[0] as number;
}

/** Parameters of the mask step. */
export interface MaskOptions {
  /** Noise draws averaged (the paper's n, default 10). */
  readonly draws: number;
  /** Noise strength the latents are encoded to (default 0.5: timestep 481 on the {@link MASK_GRID_STEPS} grid). */
  readonly strength: number;
  readonly thresholding: MaskThresholding;
  /** Blur-dilation passes after thresholding (0 = none). */
  readonly dilate: number;
  /** Most UNet batch items per call; each draw needs 2 items (ref and query), cut into calls to fit. */
  readonly maxBatch: number;
}

/** What the mask step produced. */
export interface MaskComputation {
  /** Mean |eps_query - eps_ref| per latent cell, [h*w]. */
  readonly map: Float32Array;
  /** 0/1 per latent cell, [h*w]. */
  readonly mask: Float32Array;
  /** The timestep the draws were noised to. */
  readonly timestep: number;
  /** UNet calls made (a chunk of the batch is one call). */
  readonly unetCalls: number;
}

/** Prompt embedding rows ([77 * hidden] each) for ref and query. */
export interface MaskPrompts {
  readonly ref: Float32Array;
  readonly query: Float32Array;
}

/** Computes DiffEdit's mask for image latents `x0` of `shape`. */
export async function computeMask(
  sd: StableDiffusion,
  x0: Float32Array,
  shape: LatentShape,
  prompts: MaskPrompts,
  noise: GaussianSource,
  options: MaskOptions,
  controls: RunControls = {},
): Promise<MaskComputation> {
  const schedule = ddimSchedule(sd.scheduler, MASK_GRID_STEPS);
  const timestep = maskTimestep(sd.scheduler, options.strength);
  const size = latentSize(shape);
  const plane = shape.height * shape.width;
  // UNet items in draw order, [ref_0, query_0, ref_1, query_1, ...], cut into calls of at most maxBatch items.
  const callSizes = maskCallSizes(options.draws, options.maxBatch);
  const calls = callSizes.length;
  // Draw every noise tensor up front, in order, so the batch size never changes which noise a draw gets.
  const noised = Array.from({ length: options.draws }, () => addNoise(schedule, timestep, x0, noise.next(size)));
  const outputs: Float32Array[] = [];

  let first = 0;
  for (const [call, count] of callSizes.entries()) {
    const batch = new Float32Array(count * size);
    const embeddings = new Float32Array(count * prompts.ref.length);
    for (let j = 0; j < count; j++) {
      const item = first + j;
      batch.set(noised[item >> 1] as Float32Array, j * size);
      embeddings.set(item % 2 === 0 ? prompts.ref : prompts.query, j * prompts.ref.length);
    }
    const output = await sd.predictNoise('standard', batch, [count, shape.channels, shape.height, shape.width], timestep, embeddings);
    // A v-prediction model's |v_q - v_r| is the ε difference over √ᾱ (the thresholds would not mind); converted all the same.
    const eps = modelOutputToEpsilon(schedule.predictionType, alphaAt(schedule, timestep), batch, output);
    for (let j = 0; j < count; j++) outputs.push(row(eps, j, size));
    first += count;
    checkpoint(controls, { phase: 'mask', step: call + 1, total: calls });
  }

  const sum = new Float32Array(plane);
  for (let draw = 0; draw < options.draws; draw++) {
    accumulateAbsDifference(sum, outputs[2 * draw + 1] as Float32Array, 0, outputs[2 * draw] as Float32Array, 0, shape.channels);
  }
  const map = scaleInPlace(sum, 1 / (options.draws * shape.channels));
  const thresholded = thresholdMap(map, options.thresholding);
  const mask = options.dilate > 0 ? blurDilate(thresholded, shape.width, shape.height, options.dilate) : thresholded;
  return { map, mask, timestep, unetCalls: calls };
}

/** The batch size of each of the mask's UNet calls: its 2 x draws items cut into calls of at most maxBatch. */
export function maskCallSizes(draws: number, maxBatch: number): number[] {
  const items = 2 * draws;
  const perCall = Math.max(1, Math.floor(maxBatch));
  return Array.from({ length: Math.ceil(items / perCall) }, (_, call) => Math.min(perCall, items - call * perCall));
}

/**
 * DDIM and DDIM inversion exactly as diffusers' DDIMScheduler / DDIMInverseScheduler compute them.
 * Pure functions over Float32Arrays: the pipeline owns the tensors, this module owns the maths.
 */
import { DiffEditError, ErrorCode } from '../errors.js';

/** The subset of a diffusers `scheduler_config.json` that DDIM uses. */
export interface SchedulerConfig {
  /** Length of the training noise schedule (1000 for SD). */
  readonly numTrainTimesteps: number;
  readonly betaStart: number;
  readonly betaEnd: number;
  readonly betaSchedule: 'scaled_linear' | 'linear';
  /** Added to every inference timestep ("leading" spacing): SD uses 1, giving 981 ... 1 for 50 steps. */
  readonly stepsOffset: number;
  /**
   * When true the final step goes to alpha = 1; SD says false (alphas_cumprod[0]). A config without the key
   * gets DDIMScheduler's default, true.
   */
  readonly setAlphaToOne: boolean;
  readonly timestepSpacing: 'leading' | 'trailing' | 'linspace';
  /**
   * What the UNet predicts: the noise ('epsilon', SD 1.x, SDXL, SD 2.x-base) or v = √ᾱ·ε − √(1−ᾱ)·x0
   * ('v_prediction', the SD 2.x 768 models). The steps convert v to ε, so DiffEdit's maths never sees v.
   */
  readonly predictionType: PredictionType;
}

/** The UNet outputs this DDIM can use. */
export const PREDICTION_TYPES = ['epsilon', 'v_prediction'] as const;
export type PredictionType = (typeof PREDICTION_TYPES)[number];

/** Stable Diffusion v1.x's scheduler configuration, used when the model directory has none. */
export const SD_V1_SCHEDULER: SchedulerConfig = {
  numTrainTimesteps: 1000,
  betaStart: 0.00085,
  betaEnd: 0.012,
  betaSchedule: 'scaled_linear',
  stepsOffset: 1,
  setAlphaToOne: false,
  timestepSpacing: 'leading',
  predictionType: 'epsilon',
};

/** DDIMScheduler's default for `set_alpha_to_one`, used when a config does not say. */
const DDIM_SET_ALPHA_TO_ONE = true;

/** DDIMScheduler options that change the step's maths (x0 clamping, dynamic thresholding) and are not implemented. */
const UNSUPPORTED_FLAGS = ['clip_sample', 'thresholding'] as const;

/**
 * Reads the DDIM-relevant keys of a diffusers scheduler_config.json (any scheduler class: SD ships PNDM's,
 * whose betas are the same). Absent keys take SD v1's values, except `set_alpha_to_one`, which takes
 * DDIMScheduler's default (true) as diffusers' `DDIMScheduler.from_config` would. Options this DDIM does not
 * implement (`clip_sample`, `thresholding` set to true, prediction types other than epsilon and v, flow-matching
 * schedulers) throw, naming `source` and the key, rather than being silently ignored. An absent `clip_sample` is read as false although DDIMScheduler
 * defaults it to true: every SD v1 config says false, and clamping SD's latents to [-1, 1] would be wrong.
 */
export function parseSchedulerConfig(json: unknown, source: string): SchedulerConfig {
  if (typeof json !== 'object' || json === null) {
    throw new DiffEditError(ErrorCode.ModelContractMismatch, `${source} is not a JSON object.`, { source });
  }
  const raw = json as Record<string, unknown>;
  const className = raw['_class_name'];
  // SD 3 and Flux train a velocity field along straight paths: no alphas, no DDIM, no inversion of this kind.
  if (typeof className === 'string' && className.startsWith('FlowMatch')) {
    throw new DiffEditError(
      ErrorCode.ModelContractMismatch,
      `${source}: ${className} is a flow-matching scheduler (SD 3, Flux); DiffEdit here runs DDIM on SD 1.x, SD 2.x and SDXL models only.`,
      { source, key: '_class_name' },
    );
  }
  const predictionType = raw['prediction_type'] ?? 'epsilon';
  if (!PREDICTION_TYPES.includes(predictionType as PredictionType)) {
    throw new DiffEditError(
      ErrorCode.ModelContractMismatch,
      `${source}: prediction_type ${JSON.stringify(predictionType)} is not supported; DiffEdit here needs an epsilon- or v-predicting model (SD 1.x, SD 2.x, SDXL).`,
      { source, predictionType },
    );
  }
  const num = (key: string, fallback: number): number => {
    const value = raw[key];
    if (value === undefined || value === null) return fallback;
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new DiffEditError(ErrorCode.ModelContractMismatch, `${source}: "${key}" must be a number.`, { source, key });
    }
    return value;
  };
  const oneOf = <T extends string>(key: string, allowed: readonly T[], fallback: T): T => {
    const value = raw[key] ?? fallback;
    if (!allowed.includes(value as T)) {
      throw new DiffEditError(ErrorCode.ModelContractMismatch, `${source}: "${key}" is ${JSON.stringify(value)}; supported: ${allowed.join(', ')}.`, {
        source,
        key,
      });
    }
    return value as T;
  };
  const flag = (key: string, fallback: boolean): boolean => {
    const value = raw[key];
    if (value === undefined || value === null) return fallback;
    if (typeof value !== 'boolean') {
      throw new DiffEditError(ErrorCode.ModelContractMismatch, `${source}: "${key}" must be true or false.`, { source, key });
    }
    return value;
  };
  for (const key of UNSUPPORTED_FLAGS) {
    if (flag(key, false)) {
      throw new DiffEditError(
        ErrorCode.ModelContractMismatch,
        `${source}: "${key}" is true, which this DDIM does not implement; set it to false (SD v1 configs have it false).`,
        { source, key },
      );
    }
  }
  return {
    numTrainTimesteps: num('num_train_timesteps', SD_V1_SCHEDULER.numTrainTimesteps),
    betaStart: num('beta_start', SD_V1_SCHEDULER.betaStart),
    betaEnd: num('beta_end', SD_V1_SCHEDULER.betaEnd),
    betaSchedule: oneOf('beta_schedule', ['scaled_linear', 'linear'], SD_V1_SCHEDULER.betaSchedule),
    stepsOffset: num('steps_offset', SD_V1_SCHEDULER.stepsOffset),
    setAlphaToOne: flag('set_alpha_to_one', DDIM_SET_ALPHA_TO_ONE),
    timestepSpacing: oneOf('timestep_spacing', ['leading', 'trailing', 'linspace'], SD_V1_SCHEDULER.timestepSpacing),
    predictionType: predictionType as PredictionType,
  };
}

/** alphas_cumprod = cumprod(1 - betas), in float64 (diffusers computes betas in float32; differences are < 1e-7). */
export function alphasCumprod(config: SchedulerConfig): Float64Array {
  const n = config.numTrainTimesteps;
  const out = new Float64Array(n);
  const start = config.betaSchedule === 'scaled_linear' ? Math.sqrt(config.betaStart) : config.betaStart;
  const end = config.betaSchedule === 'scaled_linear' ? Math.sqrt(config.betaEnd) : config.betaEnd;
  let product = 1;
  for (let i = 0; i < n; i++) {
    const b = n === 1 ? start : start + ((end - start) * i) / (n - 1);
    const beta = config.betaSchedule === 'scaled_linear' ? b * b : b;
    product *= 1 - beta;
    out[i] = product;
  }
  return out;
}

/**
 * The DDIM inference timesteps, noisiest first: diffusers' `DDIMScheduler.set_timesteps`, value for value.
 * "leading" is integer arithmetic. "linspace" and "trailing" build float grids with numpy and round them with
 * numpy's rounding, which sends halves to the even neighbour (linspace(0, 999, 7) holds 166.5 -> 166; trailing's
 * 1000 - 3 x 62.5 = 812.5 -> 812), so both grids are rebuilt here as numpy computes them. One deliberate
 * difference: for some step counts (61, 103, 121, ... of 1000) numpy's float `arange` yields one element too many
 * and diffusers' "trailing" list then ends with an extra timestep -1; only the first `steps` are kept here.
 */
export function ddimTimesteps(config: SchedulerConfig, steps: number): number[] {
  const n = config.numTrainTimesteps;
  if (!Number.isInteger(steps) || steps < 1 || steps > n) {
    throw new DiffEditError(ErrorCode.InvalidOption, `steps must be a whole number from 1 to ${n}.`, { steps });
  }
  if (config.timestepSpacing === 'leading') {
    const ratio = Math.floor(n / steps);
    return Array.from({ length: steps }, (_, i) => (steps - 1 - i) * ratio + config.stepsOffset);
  }
  if (config.timestepSpacing === 'trailing') {
    // np.round(np.arange(n, 0, -n / steps)) - 1: already noisiest first.
    return numpyArange(n, 0, -n / steps)
      .slice(0, steps)
      .map((t) => roundHalfToEven(t) - 1);
  }
  // np.linspace(0, n - 1, steps).round()[::-1]
  return numpyLinspace(0, n - 1, steps)
    .map(roundHalfToEven)
    .reverse();
}

/** numpy's rounding to a whole number (`np.round`, `ndarray.round()`): a tie goes to the even neighbour. */
export function roundHalfToEven(x: number): number {
  const nearest = Math.round(x); // ties go up (towards +infinity)
  return nearest - x === 0.5 && nearest % 2 !== 0 ? nearest - 1 : nearest;
}

/** `np.linspace(start, stop, num)` as numpy computes it: i * ((stop - start) / (num - 1)) + start, the last exactly stop. */
export function numpyLinspace(start: number, stop: number, num: number): number[] {
  if (num === 1) return [start];
  const step = (stop - start) / (num - 1);
  return Array.from({ length: num }, (_, i) => (i === num - 1 ? stop : i * step + start));
}

/**
 * `np.arange(start, stop, step)` over floats as numpy fills it: ceil((stop - start) / step) values, the second
 * start + step, the rest start + i * ((start + step) - start) (numpy's DOUBLE_fill).
 */
export function numpyArange(start: number, stop: number, step: number): number[] {
  const length = Math.max(0, Math.ceil((stop - start) / step));
  const second = start + step;
  const delta = second - start;
  return Array.from({ length }, (_, i) => (i === 0 ? start : i === 1 ? second : start + i * delta));
}

/** The stride between consecutive timesteps that DDIM's step uses to find the previous one. */
export function stepRatio(config: SchedulerConfig, steps: number): number {
  return Math.floor(config.numTrainTimesteps / steps);
}

/**
 * The tail of `timesteps` that an img2img/DiffEdit pass at `strength` runs (diffusers' `get_timesteps`):
 * int(steps * strength) steps, starting at the noise level that strength reaches.
 */
export function timestepsForStrength(timesteps: readonly number[], strength: number): number[] {
  if (!(strength > 0 && strength <= 1)) {
    throw new DiffEditError(ErrorCode.InvalidOption, 'strength must be above 0 and at most 1.', { strength });
  }
  const count = Math.min(Math.floor(timesteps.length * strength), timesteps.length);
  if (count < 1) {
    throw new DiffEditError(
      ErrorCode.InvalidOption,
      `strength ${strength} with ${timesteps.length} steps runs no step at all; raise the steps or the strength.`,
      { strength, steps: timesteps.length },
    );
  }
  return timesteps.slice(timesteps.length - count);
}

/** The schedule a DDIM pass needs: alphas_cumprod and the alpha of the clean end ("final_alpha_cumprod"). */
export interface DdimSchedule {
  readonly alphasCumprod: Float64Array;
  readonly finalAlphaCumprod: number;
  readonly ratio: number;
  /** What the model outputs that the steps take: see {@link modelOutputToEpsilon}. */
  readonly predictionType: PredictionType;
}

/** Precomputes what every step needs for `steps` inference steps. */
export function ddimSchedule(config: SchedulerConfig, steps: number): DdimSchedule {
  const alphas = alphasCumprod(config);
  return {
    alphasCumprod: alphas,
    finalAlphaCumprod: config.setAlphaToOne ? 1 : (alphas[0] ?? 1),
    ratio: stepRatio(config, steps),
    predictionType: config.predictionType,
  };
}

/**
 * The noise ε a model output stands for, for a `sample` at noise level `alpha` (alphas_cumprod): the output itself
 * for 'epsilon' (the same array, nothing copied), and for 'v_prediction' ε = √ᾱ·v + √(1−ᾱ)·x (diffusers' DDIM
 * steps). With ε, x0 = (x − √(1−ᾱ)·ε)/√ᾱ equals diffusers' √ᾱ·x − √(1−ᾱ)·v, so every step, the mask and the
 * guidance (linear in the output, the x terms cancel) stay DiffEdit's ε maths. `sample` holds the latents the
 * output is for (its first `output.length` values: an inpainting UNet's extra input channels are not among them).
 */
export function modelOutputToEpsilon(type: PredictionType, alpha: number, sample: Float32Array, output: Float32Array): Float32Array {
  if (type === 'epsilon') return output;
  const a = Math.sqrt(alpha);
  const b = Math.sqrt(1 - alpha);
  const eps = new Float32Array(output.length);
  for (let i = 0; i < output.length; i++) eps[i] = a * (output[i] as number) + b * (sample[i] as number);
  return eps;
}

/** alpha_cumprod at timestep t, or the clean end's alpha when t < 0 (before the first training step). */
export function alphaAt(schedule: DdimSchedule, t: number): number {
  if (t < 0) return schedule.finalAlphaCumprod;
  const a = schedule.alphasCumprod[t];
  if (a === undefined) throw new RangeError(`timestep ${t} outside the training schedule`);
  return a;
}

/** sigma_t of DDIM (Song et al. eq. 16) for eta: 0 is deterministic DDIM, 1 is DDPM-like. */
export function ddimSigma(alphaT: number, alphaPrev: number, eta: number): number {
  return eta * Math.sqrt((1 - alphaPrev) / (1 - alphaT)) * Math.sqrt(1 - alphaT / alphaPrev);
}

/**
 * One DDIM denoising step from timestep t to t - ratio (diffusers `DDIMScheduler.step`, no clipping) on the model's
 * `output` (ε, or v converted at t's level). `noise` is required when eta > 0 (the sigma * z term). Returns a new array.
 */
export function ddimStep(schedule: DdimSchedule, t: number, sample: Float32Array, output: Float32Array, eta = 0, noise?: Float32Array): Float32Array {
  const alphaT = alphaAt(schedule, t);
  const eps = modelOutputToEpsilon(schedule.predictionType, alphaT, sample, output);
  const alphaPrev = alphaAt(schedule, t - schedule.ratio);
  const sigma = eta > 0 ? ddimSigma(alphaT, alphaPrev, eta) : 0;
  if (sigma > 0 && noise === undefined) throw new Error('ddimStep: eta > 0 needs a noise tensor');
  const sqrtAlphaT = Math.sqrt(alphaT);
  const sqrtOneMinusAlphaT = Math.sqrt(1 - alphaT);
  const sqrtAlphaPrev = Math.sqrt(alphaPrev);
  const direction = Math.sqrt(Math.max(1 - alphaPrev - sigma * sigma, 0));
  const out = new Float32Array(sample.length);
  for (let i = 0; i < sample.length; i++) {
    const e = eps[i] as number;
    const x0 = ((sample[i] as number) - sqrtOneMinusAlphaT * e) / sqrtAlphaT;
    let v = sqrtAlphaPrev * x0 + direction * e;
    if (sigma > 0) v += sigma * (noise![i] as number);
    out[i] = v;
  }
  return out;
}

/**
 * One DDIM inversion step (diffusers `DDIMInverseScheduler.step`): the UNet was evaluated at the noisier
 * timestep t, and the sample moves from the level of t - ratio (the clean end when negative) up to t. A v output is
 * converted at the level the sample is at (t - ratio), as diffusers does.
 */
export function ddimInverseStep(schedule: DdimSchedule, t: number, sample: Float32Array, output: Float32Array): Float32Array {
  const alphaFrom = alphaAt(schedule, t - schedule.ratio);
  const eps = modelOutputToEpsilon(schedule.predictionType, alphaFrom, sample, output);
  const alphaTo = alphaAt(schedule, Math.min(t, schedule.alphasCumprod.length - 1));
  const sqrtAlphaFrom = Math.sqrt(alphaFrom);
  const sqrtOneMinusAlphaFrom = Math.sqrt(1 - alphaFrom);
  const sqrtAlphaTo = Math.sqrt(alphaTo);
  const sqrtOneMinusAlphaTo = Math.sqrt(1 - alphaTo);
  const out = new Float32Array(sample.length);
  for (let i = 0; i < sample.length; i++) {
    const e = eps[i] as number;
    const x0 = ((sample[i] as number) - sqrtOneMinusAlphaFrom * e) / sqrtAlphaFrom;
    out[i] = sqrtAlphaTo * x0 + sqrtOneMinusAlphaTo * e;
  }
  return out;
}

/** Forward diffusion q(x_t | x_0): sqrt(a_t) x0 + sqrt(1 - a_t) eps (diffusers `add_noise`). */
export function addNoise(schedule: DdimSchedule, t: number, x0: Float32Array, eps: Float32Array): Float32Array {
  const alpha = alphaAt(schedule, t);
  const a = Math.sqrt(alpha);
  const b = Math.sqrt(1 - alpha);
  const out = new Float32Array(x0.length);
  for (let i = 0; i < x0.length; i++) out[i] = a * (x0[i] as number) + b * (eps[i] as number);
  return out;
}

/** Classifier-free guidance: u + g (c - u), as a new array. */
export function applyGuidance(uncond: Float32Array, cond: Float32Array, guidance: number): Float32Array {
  const out = new Float32Array(cond.length);
  for (let i = 0; i < cond.length; i++) {
    const u = uncond[i] as number;
    out[i] = u + guidance * ((cond[i] as number) - u);
  }
  return out;
}

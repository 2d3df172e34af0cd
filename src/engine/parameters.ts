/**
 * The knobs of one DiffEdit run: defaults, ranges and validation, in one place shared by the CLI, the bot's
 * command options and the engine.
 */
import { DiffEditError, ErrorCode } from '../errors.js';
import { INVERSION_CONDITIONINGS, type InversionConditioning } from './diffedit/edit.js';
import { DEFAULT_THRESHOLDING, type MaskThresholding } from './diffedit/mask-stats.js';
import { MAX_SEED, randomSeed } from './noise.js';
import { definedOnly } from '../util/objects.js';

/** Everything that decides a run's output besides the image and the prompts. */
export interface EditParameters {
  /** The edit seed: the decoding noise, i.e. what the masked region becomes. A Reroll draws a new one. */
  readonly seed: number;
  /** The mask seed: the mask's noise draws, i.e. which region is edited. A Reroll keeps it. */
  readonly maskSeed: number;
  /** DDIM steps over the full schedule. */
  readonly steps: number;
  /** Encode ratio r: how far the image is inverted before decoding. */
  readonly strength: number;
  /** Classifier-free guidance scale while decoding. */
  readonly guidance: number;
  /** DDIM eta while decoding; above 0 so that a new seed changes the edit. */
  readonly eta: number;
  /** Mask noise draws n. */
  readonly maskDraws: number;
  /** Noise strength of the mask's draws. */
  readonly maskStrength: number;
  readonly thresholding: MaskThresholding;
  /** Blur-dilation passes on the latent mask. */
  readonly dilate: number;
  /** 'ddim' blends inverted latents (the paper); 'inpaint' uses a 9-channel inpainting UNet when loaded. */
  readonly decoder: 'ddim' | 'inpaint';
  /** What the DDIM inversion is conditioned on: the empty prompt (the paper) or ref (both at guidance 1). */
  readonly inversion: InversionConditioning;
  /**
   * Paste the edit into the photo through the dilated, feathered mask, keeping the photo's own pixels elsewhere; off:
   * the whole decoded frame, upscaled (as diffusers returns it, the VAE's softening everywhere).
   */
  readonly composite: boolean;
  /**
   * The region's size in steps from the automatic threshold of the mask's difference map (0): each step up about
   * 1.4x the cells, each step down 0.7x (diffedit/area.ts). Not part of the mask's cache key: every step reads the
   * same cached map.
   */
  readonly area: number;
}

/** Defaults: the paper's and diffusers' values, eta and the inversion's conditioning excepted (see edit.ts). */
export const DEFAULT_PARAMETERS: Omit<EditParameters, SeedKey> = {
  steps: 50,
  strength: 0.8,
  guidance: 7.5,
  eta: 0.5,
  maskDraws: 10,
  maskStrength: 0.5,
  thresholding: DEFAULT_THRESHOLDING,
  dilate: 0,
  decoder: 'ddim',
  // Chosen by reconstruction error (npm run bench:inversion; docs/how-it-works.md, "Inversion conditioning").
  inversion: 'ref',
  composite: true,
  area: 0,
};

/** The two seeds: no default value, each drawn at random when left out. */
const SEED_KEYS = ['seed', 'maskSeed'] as const;
type SeedKey = (typeof SEED_KEYS)[number];

const PARAMETER_KEYS: readonly (keyof EditParameters)[] = [...SEED_KEYS, ...(Object.keys(DEFAULT_PARAMETERS) as (keyof EditParameters)[])];

/** Accepted ranges, inclusive, for the numeric parameters (also used for Discord option limits). */
export const PARAMETER_RANGES = {
  seed: { min: 0, max: MAX_SEED, integer: true },
  maskSeed: { min: 0, max: MAX_SEED, integer: true },
  steps: { min: 1, max: 150, integer: true },
  strength: { min: 0.05, max: 1, integer: false },
  guidance: { min: 0, max: 30, integer: false },
  eta: { min: 0, max: 1, integer: false },
  maskDraws: { min: 1, max: 64, integer: true },
  maskStrength: { min: 0.05, max: 1, integer: false },
  dilate: { min: 0, max: 8, integer: true },
  area: { min: -3, max: 3, integer: true },
} as const satisfies Record<string, { min: number; max: number; integer: boolean }>;

/**
 * Candidates one job decodes over its one mask and inversion, each with its own edit seed (the first the job's seed,
 * the k-th seed + k - 1). Not an {@link EditParameters} field: its default is the engine's (VARIATIONS_DEFAULT, by
 * execution provider), so that a bot in front of GPU workers does not decide it.
 */
export const VARIATIONS_RANGE = { min: 1, max: 4, integer: true } as const;

/** The checked number of variations, `fallback` when not given. */
export function resolveVariations(given: number | undefined, fallback: number): number {
  const value = given ?? fallback;
  const { min, max } = VARIATIONS_RANGE;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new DiffEditError(ErrorCode.InvalidOption, `variations must be a whole number from ${min} to ${max}.`, {
      option: 'variations',
      value,
      min,
      max,
    });
  }
  return value;
}

/** The edit seed of candidate `index` (0-based) of a job whose seed is `seed`. */
export function candidateSeed(seed: number, index: number): number {
  return (seed + index) % (MAX_SEED + 1);
}

/** The longest prompt accepted, in characters (CLIP reads at most 75 tokens anyway). */
export const MAX_PROMPT_CHARS = 500;

/**
 * Fills in defaults and independent random seeds, and checks every range; the error names the parameter and its
 * range.
 */
export function resolveParameters(given: Partial<EditParameters>, defaults: Omit<EditParameters, SeedKey> = DEFAULT_PARAMETERS): EditParameters {
  // Only the parameter keys: callers pass whole requests (image bytes included) and those must not leak in.
  const known = Object.fromEntries(PARAMETER_KEYS.map((key) => [key, given[key]]));
  const merged: EditParameters = { ...defaults, seed: randomSeed(), maskSeed: randomSeed(), ...definedOnly(known as Partial<EditParameters>) };
  for (const [key, range] of Object.entries(PARAMETER_RANGES)) {
    const value = merged[key as keyof typeof PARAMETER_RANGES];
    if (
      typeof value !== 'number' ||
      !Number.isFinite(value) ||
      value < range.min ||
      value > range.max ||
      (range.integer && !Number.isInteger(value))
    ) {
      throw new DiffEditError(
        ErrorCode.InvalidOption,
        `${key} must be ${range.integer ? 'a whole number' : 'a number'} from ${range.min} to ${range.max}.`,
        { option: key, value, ...range },
      );
    }
  }
  if (Math.floor(merged.steps * merged.strength) < 1) {
    throw new DiffEditError(ErrorCode.InvalidOption, `steps x strength must reach at least 1 step (got ${merged.steps} x ${merged.strength}).`, {
      option: 'strength',
    });
  }
  if (!(INVERSION_CONDITIONINGS as readonly unknown[]).includes(merged.inversion)) {
    throw new DiffEditError(ErrorCode.InvalidOption, `inversion must be one of ${INVERSION_CONDITIONINGS.join(', ')}.`, {
      option: 'inversion',
      value: merged.inversion,
    });
  }
  if (typeof merged.composite !== 'boolean') {
    throw new DiffEditError(ErrorCode.InvalidOption, 'composite must be true or false.', { option: 'composite', value: merged.composite });
  }
  if (merged.thresholding.mode === 'clamp' && !(merged.thresholding.ratio > 1)) {
    throw new DiffEditError(ErrorCode.InvalidOption, 'The clamp thresholding ratio must be above 1.', { option: 'thresholding' });
  }
  return merged;
}

/** The two prompts, trimmed and whitespace-collapsed, or the typed error a user should see. */
export function validatePrompts(ref: string, query: string): { ref: string; query: string } {
  const clean = { ref: cleanPrompt(ref, 'ref'), query: cleanPrompt(query, 'query') };
  if (clean.ref.toLowerCase() === clean.query.toLowerCase()) {
    throw new DiffEditError(ErrorCode.SamePrompts, 'ref and query are the same text, so there is nothing to change.', clean);
  }
  return clean;
}

function cleanPrompt(text: string, name: 'ref' | 'query'): string {
  const clean = text.replace(/\s+/g, ' ').trim();
  if (clean.length === 0) {
    throw new DiffEditError(
      ErrorCode.EmptyPrompt,
      `The ${name} prompt is empty: describe ${name === 'ref' ? 'what is in the picture now' : 'what it should become'}.`,
      { prompt: name },
    );
  }
  if (clean.length > MAX_PROMPT_CHARS) {
    throw new DiffEditError(ErrorCode.PromptTooLong, `The ${name} prompt has ${clean.length} characters; the limit is ${MAX_PROMPT_CHARS}.`, {
      prompt: name,
      length: clean.length,
      limit: MAX_PROMPT_CHARS,
    });
  }
  return clean;
}

/**
 * What the stages of one engine job share (engine.ts runs them in order: prepare, mask, edit, render, full-size
 * output), and the small tools they time and share work with.
 */
import type { StageInputs } from './cache/cache-keys.js';
import type { EditPrompts } from './diffedit/edit.js';
import type { LatentShape } from './diffedit/latents.js';
import type { RunControls } from './diffedit/progress.js';
import type { EditRequest, PhaseTimings } from './request.js';
import type { DecodedPicture, GrayMask, RgbImage } from './image/index.js';
import type { EditParameters } from './parameters.js';

/** The phases a stage records as it ends (the total is taken when the result is built). */
export type PhaseLaps = { -readonly [P in Exclude<keyof PhaseTimings, 'total'>]: number };

/** One job's context, made by the prepare stage and read (warnings, counters and laps written) by the others. */
export interface Job {
  readonly request: EditRequest;
  readonly controls: RunControls;
  /** The cleaned prompts. */
  readonly prompts: { readonly ref: string; readonly query: string };
  readonly parameters: EditParameters;
  /** The edit seed of each candidate (none for mask-only jobs). */
  readonly seeds: readonly number[];
  /** The job stops after the mask. */
  readonly maskOnly: boolean;
  readonly picture: DecodedPicture;
  /** The picture at model resolution ({@link DecodedPicture.model}). */
  readonly input: RgbImage;
  /** {@link input} as the VAE's tensor. */
  readonly pixels: Float32Array;
  /** The picture's latents, encoded on first use: a job whose mask and inversion are cached never needs them. */
  readonly imageLatents: () => Promise<Float32Array>;
  readonly shape: LatentShape;
  /** The prompts' embeddings (uncond empty for mask-only jobs). */
  readonly embeddings: EditPrompts;
  /** What the stage cache's keys depend on besides parameters; undefined without a cache. */
  readonly cacheInputs: StageInputs | undefined;
  readonly warnings: string[];
  /** UNet calls made so far. */
  unetCalls: number;
  /** The UNet's evaluation counter when the job started. */
  readonly evaluationsBefore: number;
  /** When the job started (validation included), for the total. */
  readonly started: number;
  readonly clock: PhaseClock;
  readonly laps: PhaseLaps;
}

/** The job's mask, at both resolutions. */
export interface JobMask {
  /** 0/1 per latent cell. */
  readonly latentMask: Float32Array;
  /** At picture resolution. */
  readonly mask: GrayMask;
  /** Fraction of the picture the mask covers. */
  readonly coverage: number;
}

/** Milliseconds since the previous lap. */
export interface PhaseClock {
  lap(): number;
}

/** A clock whose first lap counts from now. */
export function phaseClock(): PhaseClock {
  let last = performance.now();
  return {
    lap() {
      const now = performance.now();
      const elapsed = now - last;
      last = now;
      return Math.round(elapsed * 10) / 10;
    },
  };
}

/** `make`'s promise, made on the first call only. */
export function once<T>(make: () => Promise<T>): () => Promise<T> {
  let made: Promise<T> | undefined;
  return () => (made ??= make());
}

/**
 * What a caller asks of the engine and the time each phase took: their own file, so that the stages' shared
 * context (job.ts) and the engine (engine.ts) both read them without importing each other.
 */
import type { PackedMask } from './diffedit/packed-mask.js';
import type { EditParameters } from './parameters.js';

/** One job. Parameters left out take {@link DEFAULT_PARAMETERS}; each seed a random value. */
export interface EditRequest extends Partial<EditParameters> {
  /** JPEG, PNG, WebP or GIF bytes (of an animation, the first frame is used). */
  readonly image: Uint8Array;
  /** What the picture shows now ("bowl of strawberries"). */
  readonly ref: string;
  /** What it should show ("bowl of grapes"). */
  readonly query: string;
  /** Stop after the mask and render only it. */
  readonly maskOnly?: boolean;
  /** Use this latent mask ("Edit with this mask") instead of computing one; ignored when made at another size. */
  readonly latentMask?: PackedMask | undefined;
  /** Candidates to decode over the one mask and inversion (1-4); default: the engine's {@link DiffEditEngine.defaultVariations}. */
  readonly variations?: number | undefined;
}

/** Milliseconds per phase. */
export interface PhaseTimings {
  /**
   * Decoding the picture and encoding the prompts. The picture's latents are encoded by the first phase that needs
   * them (mask or inversion; none when both come from the cache).
   */
  readonly prepare: number;
  readonly mask: number;
  readonly invert: number;
  /** Denoising and the VAE decode. */
  readonly decode: number;
  readonly render: number;
  /** Upscaling, compositing and encoding the full-size photo. */
  readonly output: number;
  readonly total: number;
}

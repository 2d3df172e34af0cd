/**
 * A model family is a small description of what its UNet is fed, read from the export's own files
 * (model_index.json, unet/config.json, the scheduler and VAE configs): which text encoders and which of their hidden
 * states, whether pooled embeddings and time_ids go in, the empty prompt's embedding, the default size, the
 * prediction type and the VAE's scaling. The DiffEdit stages never ask which family they run on.
 */
import { DiffEditError, ErrorCode } from '../../errors.js';
import type { PredictionType } from '../scheduler.js';

/** The families the engine runs. */
export type FamilyName = 'sd1' | 'sd2' | 'sdxl';

/** How one text encoder's output is used. */
export interface TextEncoderUse {
  /** The export's folder of the model, and of its CLIP tokenizer. */
  readonly part: 'text_encoder' | 'text_encoder_2';
  readonly tokenizer: 'tokenizer' | 'tokenizer_2';
  /**
   * 'last': `last_hidden_state` (SD 1.x, SD 2.x: SD 2's OpenCLIP encoder is exported without its last layer);
   * 'penultimate': `hidden_states.{N-1}` of optimum's N+1 hidden-state outputs (SDXL's `hidden_states[-2]`).
   */
  readonly hiddenState: 'last' | 'penultimate';
  /** Its projected pooled output (`text_embeds`) is the UNet's `text_embeds` (SDXL's second encoder). */
  readonly pooled: boolean;
}

/** What the engine needs to know about a family. */
export interface ModelFamily {
  readonly name: FamilyName;
  /** For logs and `npm run doctor`. */
  readonly label: string;
  /** In the order their hidden states are concatenated on the last axis (SDXL: 768 then 1280). */
  readonly textEncoders: readonly TextEncoderUse[];
  /** The UNet takes SDXL's added conditions: `text_embeds` and `time_ids` (original size, crop, target size). */
  readonly addedConditions: boolean;
  /** The unconditional embedding is zeros (model_index.json `force_zeros_for_empty_prompt`), not the empty prompt's. */
  readonly zerosForEmptyPrompt: boolean;
  /** The model size when unet/config.json has no sample_size. */
  readonly defaultSize: number;
}

const ONE_ENCODER: readonly TextEncoderUse[] = [{ part: 'text_encoder', tokenizer: 'tokenizer', hiddenState: 'last', pooled: false }];

/** The three families; an export's own files can change `zerosForEmptyPrompt` (see {@link familyOf}). */
export const FAMILIES = {
  sd1: { name: 'sd1', label: 'Stable Diffusion 1.x', textEncoders: ONE_ENCODER, addedConditions: false, zerosForEmptyPrompt: false, defaultSize: 512 },
  sd2: { name: 'sd2', label: 'Stable Diffusion 2.x', textEncoders: ONE_ENCODER, addedConditions: false, zerosForEmptyPrompt: false, defaultSize: 768 },
  sdxl: {
    name: 'sdxl',
    label: 'Stable Diffusion XL',
    textEncoders: [
      { part: 'text_encoder', tokenizer: 'tokenizer', hiddenState: 'penultimate', pooled: false },
      { part: 'text_encoder_2', tokenizer: 'tokenizer_2', hiddenState: 'penultimate', pooled: true },
    ],
    addedConditions: true,
    zerosForEmptyPrompt: true,
    defaultSize: 1024,
  },
} as const satisfies Record<FamilyName, ModelFamily>;

/** What {@link familyOf} reads; every file is optional (the old diffusers onnx exports have only the models). */
export interface FamilyEvidence {
  /** model_index.json. */
  readonly modelIndex: Readonly<Record<string, unknown>> | undefined;
  /** unet/config.json. */
  readonly unetConfig: Readonly<Record<string, unknown>> | undefined;
  /** Whether the export has text_encoder_2/ (SDXL). */
  readonly hasSecondTextEncoder: boolean;
  /** The scheduler's prediction type. */
  readonly predictionType: PredictionType;
}

function refuse(file: string, message: string, details: Record<string, unknown>): DiffEditError {
  return new DiffEditError(ErrorCode.ModelContractMismatch, `${file}: ${message}`, { file, ...details });
}

/**
 * Refuses, naming model_index.json, the pipelines DiffEdit here cannot run: SD 3 and Flux (flow-matching
 * transformers), and the SDXL refiner or image-to-image configs (one text encoder, aesthetic-score time_ids, not
 * trained for text-to-image). Called before any file is looked for, so the refusal comes first.
 */
export function assertSupportedPipeline(modelIndex: Readonly<Record<string, unknown>> | undefined, file: string, hasTextEncoder: boolean): void {
  const className = typeof modelIndex?.['_class_name'] === 'string' ? modelIndex['_class_name'] : '';
  if (/StableDiffusion3|Flux|AuraFlow|Sana|PixArt|Kandinsky/i.test(className)) {
    throw refuse(
      file,
      `${className} is not supported: DiffEdit here runs the UNet families SD 1.x, SD 2.x and SDXL (SD 3 and Flux are flow-matching transformers).`,
      { pipeline: className },
    );
  }
  const aesthetic = modelIndex?.['requires_aesthetics_score'] === true;
  const xl = className.startsWith('StableDiffusionXL');
  if (xl && (aesthetic || !hasTextEncoder || className === 'StableDiffusionXLImg2ImgPipeline')) {
    throw refuse(
      file,
      `an SDXL refiner or image-to-image export (${className}${aesthetic ? ', requires_aesthetics_score' : ''}${hasTextEncoder ? '' : ', no text_encoder'}) is not supported; use an SDXL base export (StableDiffusionXLPipeline).`,
      { pipeline: className },
    );
  }
}

/** The family of a supported export (see {@link assertSupportedPipeline}) from its files and scheduler. */
export function familyOf(evidence: FamilyEvidence): ModelFamily {
  const { modelIndex } = evidence;
  const className = typeof modelIndex?.['_class_name'] === 'string' ? modelIndex['_class_name'] : '';
  const sdxl = className.startsWith('StableDiffusionXL') || evidence.hasSecondTextEncoder || evidence.unetConfig?.['addition_embed_type'] === 'text_time';
  if (sdxl) {
    const zeros = modelIndex?.['force_zeros_for_empty_prompt'];
    return { ...FAMILIES.sdxl, zerosForEmptyPrompt: typeof zeros === 'boolean' ? zeros : FAMILIES.sdxl.zerosForEmptyPrompt };
  }
  // SD 2.x: OpenCLIP ViT-H's 1024-wide text embeddings (768 models predict v, the 512 "base" ones epsilon).
  const sd2 = evidence.unetConfig?.['cross_attention_dim'] === 1024 || evidence.predictionType === 'v_prediction';
  return sd2 ? { ...FAMILIES.sd2, defaultSize: evidence.predictionType === 'v_prediction' ? 768 : 512 } : FAMILIES.sd1;
}

/**
 * SDXL's micro-conditioning for a picture of `height` x `width` pixels: original size, crop top-left, target
 * size (diffusers' `_get_add_time_ids` with the defaults: original = target = the picture, no crop).
 */
export function sdxlTimeIds(height: number, width: number): [number, number, number, number, number, number] {
  return [height, width, 0, 0, height, width];
}

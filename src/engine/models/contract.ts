/**
 * The Stable Diffusion ONNX tensor contract, read once from each session's input/output metadata into one
 * typed object. Exporters differ (optimum vs the old diffusers onnx branches, fp16 vs fp32): every variant is
 * decided here, so the runners never test names or dtypes again.
 */
import { DiffEditError, ErrorCode } from '../../errors.js';
import type { TextEncoderUse } from './family.js';

/** What the contract reader needs to know about one input or output. */
export interface TensorInfo {
  readonly name: string;
  /** onnxruntime's type name: 'float32', 'float16', 'int64', 'int32', ... */
  readonly type: string;
  /** Dimensions: numbers when fixed, strings when symbolic; empty when unknown or a scalar. */
  readonly shape: readonly (number | string)[];
}

/** The metadata of one model file. */
export interface ModelSignature {
  /** The model file, for error messages. */
  readonly file: string;
  readonly inputs: readonly TensorInfo[];
  readonly outputs: readonly TensorInfo[];
}

/** Floating-point element types the exports use. */
export type FloatType = 'float32' | 'float16';

/** A floating-point tensor slot. */
export interface FloatSlot {
  readonly name: string;
  readonly type: FloatType;
}

/** The text encoder's contract. */
export interface TextEncoderContract {
  readonly file: string;
  /** `input_ids` [batch, 77]: int64 from optimum, int32 from the old diffusers exports. */
  readonly inputIds: { readonly name: string; readonly type: 'int32' | 'int64' };
  /** `last_hidden_state`, or SDXL's penultimate `hidden_states.{N-1}` [batch, 77, hidden]. */
  readonly hiddenState: FloatSlot;
  /** Embedding width when the export fixes it (768 for SD v1). */
  readonly hiddenSize: number | undefined;
  /** `text_embeds` [batch, projection] (SDXL's second encoder: the UNet's `text_embeds`); undefined when unused. */
  readonly pooled: FloatSlot | undefined;
}

/** A UNet's contract (standard or inpainting). */
export interface UnetContract {
  readonly file: string;
  /** `sample` [batch, channels, h, w]. */
  readonly sample: FloatSlot;
  /** 4 for standard UNets, 9 for inpainting ones ([latents, mask, masked-image latents]). */
  readonly inChannels: 4 | 9;
  /** `timestep`: a scalar (optimum >= 1.24) or one value per batch item; int64, float32 or float16. */
  readonly timestep: { readonly name: string; readonly type: 'int64' | 'float32' | 'float16'; readonly rank: 0 | 1 };
  /** `encoder_hidden_states` [batch, 77, hidden]. */
  readonly encoderHiddenStates: FloatSlot;
  /** `out_sample` [batch, 4, h, w]: the predicted noise (or v). */
  readonly output: FloatSlot;
  /** SDXL's added conditions `text_embeds` [batch, projection] and `time_ids` [batch, 6]; undefined for SD 1.x/2.x. */
  readonly addedConditions: { readonly textEmbeds: FloatSlot; readonly timeIds: FloatSlot } | undefined;
}

/** The VAE encoder's contract. */
export interface VaeEncoderContract {
  readonly file: string;
  /** `sample` [batch, 3, H, W] in [-1, 1]. */
  readonly input: FloatSlot;
  /**
   * `latent_parameters` [batch, 8, h, w] (mean ++ logvar: the pipeline takes the mean) or, from older exports,
   * `latent_sample` [batch, 4, h, w] (already a sample).
   */
  readonly output: FloatSlot & { readonly kind: 'latent_parameters' | 'latent_sample' };
}

/** The VAE decoder's contract. */
export interface VaeDecoderContract {
  readonly file: string;
  /** `latent_sample` [batch, 4, h, w]. */
  readonly input: FloatSlot;
  /** `sample` [batch, 3, H, W] in about [-1, 1]. */
  readonly output: FloatSlot;
}

/** The whole pipeline's contract. */
export interface ModelContract {
  readonly textEncoder: TextEncoderContract;
  /** SDXL's second text encoder. */
  readonly textEncoder2: TextEncoderContract | undefined;
  readonly unet: UnetContract;
  readonly vaeEncoder: VaeEncoderContract;
  readonly vaeDecoder: VaeDecoderContract;
  /** A 9-channel inpainting UNet used as the decoder, when one is configured. */
  readonly inpaintUnet: UnetContract | undefined;
}

function mismatch(file: string, expected: string, found?: TensorInfo | readonly TensorInfo[]): DiffEditError {
  const seen =
    found === undefined
      ? 'it is missing'
      : Array.isArray(found)
        ? `found ${describeAll(found as readonly TensorInfo[])}`
        : `found ${describe(found as TensorInfo)}`;
  return new DiffEditError(ErrorCode.ModelContractMismatch, `${file}: expected ${expected}; ${seen}.`, {
    file,
    expected,
  });
}

function describe(info: TensorInfo): string {
  return `"${info.name}" ${info.type} [${info.shape.join(', ')}]`;
}

function describeAll(infos: readonly TensorInfo[]): string {
  return infos.length === 0 ? 'nothing' : infos.map(describe).join(', ');
}

function find(list: readonly TensorInfo[], name: string): TensorInfo | undefined {
  return list.find((t) => t.name === name);
}

function floatSlot(file: string, info: TensorInfo | undefined, role: string, rank: number): FloatSlot {
  if (info === undefined) throw mismatch(file, `${role} (float32 or float16, rank ${rank})`);
  if ((info.type !== 'float32' && info.type !== 'float16') || (info.shape.length !== 0 && info.shape.length !== rank)) {
    throw mismatch(file, `${role} as float32 or float16 with rank ${rank}`, info);
  }
  return { name: info.name, type: info.type };
}

/** A fixed dimension, or undefined when it is symbolic. */
function fixedDim(info: TensorInfo, axis: number): number | undefined {
  const dim = info.shape[axis];
  return typeof dim === 'number' && dim > 0 ? dim : undefined;
}

const SD_V1_TEXT_ENCODER: TextEncoderUse = { part: 'text_encoder', tokenizer: 'tokenizer', hiddenState: 'last', pooled: false };

/** Reads a text encoder's contract for the way `use` reads it (default: SD 1.x's, `last_hidden_state`). */
export function readTextEncoderContract(sig: ModelSignature, use: TextEncoderUse = SD_V1_TEXT_ENCODER): TextEncoderContract {
  const ids = find(sig.inputs, 'input_ids');
  if (ids === undefined || (ids.type !== 'int32' && ids.type !== 'int64')) {
    throw mismatch(sig.file, 'input "input_ids" [batch, 77] of type int32 or int64', ids ?? sig.inputs);
  }
  const hiddenInfo = use.hiddenState === 'last' ? find(sig.outputs, 'last_hidden_state') : penultimateHiddenState(sig);
  const hidden = floatSlot(sig.file, hiddenInfo, `output "${hiddenInfo?.name ?? 'last_hidden_state'}" [batch, 77, hidden]`, 3);
  const pooled = use.pooled ? floatSlot(sig.file, find(sig.outputs, 'text_embeds'), 'output "text_embeds" [batch, projection] (SDXL\'s pooled embeddings)', 2) : undefined;
  return {
    file: sig.file,
    inputIds: { name: ids.name, type: ids.type },
    hiddenState: hidden,
    hiddenSize: hiddenInfo === undefined ? undefined : fixedDim(hiddenInfo, 2),
    pooled,
  };
}

/**
 * `hidden_states.{N-1}` of the `hidden_states.0` ... `hidden_states.N` outputs optimum exports for SDXL's encoders
 * (the embeddings, then one per layer): SDXL conditions on the penultimate layer, `hidden_states[-2]` in diffusers.
 */
function penultimateHiddenState(sig: ModelSignature): TensorInfo {
  const layers = sig.outputs.flatMap((o) => {
    const m = /^hidden_states\.(\d+)$/.exec(o.name);
    return m === null ? [] : [Number(m[1])];
  });
  const last = Math.max(-1, ...layers);
  const found = last >= 1 ? find(sig.outputs, `hidden_states.${last - 1}`) : undefined;
  if (found === undefined) {
    throw mismatch(
      sig.file,
      'outputs "hidden_states.0" ... "hidden_states.N" (an SDXL text encoder exported by optimum, which adds them), to read the penultimate layer',
      sig.outputs,
    );
  }
  return found;
}

/** Reads a UNet's contract; `role` says which UNet this must be, for the error when channels don't fit. */
export function readUnetContract(sig: ModelSignature, role: 'standard' | 'inpainting'): UnetContract {
  const sampleInfo = find(sig.inputs, 'sample');
  const sample = floatSlot(sig.file, sampleInfo, 'input "sample" [batch, channels, height, width]', 4);
  const wanted = role === 'standard' ? 4 : 9;
  // The old diffusers onnx exports leave the channel count symbolic: then the role decides it.
  const channels = sampleInfo === undefined ? undefined : (fixedDim(sampleInfo, 1) ?? wanted);
  if (channels !== 4 && channels !== 9) {
    throw mismatch(sig.file, 'input "sample" with 4 (standard) or 9 (inpainting) channels', sampleInfo);
  }
  if (channels !== wanted) {
    throw new DiffEditError(
      ErrorCode.ModelContractMismatch,
      role === 'standard'
        ? `${sig.file}: this UNet has ${channels} input channels (an inpainting model). DiffEdit's mask needs a standard 4-channel UNet in MODEL_DIR; put the inpainting export in INPAINT_MODEL_DIR instead.`
        : `${sig.file}: the inpainting UNet must have 9 input channels; this one has ${channels}.`,
      { file: sig.file, channels, role },
    );
  }
  const ts = find(sig.inputs, 'timestep');
  if (
    ts === undefined ||
    (ts.type !== 'int64' && ts.type !== 'float32' && ts.type !== 'float16') ||
    (ts.shape.length !== 0 && ts.shape.length !== 1)
  ) {
    throw mismatch(sig.file, 'input "timestep" of type int64, float32 or float16 with rank 0 or 1', ts ?? sig.inputs);
  }
  return {
    file: sig.file,
    sample,
    inChannels: channels,
    timestep: { name: ts.name, type: ts.type, rank: ts.shape.length === 0 ? 0 : 1 },
    encoderHiddenStates: floatSlot(
      sig.file,
      find(sig.inputs, 'encoder_hidden_states'),
      'input "encoder_hidden_states" [batch, 77, hidden]',
      3,
    ),
    output: floatSlot(sig.file, find(sig.outputs, 'out_sample') ?? sig.outputs[0], 'output "out_sample" [batch, 4, height, width]', 4),
    addedConditions: readAddedConditions(sig),
  };
}

/** SDXL's `text_embeds` and `time_ids` inputs: both or neither. */
function readAddedConditions(sig: ModelSignature): UnetContract['addedConditions'] {
  const textEmbeds = find(sig.inputs, 'text_embeds');
  const timeIds = find(sig.inputs, 'time_ids');
  if (textEmbeds === undefined && timeIds === undefined) return undefined;
  return {
    textEmbeds: floatSlot(sig.file, textEmbeds, 'input "text_embeds" [batch, projection] next to "time_ids" (SDXL)', 2),
    timeIds: floatSlot(sig.file, timeIds, 'input "time_ids" [batch, 6] next to "text_embeds" (SDXL)', 2),
  };
}

/** Reads the VAE encoder's contract. */
export function readVaeEncoderContract(sig: ModelSignature): VaeEncoderContract {
  const input = floatSlot(sig.file, find(sig.inputs, 'sample'), 'input "sample" [batch, 3, height, width]', 4);
  const params = find(sig.outputs, 'latent_parameters');
  const sampled = find(sig.outputs, 'latent_sample');
  const chosen = params ?? sampled;
  if (chosen === undefined) {
    throw mismatch(sig.file, 'output "latent_parameters" [batch, 8, h, w] or "latent_sample" [batch, 4, h, w]', sig.outputs);
  }
  const slot = floatSlot(sig.file, chosen, `output "${chosen.name}"`, 4);
  return { file: sig.file, input, output: { ...slot, kind: params !== undefined ? 'latent_parameters' : 'latent_sample' } };
}

/** Reads the VAE decoder's contract. */
export function readVaeDecoderContract(sig: ModelSignature): VaeDecoderContract {
  const latent = find(sig.inputs, 'latent_sample');
  // SD v1's UNets and DiffEdit's blending work on 4 latent channels; a VAE with others (SD 3's 16) is refused here.
  const channels = latent === undefined ? undefined : fixedDim(latent, 1);
  if (channels !== undefined && channels !== 4) throw mismatch(sig.file, 'input "latent_sample" with 4 latent channels', latent);
  return {
    file: sig.file,
    input: floatSlot(sig.file, latent, 'input "latent_sample" [batch, 4, h, w]', 4),
    output: floatSlot(sig.file, find(sig.outputs, 'sample') ?? sig.outputs[0], 'output "sample" [batch, 3, height, width]', 4),
  };
}

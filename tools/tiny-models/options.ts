/**
 * Options of the tiny-model generator, their defaults and the symbolic dimension names each export layout uses.
 */

/** A rectangle in fractions (0..1) of the latent width (x) and height (y). */
export interface Region {
  readonly x0: number;
  readonly y0: number;
  readonly x1: number;
  readonly y1: number;
}

export type FloatIo = 'float32' | 'float16';

export type BenchmarkAttention = 'unfused' | 'fused' | 'sdpa';

/** The model families the generator writes (see families.ts). */
export type TinyFamily = 'sd1' | 'sd2' | 'sdxl';

export interface TinyModelOptions {
  /**
   * 'sd1' (default); 'sd2': SD 2.1's model_index.json and v-prediction scheduler; 'sdxl': SDXL base's model_index,
   * scheduler and VAE config values, two text encoders with optimum's hidden_states.* outputs (text_encoder_2 with
   * text_embeds), tokenizer_2/ padding with "!", as optimum exports SDXL. An SDXL folder needs `unetFrom`: a UNet
   * with text_embeds and time_ids (the generator's own UNet has neither).
   */
  family?: TinyFamily;
  /** A folder whose model.onnx (and config.json, when there) replace the generated UNet: e.g. a real-architecture export. */
  unetFrom?: string;
  /**
   * 'optimum' (default): <part>/model.onnx (+ model.onnx_data when externalData), optimum's dimension names.
   * 'diffusers-onnx': the old diffusers "onnx" branches: same folders, the UNet's external data in unet/weights.pb.
   */
  layout?: 'optimum' | 'diffusers-onnx';
  /** Store the UNet's float initializers as ONNX external data (default: true for diffusers-onnx or benchmark models). */
  externalData?: boolean;
  /** The UNet's `timestep` input: default { dtype: 'float32', rank: 0 } (optimum >= 1.24); rank 1 = one per batch item. */
  timestep?: { dtype: 'int64' | 'float32' | 'float16'; rank: 0 | 1 };
  /** The text encoder's `input_ids` type (default int64; the old diffusers exports use int32). */
  inputIdsType?: 'int64' | 'int32';
  /** 'latent_parameters' (default): [b, 8, h, w] = mean ++ logvar; 'latent_sample': [b, 4, h, w]. */
  vaeEncoderOutput?: 'latent_parameters' | 'latent_sample';
  /** Type of every float input and output of every model (default float32); the compute inside stays float32. */
  io?: FloatIo;
  /** 9 = an inpainting UNet: [latents(4), mask(1), masked-image latents(4)]. Default 4. */
  unetInChannels?: 4 | 9;
  /** Text embedding width (default 32; SD v1: 768). */
  hiddenSize?: number;
  /** Latent channels: SD v1 has 4 and so do the tiny models. */
  latentChannels?: 4;
  /** Where the text changes the UNet's prediction, in fractions of the latent size (default the central half). */
  region?: Region;
  /** Seed of the random weights (default 1234): the same options give the same bytes. */
  seed?: number;
  /** > 0: the UNet also runs this many SD-like blocks (conv, norm, self- and cross-attention) for benchmarks. */
  benchmarkBlocks?: number;
  /** Width of the benchmark blocks (default 320, SD v1's first stage). */
  benchmarkChannels?: number;
  /** Compute type of the benchmark blocks (default: the io type; float16 needs an EP with fp16 kernels, e.g. CUDA). */
  benchmarkDtype?: FloatIo;
  /**
   * How the benchmark blocks write attention (default 'unfused'):
   * 'unfused': Q·Kᵀ MatMul -> Mul(scale) -> Softmax -> MatMul, as a TorchScript export writes it (onnxruntime's
   *   optimiser does not fuse it: the [batch, heads, tokens, tokens] score matrices are materialised);
   * 'fused': onnxruntime's contrib op com.microsoft.MultiHeadAttention (opset com.microsoft 1) on the same
   *   projections and weights, as onnxruntime's transformer optimiser writes it (same values; onnxruntime only);
   * 'sdpa': as torch >= 2.1 exports F.scaled_dot_product_attention at opset 14: q and kᵀ each multiplied by
   *   sqrt(scale), scale = 1/sqrt(head size) computed from Shape(q), MatMul, Softmax, MatMul (same values).
   */
  benchmarkAttention?: BenchmarkAttention;
  /**
   * Make the channel dimension of the UNet's `sample`/`out_sample` and the VAE inputs symbolic ('channels'), as the
   * old diffusers exports really have it (default false: fixed, as optimum writes it).
   */
  symbolicChannels?: boolean;
}

export interface ResolvedOptions {
  readonly family: TinyFamily;
  readonly unetFrom: string | undefined;
  readonly layout: 'optimum' | 'diffusers-onnx';
  readonly externalData: boolean;
  readonly timestep: { readonly dtype: 'int64' | 'float32' | 'float16'; readonly rank: 0 | 1 };
  readonly inputIdsType: 'int64' | 'int32';
  readonly vaeEncoderOutput: 'latent_parameters' | 'latent_sample';
  readonly io: FloatIo;
  readonly unetInChannels: 4 | 9;
  readonly hiddenSize: number;
  readonly latentChannels: 4;
  readonly region: Region;
  readonly seed: number;
  readonly benchmarkBlocks: number;
  readonly benchmarkChannels: number;
  readonly benchmarkDtype: FloatIo;
  readonly benchmarkAttention: BenchmarkAttention;
  readonly symbolicChannels: boolean;
}

export const DEFAULT_REGION: Region = Object.freeze({ x0: 0.25, y0: 0.25, x1: 0.75, y1: 0.75 });
export const DEFAULT_SEED = 1234;
/** CLIP's context length. */
export const MAX_TOKENS = 77;

export function resolveOptions(options: TinyModelOptions = {}): ResolvedOptions {
  const layout = options.layout ?? 'optimum';
  if (layout !== 'optimum' && layout !== 'diffusers-onnx') throw new Error(`unknown layout ${String(layout)}`);
  const benchmarkBlocks = options.benchmarkBlocks ?? 0;
  const benchmarkChannels = options.benchmarkChannels ?? 320;
  const hiddenSize = options.hiddenSize ?? 32;
  const region = options.region ?? DEFAULT_REGION;
  const timestep = options.timestep ?? { dtype: 'float32', rank: 0 };
  const io = options.io ?? 'float32';
  if (!Number.isInteger(hiddenSize) || hiddenSize < 1) throw new Error(`hiddenSize must be a positive integer, not ${hiddenSize}`);
  if (!Number.isInteger(benchmarkBlocks) || benchmarkBlocks < 0) throw new Error(`benchmarkBlocks must be >= 0, not ${benchmarkBlocks}`);
  if (!Number.isInteger(benchmarkChannels) || benchmarkChannels < 1) {
    throw new Error(`benchmarkChannels must be a positive integer, not ${benchmarkChannels}`);
  }
  const benchmarkAttention = options.benchmarkAttention ?? 'unfused';
  if (benchmarkAttention !== 'unfused' && benchmarkAttention !== 'fused' && benchmarkAttention !== 'sdpa') {
    throw new Error(`benchmarkAttention must be 'unfused', 'fused' or 'sdpa', not ${String(benchmarkAttention)}`);
  }
  if (!['int64', 'float32', 'float16'].includes(timestep.dtype) || (timestep.rank !== 0 && timestep.rank !== 1)) {
    throw new Error(`timestep must be int64/float32/float16 with rank 0 or 1`);
  }
  if (options.unetInChannels !== undefined && options.unetInChannels !== 4 && options.unetInChannels !== 9) {
    throw new Error(`unetInChannels must be 4 or 9`);
  }
  if (options.latentChannels !== undefined && options.latentChannels !== 4) throw new Error('latentChannels must be 4');
  const { x0, y0, x1, y1 } = region;
  if (![x0, y0, x1, y1].every((v) => Number.isFinite(v) && v >= 0 && v <= 1) || x0 >= x1 || y0 >= y1) {
    throw new Error(`region must satisfy 0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1`);
  }
  const family = options.family ?? 'sd1';
  if (family !== 'sd1' && family !== 'sd2' && family !== 'sdxl') throw new Error(`family must be sd1, sd2 or sdxl, not ${String(family)}`);
  if (family === 'sdxl' && options.unetFrom === undefined) throw new Error('an SDXL folder needs unetFrom (a UNet with text_embeds and time_ids)');
  return {
    family,
    unetFrom: options.unetFrom,
    layout,
    externalData: options.externalData ?? (layout === 'diffusers-onnx' || benchmarkBlocks > 0),
    timestep: { dtype: timestep.dtype, rank: timestep.rank },
    inputIdsType: options.inputIdsType ?? 'int64',
    vaeEncoderOutput: options.vaeEncoderOutput ?? 'latent_parameters',
    io,
    unetInChannels: options.unetInChannels ?? 4,
    hiddenSize,
    latentChannels: 4,
    region: { x0, y0, x1, y1 },
    seed: options.seed ?? DEFAULT_SEED,
    benchmarkBlocks,
    benchmarkChannels,
    benchmarkDtype: options.benchmarkDtype ?? io,
    benchmarkAttention,
    symbolicChannels: options.symbolicChannels ?? false,
  };
}

/** Symbolic dimension names, as each exporter writes them. */
export interface DimNames {
  readonly batch: string;
  readonly sequence: string;
  /** The rank-1 timestep's dimension. */
  readonly steps: string;
  readonly channels: string;
  readonly height: string;
  readonly width: string;
  readonly imageHeight: string;
  readonly imageWidth: string;
  readonly encodedHeight: string;
  readonly encodedWidth: string;
  readonly latentHeight: string;
  readonly latentWidth: string;
  readonly decodedHeight: string;
  readonly decodedWidth: string;
}

export function dimNames(layout: ResolvedOptions['layout']): DimNames {
  if (layout === 'optimum') {
    return {
      batch: 'batch_size',
      sequence: 'sequence_length',
      steps: 'steps',
      channels: 'num_channels',
      height: 'height',
      width: 'width',
      imageHeight: 'sample_height',
      imageWidth: 'sample_width',
      encodedHeight: 'sample_height / 8',
      encodedWidth: 'sample_width / 8',
      latentHeight: 'latent_height',
      latentWidth: 'latent_width',
      decodedHeight: 'latent_height * 8',
      decodedWidth: 'latent_width * 8',
    };
  }
  return {
    batch: 'batch',
    sequence: 'sequence',
    steps: 'batch',
    channels: 'channels',
    height: 'height',
    width: 'width',
    imageHeight: 'height',
    imageWidth: 'width',
    encodedHeight: 'height / 8',
    encodedWidth: 'width / 8',
    latentHeight: 'height',
    latentWidth: 'width',
    decodedHeight: 'height * 8',
    decodedWidth: 'width * 8',
  };
}

/** A per-model seed derived from the global one, so that the models don't share random streams. */
export function partSeed(seed: number, part: string): number {
  let h = seed | 0;
  for (let i = 0; i < part.length; i++) h = Math.imul(h ^ part.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

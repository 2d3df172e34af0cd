/**
 * The four Stable Diffusion models and the tokenizer behind typed calls: prompts in, embeddings out; latents
 * and a timestep in, noise out; pixels in, latents out and back. Sessions are created once and reused.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type * as ort from 'onnxruntime-node';
import { SD_V1_SCHEDULER, parseSchedulerConfig, type SchedulerConfig } from '../scheduler.js';
import { ClipTokenizer } from '../tokenizer.js';
import {
  readTextEncoderContract,
  readUnetContract,
  readVaeDecoderContract,
  readVaeEncoderContract,
  type ModelContract,
  type UnetContract,
  type VaeDecoderContract,
} from './contract.js';
import { locateModelFiles, type ModelPart } from './layout.js';
import { chooseModelDir } from './optimized-copy.js';
import { probeProviders } from './provider-probe.js';
import { silentLogger } from '../../logger.js';
import { openSession, type OpenedSession, type ProviderName, type SessionOptions } from './sessions.js';
import { floatTensor, intTensor, readFloats } from './tensors.js';
import { parseJsonObject } from './json-file.js';
import { PROBE_LATENT_SIDE, modelSizeFromConfig, scaleFactorFromProbe } from './vae-geometry.js';

/** Where to load from and how. */
export interface LoadOptions extends SessionOptions {
  /** A Stable Diffusion v1.x ONNX export (optimum or diffusers onnx layout). */
  readonly modelDir: string;
  /** An inpainting export whose 9-channel UNet can serve as the decoder. */
  readonly inpaintModelDir?: string | undefined;
  /** Load `npm run optimize`'s copy when there is a current one (default true). */
  readonly preferOptimized?: boolean;
}

/** Finds out quietly, before any model is opened, which of `providers` work; one log line each. */
async function probeQuietly(options: LoadOptions): Promise<Map<ProviderName, string>> {
  const unavailable = options.unavailable ?? new Map<ProviderName, string>();
  const logger = options.logger ?? silentLogger;
  for (const result of await probeProviders(options.providers.filter((p) => p !== 'cpu' && !unavailable.has(p)))) {
    if (result.available) logger.info(`provider ${result.provider}: available`, { provider: result.provider });
    else {
      unavailable.set(result.provider, result.reason);
      logger.info(`provider ${result.provider}: unavailable (${result.reason})`, { provider: result.provider, reason: result.reason });
    }
  }
  return unavailable;
}

/** Which UNet to run: the standard one, or the inpainting one when loaded. */
export type UnetKind = 'standard' | 'inpaint';

/** Prompt embeddings for a batch of prompts. */
export interface PromptEmbeddings {
  /** [count, 77, hiddenSize] float32. */
  readonly data: Float32Array;
  readonly count: number;
  readonly sequenceLength: number;
  readonly hiddenSize: number;
  /** Prompts whose tokens went past the encoder's 75 and were cut. */
  readonly truncated: readonly string[];
}

/** Loaded models plus their contract. */
export class StableDiffusion {
  /** The tensor contract read from every session's metadata. */
  readonly contract: ModelContract;
  /** The provider each model runs on. */
  readonly providers: Readonly<Record<ModelPart | 'inpaint_unet', ProviderName | undefined>>;
  /** The scheduler configuration of the export (SD v1's when it has none). */
  readonly scheduler: SchedulerConfig;
  /** VAE latent scale (0.18215 for SD v1). */
  readonly latentScale: number;
  /** Pixels per latent cell on each side (8 for SD v1), from the VAE config or the decoder graph. */
  readonly vaeScaleFactor: number;
  /** The model's own size (longer side): unet/config.json's sample_size x vaeScaleFactor, else 512. */
  readonly modelSize: number;
  /** The CLIP tokenizer. */
  readonly tokenizer: ClipTokenizer;
  /** UNet batch items evaluated since load (a batch of 20 counts 20). */
  unetEvaluations = 0;

  private constructor(
    private readonly sessions: {
      textEncoder: OpenedSession;
      unet: OpenedSession;
      vaeEncoder: OpenedSession;
      vaeDecoder: OpenedSession;
      inpaintUnet: OpenedSession | undefined;
    },
    contract: ModelContract,
    tokenizer: ClipTokenizer,
    scheduler: SchedulerConfig,
    vae: { readonly latentScale: number; readonly vaeScaleFactor: number; readonly modelSize: number },
  ) {
    this.contract = contract;
    this.tokenizer = tokenizer;
    this.scheduler = scheduler;
    this.latentScale = vae.latentScale;
    this.vaeScaleFactor = vae.vaeScaleFactor;
    this.modelSize = vae.modelSize;
    this.providers = {
      text_encoder: sessions.textEncoder.provider,
      unet: sessions.unet.provider,
      vae_encoder: sessions.vaeEncoder.provider,
      vae_decoder: sessions.vaeDecoder.provider,
      inpaint_unet: sessions.inpaintUnet?.provider,
    };
  }

  /** Loads every model of `options.modelDir` (and the inpainting UNet when configured) and checks the contract. */
  static async load(options: LoadOptions): Promise<StableDiffusion> {
    const files = await locateModelFiles(await pickModelDir(options, options.modelDir, 'models'));
    const inpaintFiles =
      options.inpaintModelDir === undefined
        ? undefined
        : await locateModelFiles(await pickModelDir(options, options.inpaintModelDir, 'inpainting models'), ['unet']);
    const [tokenizer, scheduler] = await Promise.all([
      ClipTokenizer.fromDirectory(files.tokenizerDir),
      readScheduler(files.schedulerConfig),
    ]);
    // One at a time: on a GPU, concurrent session creation only competes for the same memory and compiler.
    const sessionOptions: SessionOptions = { ...options, unavailable: await probeQuietly(options) };
    const textEncoder = await openSession('text_encoder', files.onnx.text_encoder, sessionOptions);
    const unet = await openSession('unet', files.onnx.unet, sessionOptions);
    const vaeEncoder = await openSession('vae_encoder', files.onnx.vae_encoder, sessionOptions);
    const vaeDecoder = await openSession('vae_decoder', files.onnx.vae_decoder, sessionOptions);
    const inpaintUnet =
      inpaintFiles === undefined ? undefined : await openSession('inpaint_unet', inpaintFiles.onnx.unet, sessionOptions);
    const contract: ModelContract = {
      textEncoder: readTextEncoderContract(textEncoder.signature),
      unet: readUnetContract(unet.signature, 'standard'),
      vaeEncoder: readVaeEncoderContract(vaeEncoder.signature),
      vaeDecoder: readVaeDecoderContract(vaeDecoder.signature),
      inpaintUnet: inpaintUnet === undefined ? undefined : readUnetContract(inpaintUnet.signature, 'inpainting'),
    };
    const vaeScaleFactor = files.vaeScaleFactor ?? (await probeVaeScaleFactor(vaeDecoder, contract.vaeDecoder));
    return new StableDiffusion({ textEncoder, unet, vaeEncoder, vaeDecoder, inpaintUnet }, contract, tokenizer, scheduler, {
      latentScale: files.latentScale,
      vaeScaleFactor,
      modelSize: modelSizeFromConfig(files.unetSampleSize, vaeScaleFactor),
    });
  }

  /** True when an inpainting UNet is loaded. */
  get hasInpaintUnet(): boolean {
    return this.sessions.inpaintUnet !== undefined;
  }

  /** Tokenizes and encodes `prompts` in one text-encoder call. */
  async encodePrompts(prompts: readonly string[]): Promise<PromptEmbeddings> {
    const { inputIds, hiddenState } = this.contract.textEncoder;
    const length = this.tokenizer.maxLength;
    const ids = new Int32Array(prompts.length * length);
    const truncated: string[] = [];
    prompts.forEach((prompt, i) => {
      const encoded = this.tokenizer.encode(prompt);
      ids.set(encoded.ids, i * length);
      if (encoded.truncated) truncated.push(prompt);
    });
    const result = await this.sessions.textEncoder.session.run({
      [inputIds.name]: intTensor(inputIds.type, ids, [prompts.length, length]),
    });
    const out = result[hiddenState.name];
    const data = readFloats(out, `${this.contract.textEncoder.file} ${hiddenState.name}`);
    const hiddenSize = Number(out?.dims[2] ?? data.length / (prompts.length * length));
    return { data, count: prompts.length, sequenceLength: length, hiddenSize, truncated };
  }

  /**
   * The UNet's prediction for a batch of latents at one timestep: the noise ε, or v for a v-prediction model
   * (`scheduler.predictionType`; the scheduler's steps and the mask convert it with `modelOutputToEpsilon`).
   * @param sample [batch, channels, height, width] float32 (channels 4, or 9 for the inpainting UNet)
   * @param embeddings [batch, 77, hidden] float32, one row per batch item
   */
  async predictNoise(
    kind: UnetKind,
    sample: Float32Array,
    dims: readonly [number, number, number, number],
    timestep: number,
    embeddings: Float32Array,
  ): Promise<Float32Array> {
    const opened = kind === 'inpaint' ? this.sessions.inpaintUnet : this.sessions.unet;
    const contract: UnetContract | undefined = kind === 'inpaint' ? this.contract.inpaintUnet : this.contract.unet;
    if (opened === undefined || contract === undefined) throw new Error('No inpainting UNet is loaded');
    const [batch] = dims;
    const hidden = embeddings.length / (batch * this.tokenizer.maxLength);
    const feeds: Record<string, ort.Tensor> = {
      [contract.sample.name]: floatTensor(contract.sample.type, sample, dims),
      [contract.timestep.name]: timestepTensor(contract, timestep, batch),
      [contract.encoderHiddenStates.name]: floatTensor(contract.encoderHiddenStates.type, embeddings, [
        batch,
        this.tokenizer.maxLength,
        hidden,
      ]),
    };
    const result = await opened.session.run(feeds);
    this.unetEvaluations += batch;
    return readFloats(result[contract.output.name], `${contract.file} ${contract.output.name}`);
  }

  /** Encodes [1, 3, H, W] pixels in [-1, 1] to scaled latents [1, 4, H/f, W/f] (the distribution's mean; f = vaeScaleFactor). */
  async encodeImage(pixels: Float32Array, width: number, height: number): Promise<Float32Array> {
    const { input, output, file } = this.contract.vaeEncoder;
    const result = await this.sessions.vaeEncoder.session.run({ [input.name]: floatTensor(input.type, pixels, [1, 3, height, width]) });
    const raw = readFloats(result[output.name], `${file} ${output.name}`);
    // latent_parameters = mean ++ logvar along channels: the first 4 channels are the mean.
    const f = this.vaeScaleFactor;
    const latentSize = 4 * (height / f) * (width / f);
    const latents = new Float32Array(latentSize);
    for (let i = 0; i < latentSize; i++) latents[i] = (raw[i] as number) * this.latentScale;
    return latents;
  }

  /** Decodes scaled latents [1, 4, h, w] to pixels [1, 3, f·h, f·w] in about [-1, 1] (f = vaeScaleFactor). */
  async decodeLatents(latents: Float32Array, width: number, height: number): Promise<Float32Array> {
    const { input, output, file } = this.contract.vaeDecoder;
    const unscaled = new Float32Array(latents.length);
    for (let i = 0; i < latents.length; i++) unscaled[i] = (latents[i] as number) / this.latentScale;
    const result = await this.sessions.vaeDecoder.session.run({
      [input.name]: floatTensor(input.type, unscaled, [1, 4, height / this.vaeScaleFactor, width / this.vaeScaleFactor]),
    });
    return readFloats(result[output.name], `${file} ${output.name}`);
  }

  /** Releases every session. */
  async release(): Promise<void> {
    const all = [this.sessions.textEncoder, this.sessions.unet, this.sessions.vaeEncoder, this.sessions.vaeDecoder, this.sessions.inpaintUnet];
    await Promise.all(all.flatMap((s) => (s === undefined ? [] : [s.session.release()])));
  }
}

function timestepTensor(contract: UnetContract, timestep: number, batch: number): ort.Tensor {
  const { type, rank } = contract.timestep;
  const values = new Array<number>(rank === 0 ? 1 : batch).fill(timestep);
  const dims = rank === 0 ? [] : [batch];
  return type === 'int64' ? intTensor('int64', values, dims) : floatTensor(type, Float32Array.from(values), dims);
}

/** The export itself or its optimised copy, said in one log line. */
async function pickModelDir(options: LoadOptions, dir: string, what: string): Promise<string> {
  if (options.preferOptimized === false) return dir;
  const choice = await chooseModelDir(dir);
  (options.logger ?? silentLogger).info(`${what} from ${choice.dir}${choice.optimized ? ' (optimised)' : ''}`, {
    optimized: choice.optimized,
    reason: choice.reason,
  });
  return choice.dir;
}

/** Decodes a small zero latent once and reads the factor from the picture's size (exports without a VAE config). */
async function probeVaeScaleFactor(decoder: OpenedSession, contract: VaeDecoderContract): Promise<number> {
  const side = PROBE_LATENT_SIDE;
  const latent = floatTensor(contract.input.type, new Float32Array(4 * side * side), [1, 4, side, side]);
  const result = await decoder.session.run({ [contract.input.name]: latent });
  return scaleFactorFromProbe(contract.file, result[contract.output.name]?.dims ?? []);
}

async function readScheduler(file: string | undefined): Promise<SchedulerConfig> {
  if (file === undefined) return SD_V1_SCHEDULER;
  return parseSchedulerConfig(parseJsonObject(await readFile(file, 'utf8'), file), path.relative(process.cwd(), file) || file);
}

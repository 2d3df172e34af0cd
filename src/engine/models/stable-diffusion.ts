/**
 * The four Stable Diffusion models and the tokenizer behind typed calls: prompts in, embeddings out; latents
 * and a timestep in, noise out; pixels in, latents out and back. Sessions are created once and reused.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type * as ort from 'onnxruntime-node';
import { SD_V1_SCHEDULER, parseSchedulerConfig, type SchedulerConfig } from '../scheduler.js';
import { ClipTokenizer } from '../tokenizer.js';
import { DiffEditError, ErrorCode } from '../../errors.js';
import { familyOf, sdxlTimeIds, type ModelFamily, type TextEncoderUse } from './family.js';
import {
  readTextEncoderContract,
  readUnetContract,
  readVaeDecoderContract,
  readVaeEncoderContract,
  type ModelContract,
  type TextEncoderContract,
  type UnetContract,
  type VaeDecoderContract,
} from './contract.js';
import { assertExportPresent, locateModelFiles, type ModelPart } from './layout.js';
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

/**
 * Prompt conditioning for a batch of prompts. Each prompt's row is its hidden states [77 x hiddenSize] followed, for
 * SDXL, by its pooled embedding [pooledSize]: one flat row per prompt, which the DiffEdit stages pass around whole
 * and {@link StableDiffusion.predictNoise} splits into the UNet's inputs.
 */
export interface PromptEmbeddings {
  /** [count, rowSize] float32. */
  readonly data: Float32Array;
  readonly count: number;
  readonly sequenceLength: number;
  /** The hidden-state width (SDXL: both encoders' together, 768 + 1280). */
  readonly hiddenSize: number;
  /** The pooled embedding's width at the end of each row (SDXL's `text_embeds`; 0 for SD 1.x/2.x). */
  readonly pooledSize: number;
  /** sequenceLength x hiddenSize + pooledSize. */
  readonly rowSize: number;
  /** Prompts whose tokens went past the encoder's 75 and were cut. */
  readonly truncated: readonly string[];
}

/** One text encoder with its tokenizer, contract and the way the family reads it. */
interface TextEncoderRun {
  readonly use: TextEncoderUse;
  readonly opened: OpenedSession;
  readonly contract: TextEncoderContract;
  readonly tokenizer: ClipTokenizer;
}

/** Loaded models plus their contract. */
export class StableDiffusion {
  /** The tensor contract read from every session's metadata. */
  readonly contract: ModelContract;
  /** What the family feeds the UNet (text encoders, pooled embeddings, time_ids, empty prompt). */
  readonly family: ModelFamily;
  /** The provider each model runs on. */
  readonly providers: Readonly<Record<ModelPart | 'inpaint_unet', ProviderName | undefined>>;
  /** The scheduler configuration of the export (SD v1's when it has none). */
  readonly scheduler: SchedulerConfig;
  /** VAE latent scale (0.18215 for SD v1, 0.13025 for SDXL). */
  readonly latentScale: number;
  /** Pixels per latent cell on each side (8 for SD v1), from the VAE config or the decoder graph. */
  readonly vaeScaleFactor: number;
  /** The model's own size (longer side): unet/config.json's sample_size x vaeScaleFactor, else the family's default. */
  readonly modelSize: number;
  /** The (first) CLIP tokenizer. */
  readonly tokenizer: ClipTokenizer;
  /** UNet batch items evaluated since load (a batch of 20 counts 20). */
  unetEvaluations = 0;
  /** The pooled embedding's width at the end of each conditioning row (0 but for SDXL; read at load). */
  private pooledSize = 0;

  private constructor(
    private readonly sessions: {
      textEncoders: readonly TextEncoderRun[];
      unet: OpenedSession;
      vaeEncoder: OpenedSession;
      vaeDecoder: OpenedSession;
      inpaintUnet: OpenedSession | undefined;
    },
    contract: ModelContract,
    family: ModelFamily,
    scheduler: SchedulerConfig,
    vae: { readonly latentScale: number; readonly vaeScaleFactor: number; readonly modelSize: number },
  ) {
    this.contract = contract;
    this.family = family;
    this.tokenizer = (sessions.textEncoders[0] as TextEncoderRun).tokenizer;
    this.scheduler = scheduler;
    this.latentScale = vae.latentScale;
    this.vaeScaleFactor = vae.vaeScaleFactor;
    this.modelSize = vae.modelSize;
    this.providers = {
      text_encoder: sessions.textEncoders[0]?.opened.provider,
      text_encoder_2: sessions.textEncoders[1]?.opened.provider,
      unet: sessions.unet.provider,
      vae_encoder: sessions.vaeEncoder.provider,
      vae_decoder: sessions.vaeDecoder.provider,
      inpaint_unet: sessions.inpaintUnet?.provider,
    };
  }

  /** Loads every model of `options.modelDir` (and the inpainting UNet when configured) and checks the contract. */
  static async load(options: LoadOptions): Promise<StableDiffusion> {
    await assertExportPresent(options.modelDir);
    const files = await locateModelFiles(await pickModelDir(options, options.modelDir, 'models'));
    const inpaintFiles =
      options.inpaintModelDir === undefined
        ? undefined
        : await locateModelFiles(await pickModelDir(options, options.inpaintModelDir, 'inpainting models'), ['unet']);
    const scheduler = await readScheduler(files.schedulerConfig);
    const family = familyOf({ ...files, predictionType: scheduler.predictionType });
    const logger = options.logger ?? silentLogger;
    logger.info(`model family: ${family.label}`, { family: family.name, predictionType: scheduler.predictionType });
    // One at a time: on a GPU, concurrent session creation only competes for the same memory and compiler.
    const sessionOptions: SessionOptions = { ...options, unavailable: await probeQuietly(options) };
    const textEncoders: TextEncoderRun[] = [];
    for (const use of family.textEncoders) {
      const tokenizer = await ClipTokenizer.fromDirectory(use.tokenizer === 'tokenizer' ? files.tokenizerDir : files.tokenizer2Dir);
      const opened = await openSession(use.part, files.onnx[use.part], sessionOptions);
      textEncoders.push({ use, opened, tokenizer, contract: readTextEncoderContract(opened.signature, use) });
    }
    const unet = await openSession('unet', files.onnx.unet, sessionOptions);
    const vaeEncoder = await openSession('vae_encoder', files.onnx.vae_encoder, sessionOptions);
    const vaeDecoder = await openSession('vae_decoder', files.onnx.vae_decoder, sessionOptions);
    const inpaintUnet =
      inpaintFiles === undefined ? undefined : await openSession('inpaint_unet', inpaintFiles.onnx.unet, sessionOptions);
    const contract: ModelContract = {
      textEncoder: (textEncoders[0] as TextEncoderRun).contract,
      textEncoder2: textEncoders[1]?.contract,
      unet: readUnetContract(unet.signature, 'standard'),
      vaeEncoder: readVaeEncoderContract(vaeEncoder.signature),
      vaeDecoder: readVaeDecoderContract(vaeDecoder.signature),
      inpaintUnet: inpaintUnet === undefined ? undefined : readUnetContract(inpaintUnet.signature, 'inpainting'),
    };
    for (const u of [contract.unet, contract.inpaintUnet]) if (u !== undefined) assertFamilyInputs(u, family);
    if (files.vaeForceUpcast && contract.vaeDecoder.input.type === 'float16') {
      logger.warn(`${contract.vaeDecoder.file}: this VAE's config says force_upcast (SDXL's VAE overflows in float16) but the graph is float16; decode with a float32 VAE (npm run optimize keeps it so) or an fp16-fixed VAE`, {
        file: contract.vaeDecoder.file,
      });
    }
    const vaeScaleFactor = files.vaeScaleFactor ?? (await probeVaeScaleFactor(vaeDecoder, contract.vaeDecoder));
    const sd = new StableDiffusion({ textEncoders, unet, vaeEncoder, vaeDecoder, inpaintUnet }, contract, family, scheduler, {
      latentScale: files.latentScale,
      vaeScaleFactor,
      modelSize: modelSizeFromConfig(files.unetSampleSize, vaeScaleFactor, family.defaultSize),
    });
    // optimum leaves text_embeds' width symbolic: one encoding of the empty prompt tells it.
    if (textEncoders.some((e) => e.use.pooled)) sd.pooledSize = (await sd.encodePrompts([''])).pooledSize;
    return sd;
  }

  /** True when an inpainting UNet is loaded. */
  get hasInpaintUnet(): boolean {
    return this.sessions.inpaintUnet !== undefined;
  }

  /**
   * Tokenizes and encodes `prompts`, one call per text encoder: each encoder's hidden state (the family says which)
   * concatenated on the last axis, then the pooled embedding (SDXL). The empty prompt is all zeros when the family
   * says `zerosForEmptyPrompt` (SDXL base: its unconditional branch was trained on zeros).
   */
  async encodePrompts(prompts: readonly string[]): Promise<PromptEmbeddings> {
    const count = prompts.length;
    const truncated = new Set<string>();
    const states: { data: Float32Array; width: number }[] = [];
    let pooled: { data: Float32Array; width: number } | undefined;
    for (const encoder of this.sessions.textEncoders) {
      const { inputIds, hiddenState, pooled: pooledSlot, file } = encoder.contract;
      const length = encoder.tokenizer.maxLength;
      const ids = new Int32Array(count * length);
      prompts.forEach((prompt, i) => {
        const encoded = encoder.tokenizer.encode(prompt);
        ids.set(encoded.ids, i * length);
        if (encoded.truncated) truncated.add(prompt);
      });
      const result = await encoder.opened.session.run({ [inputIds.name]: intTensor(inputIds.type, ids, [count, length]) });
      const out = result[hiddenState.name];
      const data = readFloats(out, `${file} ${hiddenState.name}`);
      states.push({ data, width: Number(out?.dims[2] ?? data.length / (count * length)) });
      if (pooledSlot !== undefined) {
        const data = readFloats(result[pooledSlot.name], `${file} ${pooledSlot.name}`);
        pooled = { data, width: data.length / count };
      }
    }
    const sequenceLength = this.tokenizer.maxLength;
    const hiddenSize = states.reduce((sum, s) => sum + s.width, 0);
    const pooledSize = pooled?.width ?? 0;
    const rowSize = sequenceLength * hiddenSize + pooledSize;
    const data = new Float32Array(count * rowSize);
    for (let i = 0; i < count; i++) {
      if (this.family.zerosForEmptyPrompt && prompts[i] === '') continue;
      const rowStart = i * rowSize;
      for (let token = 0; token < sequenceLength; token++) {
        let at = rowStart + token * hiddenSize;
        for (const s of states) {
          const from = (i * sequenceLength + token) * s.width;
          data.set(s.data.subarray(from, from + s.width), at);
          at += s.width;
        }
      }
      if (pooled !== undefined) data.set(pooled.data.subarray(i * pooledSize, (i + 1) * pooledSize), rowStart + sequenceLength * hiddenSize);
    }
    return { data, count, sequenceLength, hiddenSize, pooledSize, rowSize, truncated: [...truncated] };
  }

  /**
   * The UNet's prediction for a batch of latents at one timestep: the noise ε, or v for a v-prediction model
   * (`scheduler.predictionType`; the scheduler's steps and the mask convert it with `modelOutputToEpsilon`).
   * @param sample [batch, channels, height, width] float32 (channels 4, or 9 for the inpainting UNet)
   * @param embeddings one {@link PromptEmbeddings} row per batch item
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
    const [batch, , height, width] = dims;
    const sequence = this.tokenizer.maxLength;
    const added = contract.addedConditions;
    const pooledSize = this.pooledSize;
    const hidden = (embeddings.length / batch - pooledSize) / sequence;
    const feeds: Record<string, ort.Tensor> = {
      [contract.sample.name]: floatTensor(contract.sample.type, sample, dims),
      [contract.timestep.name]: timestepTensor(contract, timestep, batch),
      [contract.encoderHiddenStates.name]: floatTensor(
        contract.encoderHiddenStates.type,
        pooledSize === 0 ? embeddings : splitRows(embeddings, batch, sequence * hidden, 0),
        [batch, sequence, hidden],
      ),
    };
    if (added !== undefined) {
      const timeIds = sdxlTimeIds(height * this.vaeScaleFactor, width * this.vaeScaleFactor);
      feeds[added.textEmbeds.name] = floatTensor(added.textEmbeds.type, splitRows(embeddings, batch, pooledSize, sequence * hidden), [batch, pooledSize]);
      feeds[added.timeIds.name] = floatTensor(added.timeIds.type, Float32Array.from({ length: batch * 6 }, (_, i) => timeIds[i % 6] as number), [batch, 6]);
    }
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
    const all = [...this.sessions.textEncoders.map((e) => e.opened), this.sessions.unet, this.sessions.vaeEncoder, this.sessions.vaeDecoder, this.sessions.inpaintUnet];
    await Promise.all(all.flatMap((s) => (s === undefined ? [] : [s.session.release()])));
  }
}

/** Each of `count` rows' `width` values starting at `offset`, as one array (rows of `rows.length / count`). */
function splitRows(rows: Float32Array, count: number, width: number, offset: number): Float32Array {
  const rowSize = rows.length / count;
  const out = new Float32Array(count * width);
  for (let i = 0; i < count; i++) out.set(rows.subarray(i * rowSize + offset, i * rowSize + offset + width), i * width);
  return out;
}

/** Refuses a UNet whose inputs do not match the family's: SDXL's take text_embeds and time_ids, the others do not. */
function assertFamilyInputs(unet: UnetContract, family: ModelFamily): void {
  if ((unet.addedConditions !== undefined) === family.addedConditions) return;
  throw new DiffEditError(
    ErrorCode.ModelContractMismatch,
    family.addedConditions
      ? `${unet.file}: an ${family.label} export's UNet must take "text_embeds" and "time_ids"; this one does not (a UNet of another family?).`
      : `${unet.file}: this UNet takes "text_embeds" and "time_ids" (an SDXL UNet), but the export is ${family.label} (no text_encoder_2/, model_index.json not StableDiffusionXLPipeline).`,
    { file: unet.file, family: family.name },
  );
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

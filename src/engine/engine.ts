/**
 * The DiffEdit engine: picture bytes and two prompts in; mask, edited picture and the rendered PNG out.
 * One instance owns one set of ONNX sessions; callers (CLI, bot queue) run one job at a time through it.
 */
import { DiffEditError, ErrorCode } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import { imageDigest, inversionKey, maskKey, modelIdentity } from './cache/cache-keys.js';
import type { StageCache } from './cache/stage-cache.js';
import { maskAtArea, type AreaMask } from './diffedit/area.js';
import { computeMask, type MaskComputation } from './diffedit/mask.js';
import { coverage as maskCoverageOf } from './diffedit/mask-stats.js';
import {
  decodeVariationsWithMask,
  decodeWithInpaintUnet,
  invertLatents,
  type DecodeInputs,
  type EditOptions,
  type EditPrompts,
} from './diffedit/edit.js';
import { row, type LatentShape } from './diffedit/latents.js';
import { packMask, type PackedMask } from './diffedit/packed-mask.js';
import { checkpoint, throwIfAborted, type RunControls } from './diffedit/progress.js';
import {
  DEFAULT_MAX_OUTPUT_SIDE,
  DEFAULT_MAX_RESULT_BYTES,
  decodePicture,
  editedPhotos,
  encodeAttachment,
  fullSizeAttachment,
  imageToTensor,
  modelView,
  pngWithin,
  renderCandidates,
  renderMaskImage,
  renderPanel,
  tensorToImage,
  upscaleMask,
  type DecodedPicture,
  type EncodedPhoto,
  type GrayMask,
  type RgbImage,
} from './image/index.js';
import { once, phaseClock, type Job, type JobMask, type PhaseLaps } from './job.js';
import { StableDiffusion, type LoadOptions } from './models/stable-diffusion.js';
import type { ProviderName } from './models/sessions.js';
import { gaussian, type GaussianSource } from './noise.js';
import { DEFAULT_PARAMETERS, candidateSeed, resolveParameters, resolveVariations, validatePrompts, type EditParameters } from './parameters.js';
import { cachedStage, requestedMask, soleArray } from './stages.js';
import { unetBatchSizes } from './warm-up.js';
import { definedOnly } from '../util/objects.js';
import type { EditRequest, PhaseTimings } from './request.js';

export type { EditRequest, PhaseTimings } from './request.js';

/** How to build an engine. */
export interface EngineOptions extends LoadOptions {
  /**
   * Model resolution: the longer side of the picture, a multiple of 64. Default: the model's own size (unet
   * sample_size x the VAE factor: 512 for SD 1.5, 768 for SD 2.1, 1024 for SDXL; 512 when the export has no UNet config).
   */
  readonly size?: number | undefined;
  /** Largest picture accepted, in declared pixels (checked before decoding). */
  readonly maxInputPixels?: number;
  /** Largest picture accepted, in bytes. */
  readonly maxInputBytes?: number;
  /** The full-size photo's longer side is capped at this many pixels (default 2048). */
  readonly maxOutputSide?: number;
  /** Bytes a result's files may take together, panel and full-size photo (default 10 MiB, Discord's upload limit). */
  readonly maxResultBytes?: number;
  /**
   * Most UNet batch items in one call (the mask's draws are chunked to fit). Default: 20 (the whole mask in one
   * call) on GPU providers, 2 on the CPU, where the full SD 1.5 UNet measured the same time per item at batch 1,
   * 2, 4 and 8 (5.3-6.7 s) while its peak memory grew from 3.6 to 5.2 GB (docs/performance.md).
   */
  readonly maxBatch?: number | undefined;
  /** Where masks and inverted latents are kept between jobs (a Reroll then runs only the decoding); none: no reuse. */
  readonly cache?: StageCache | undefined;
  /**
   * Candidates a job decodes when its request does not say (VARIATIONS_DEFAULT). Default: 4 on GPU providers, where
   * a batch of 8 UNet items costs little more than one of 2, and 1 on the CPU, where every item costs seconds.
   */
  readonly variations?: number | undefined;
}

/** One candidate of a job: its edit seed and its full-size photo. */
export interface Candidate {
  readonly seed: number;
  /**
   * The edited photo, composited: for a one-candidate job the same as {@link EditResult.photo}; with several, each
   * within the whole upload limit, as it is posted alone ("Use k"). Undefined when it does not fit.
   */
  readonly photo: EncodedPhoto | undefined;
}

/** What a job produced. */
export interface EditResult {
  /** The parameters used, both seeds included (rerun with them to get the same picture). */
  readonly parameters: EditParameters;
  readonly ref: string;
  readonly query: string;
  /** The picture at model resolution. */
  readonly input: RgbImage;
  /** The mask at picture resolution. */
  readonly mask: GrayMask;
  /** The mask at latent resolution, 0/1 per cell. */
  readonly latentMask: Float32Array;
  /** The same, packed: what a stored job keeps and hands back as {@link EditRequest.latentMask}. */
  readonly packedMask: PackedMask;
  /** Fraction of the picture the mask covers. */
  readonly coverage: number;
  /** The (first candidate's) decoded frame at model resolution, before compositing; absent for mask-only jobs. */
  readonly output: RgbImage | undefined;
  /**
   * The PNG to show: input, mask and the output as posted (the composited photo at model resolution), one output per
   * candidate; or the mask panel for mask-only jobs.
   */
  readonly png: Buffer;
  /**
   * The full-size attachment, posted beside the panel: the edited photo at the photo's resolution (capped) in the
   * input's format family, or for mask-only jobs the mask as a grey PNG. Undefined when even a small version would
   * not fit within the upload limit beside the panel (a warning says so), and for a job of several candidates (each
   * has its own, in {@link candidates}).
   */
  readonly photo: EncodedPhoto | undefined;
  /** The candidates, in order (none for mask-only jobs). */
  readonly candidates: readonly Candidate[];
  readonly timings: PhaseTimings;
  /** UNet batch items evaluated (a batch of 20 counts 20). */
  readonly unetEvaluations: number;
  /** UNet calls made. */
  readonly unetCalls: number;
  /** The provider running the UNet. */
  readonly provider: ProviderName;
  /** Things the user may want to know (a prompt cut at 75 tokens, an empty mask). */
  readonly warnings: readonly string[];
}

/**
 * Noise streams: the mask's draws come from the mask seed, the decoder's noise from the edit seed. Distinct streams
 * too, so that equal seeds still never share numbers (and a job from before the seeds were split, whose one seed
 * became its mask seed, gets its old mask back).
 */
const MASK_STREAM = 0;
const DECODE_STREAM = 1;

/** Runs DiffEdit jobs on one loaded set of Stable Diffusion models. */
export class DiffEditEngine {
  /** The loaded models (contract, providers, scheduler). */
  readonly models: StableDiffusion;
  /** Model resolution (longer side). */
  readonly size: number;
  /** The photo's long-side cap: the output's and, through the model's picture, the cache keys'. */
  private readonly outputSide: number;
  private readonly options: EngineOptions;
  private readonly logger: Logger;
  /** {@link modelIdentity}: part of every cache key. */
  private readonly identity: string;

  private constructor(models: StableDiffusion, options: EngineOptions, identity: string) {
    this.models = models;
    this.options = options;
    this.identity = identity;
    this.size = options.size ?? models.modelSize;
    this.outputSide = options.maxOutputSide ?? DEFAULT_MAX_OUTPUT_SIDE;
    this.logger = options.logger ?? silentLogger;
  }

  /** Loads the models and checks their contract; throws a typed error naming any missing or wrong file. */
  static async create(options: EngineOptions): Promise<DiffEditEngine> {
    const models = await StableDiffusion.load(options);
    return new DiffEditEngine(models, options, await modelIdentity(models));
  }

  /**
   * Runs one job: prepare -> mask -> edit (skipped for mask-only jobs) -> composite -> render -> full-size output, each stage
   * recording its phase's time. Bad input throws a {@link DiffEditError} before any model runs.
   */
  async run(request: EditRequest, controls: RunControls = {}): Promise<EditResult> {
    const job = await this.prepare(request, controls);
    const masked = await this.mask(job);
    const decoded = job.maskOnly ? [] : await this.edit(job, masked);
    // Composited before the panel is drawn: the panel shows what is posted.
    const edited = await this.composite(job, masked, decoded);
    const png = await this.render(job, masked, edited);
    const photos = await this.fullSizeOutput(job, masked, edited, png);
    checkpoint(controls, { phase: 'render', step: 1, total: 1 });
    return this.result(job, masked, decoded, png, photos);
  }

  /**
   * Validates the request, decodes the picture and encodes the prompts (the picture's latents wait for the first
   * stage that needs them). The phase clock starts after validation.
   */
  private async prepare(request: EditRequest, controls: RunControls): Promise<Job> {
    const started = performance.now();
    const { prompts, parameters, seeds } = this.validate(request);
    const evaluationsBefore = this.models.unetEvaluations;
    const warnings: string[] = [];
    const clock = phaseClock();

    const picture = await this.decode(request.image);
    const input = picture.model;
    if (picture.pages > 1) warnings.push(`The picture is animated (${picture.pages} frames): only its first frame was used.`);
    throwIfAborted(controls.signal);
    const maskOnly = request.maskOnly === true;
    const embeddings = await this.encodePrompts(prompts, maskOnly, warnings);
    const pixels = imageToTensor(input);
    const imageLatents = once(() => this.models.encodeImage(pixels, input.width, input.height));
    const f = this.models.vaeScaleFactor;
    const shape: LatentShape = { channels: 4, height: input.height / f, width: input.width / f };
    const laps: PhaseLaps = { prepare: clock.lap(), mask: 0, invert: 0, decode: 0, render: 0, output: 0 };

    // Hashed after the lap: the picture's digest is timed with the mask, the first phase to read the cache.
    const cache = this.options.cache;
    const cacheInputs =
      cache === undefined
        ? undefined
        : { model: this.identity, size: this.size, outputSide: this.outputSide, image: imageDigest(request.image), ...prompts };
    return {
      request,
      controls,
      prompts,
      parameters,
      seeds,
      maskOnly,
      picture,
      input,
      pixels,
      imageLatents,
      shape,
      embeddings,
      cacheInputs,
      warnings,
      unetCalls: 0,
      evaluationsBefore,
      started,
      clock,
      laps,
    };
  }

  /** The cleaned prompts, the resolved parameters and the candidates' seeds; throws a typed error for bad input. */
  private validate(request: EditRequest): Pick<Job, 'prompts' | 'parameters' | 'seeds'> {
    const prompts = validatePrompts(request.ref, request.query);
    const parameters = resolveParameters(request);
    const variations = request.maskOnly === true ? 0 : resolveVariations(request.variations, this.defaultVariations);
    const seeds = Array.from({ length: variations }, (_, k) => candidateSeed(parameters.seed, k));
    if (parameters.decoder === 'inpaint' && !this.models.hasInpaintUnet) {
      throw new DiffEditError(ErrorCode.InvalidOption, 'The inpainting decoder needs an inpainting model (set INPAINT_MODEL_DIR).', {
        option: 'decoder',
      });
    }
    return { prompts, parameters, seeds };
  }

  /** The upload decoded at the model size, within the configured limits. */
  private decode(image: Uint8Array): Promise<DecodedPicture> {
    return decodePicture(image, {
      size: this.size,
      maxOutputSide: this.outputSide,
      ...definedOnly({ maxInputPixels: this.options.maxInputPixels, maxInputBytes: this.options.maxInputBytes }),
    });
  }

  /** The prompts' embeddings; a warning for each prompt cut at CLIP's 75 tokens. */
  private async encodePrompts(prompts: Job['prompts'], maskOnly: boolean, warnings: string[]): Promise<EditPrompts> {
    // The empty prompt (the unconditional branch, and the 'uncond' inversion's) is only needed past the mask,
    // which cancels it.
    const embeddings = await this.models.encodePrompts(maskOnly ? [prompts.ref, prompts.query] : [prompts.ref, prompts.query, '']);
    for (const text of embeddings.truncated) {
      warnings.push(`"${text.slice(0, 40)}..." is longer than CLIP's 75 tokens and was cut.`);
      this.logger.warn('prompt truncated to 75 tokens', { prompt: text });
    }
    const rowSize = embeddings.rowSize;
    return {
      ref: row(embeddings.data, 0, rowSize),
      query: row(embeddings.data, 1, rowSize),
      uncond: maskOnly ? new Float32Array(0) : row(embeddings.data, 2, rowSize),
    };
  }

  /**
   * The mask stage: the request's mask when it fits, else the job's area of the difference map (cached, else
   * computed and cached).
   */
  private async mask(job: Job): Promise<JobMask> {
    const { request, shape, input } = job;
    const given = request.latentMask === undefined ? undefined : requestedMask(request.latentMask, shape);
    if (request.latentMask !== undefined && given === undefined) this.logger.warn('stored mask does not fit this picture: computing it', { shape });
    // A given mask is used as it is ("Edit with this mask" hands back the mask job's mask, at its area).
    const latentMask = given ?? (await this.maskAtArea(job));
    const mask = upscaleMask(latentMask, shape.width, shape.height, input.width, input.height);
    const coverage = maskCoverageOf(latentMask);
    if (coverage === 0) job.warnings.push('The mask is empty: ref and query lead to the same picture here, so nothing was changed.');
    job.laps.mask = job.clock.lap();
    return { latentMask, mask, coverage };
  }

  /**
   * The mask at the job's area: the difference map (cached: another area of the same mask seed draws nothing),
   * thresholded at the automatic level or the steps away from it the job asks for. An area that would leave nothing
   * to edit, or the whole picture, is refused.
   */
  private async maskAtArea(job: Job): Promise<Float32Array> {
    const { parameters, shape } = job;
    const stage = await cachedStage(this.options.cache, job.cacheInputs && maskKey(job.cacheInputs, parameters), async () => {
      const computed = await this.computeLatentMask(await job.imageLatents(), shape, job.embeddings, parameters, job.controls);
      job.unetCalls += computed.unetCalls;
      return [computed.map];
    });
    const map = soleArray(stage);
    const area = maskAtArea(map, parameters.area, { thresholding: parameters.thresholding, dilate: parameters.dilate, ...shape });
    if (parameters.area !== 0) assertAreaFits(area, parameters.area);
    return area.mask;
  }

  /**
   * The edit stage: each candidate's decoded frame, from the inverted latents (cached) decoded under the mask, all
   * candidates in the same UNet calls, or from the inpainting decoder. The invert lap ends where the decoding starts.
   */
  private async edit(job: Job, masked: JobMask): Promise<RgbImage[]> {
    const { parameters, input } = job;
    const options: EditOptions = {
      steps: parameters.steps,
      strength: parameters.strength,
      guidance: parameters.guidance,
      eta: parameters.eta,
      inversion: parameters.inversion,
    };
    const inputs: Omit<DecodeInputs, 'noise'> = { shape: job.shape, mask: masked.latentMask, prompts: job.embeddings, options };
    const noises = job.seeds.map((seed) => gaussian(seed, DECODE_STREAM));
    const latents =
      parameters.decoder === 'inpaint' ? await this.inpaint(job, masked.mask, inputs, noises) : await this.invertAndDecode(job, inputs, noises);
    const outputs: RgbImage[] = [];
    // One VAE call per candidate: a candidate's frame is then the one it would get alone.
    for (const candidate of latents) {
      outputs.push(tensorToImage(await this.models.decodeLatents(candidate, input.width, input.height), input.width, input.height));
    }
    job.laps.decode = job.clock.lap();
    return outputs;
  }

  /**
   * The inpainting decoder's latents, one candidate after another; its "inversion" is encoding the picture with the
   * masked region blanked.
   */
  private async inpaint(job: Job, mask: GrayMask, inputs: Omit<DecodeInputs, 'noise'>, noises: GaussianSource[]): Promise<Float32Array[]> {
    const maskedLatents = await this.models.encodeImage(maskOutPixels(job.pixels, mask), job.input.width, job.input.height);
    job.laps.invert = job.clock.lap();
    const latents: Float32Array[] = [];
    for (const noise of noises) {
      latents.push(await decodeWithInpaintUnet(this.models, await job.imageLatents(), maskedLatents, { ...inputs, noise }, job.controls));
      job.unetCalls += decodeSteps(job.parameters);
    }
    return latents;
  }

  /** The DDIM decoder's latents, from the inverted latents (cached: a Reroll skips the inversion), batched. */
  private async invertAndDecode(job: Job, inputs: Omit<DecodeInputs, 'noise'>, noises: GaussianSource[]): Promise<Float32Array[]> {
    const inversion = await cachedStage(this.options.cache, job.cacheInputs && inversionKey(job.cacheInputs, job.parameters), async () =>
      invertLatents(this.models, await job.imageLatents(), job.shape, job.embeddings, inputs.options, job.controls),
    );
    if (inversion.computed) job.unetCalls += inversion.arrays.length - 1;
    job.laps.invert = job.clock.lap();
    const decoded = await decodeVariationsWithMask(this.models, inversion.arrays, inputs, noises, this.maxBatch, job.controls);
    job.unetCalls += decoded.unetCalls;
    return decoded.latents;
  }

  /** The composite stage (timed with the output): each candidate's edited photo at the photo's resolution. */
  private async composite(job: Job, masked: JobMask, decoded: readonly RgbImage[]): Promise<RgbImage[]> {
    if (decoded.length === 0) return [];
    const { shape } = job;
    const latent = { data: masked.latentMask, width: shape.width, height: shape.height };
    const edited = await editedPhotos(job.picture, decoded, latent, { composite: job.parameters.composite, cell: this.models.vaeScaleFactor });
    job.laps.output = job.clock.lap();
    return edited;
  }

  /**
   * The render stage: input, mask and the output as posted (the edited photo seen at model resolution), one output
   * per candidate (scaled down if the row would not fit within the upload limit); or the mask panel for mask-only
   * jobs.
   */
  private async render(job: Job, masked: JobMask, edited: readonly RgbImage[]): Promise<Buffer> {
    const { input, prompts, picture, seeds } = job;
    const views = await Promise.all(edited.map((photo) => modelView(picture, photo)));
    let png: Buffer;
    if (views.length === 0) png = await renderMaskImage(input, masked.mask, `mask: ${prompts.ref} -> ${prompts.query}`);
    else if (views.length === 1)
      png = await renderPanel(input, masked.mask, views[0] as RgbImage, { mask: 'mask', input: prompts.ref, output: prompts.query });
    else {
      const outputs = seeds.map((seed, k) => `${k + 1}: seed ${seed}`);
      const wide = await renderCandidates(input, masked.mask, views, { input: prompts.ref, mask: `mask -> ${prompts.query}`, outputs });
      png = (await pngWithin(wide, this.maxResultBytes)) ?? wide;
    }
    job.laps.render = job.clock.lap();
    return png;
  }

  /**
   * The full-size output stage: the attachment beside the panel, within what the upload limit leaves; with several
   * candidates, each candidate's photo within the whole limit (each is posted alone) and none beside the panel.
   */
  private async fullSizeOutput(
    job: Job,
    masked: JobMask,
    edited: readonly RgbImage[],
    png: Buffer,
  ): Promise<{ photo: EncodedPhoto | undefined; candidates: Candidate[] }> {
    const { shape, picture, seeds } = job;
    const beside = this.maxResultBytes - png.length;
    let photo: EncodedPhoto | undefined;
    const candidates: Candidate[] = [];
    if (edited.length === 0) {
      const latent = { data: masked.latentMask, width: shape.width, height: shape.height };
      const full = await fullSizeAttachment(picture, latent, undefined, { composite: false, cell: this.models.vaeScaleFactor, maxBytes: beside });
      job.warnings.push(...full.warnings);
      photo = full.photo;
    }
    for (const [k, pixels] of edited.entries()) {
      const full = await encodeAttachment({ ...pixels, channels: 3 }, picture.format, edited.length === 1 ? beside : this.maxResultBytes);
      for (const warning of full.warnings) if (!job.warnings.includes(warning)) job.warnings.push(warning);
      candidates.push({ seed: seeds[k] as number, photo: full.photo });
    }
    if (edited.length === 1) photo = candidates[0]?.photo;
    job.laps.output += job.clock.lap();
    return { photo, candidates };
  }

  /** What the job produced, its total time taken now. */
  private result(
    job: Job,
    masked: JobMask,
    decoded: readonly RgbImage[],
    png: Buffer,
    { photo, candidates }: { photo: EncodedPhoto | undefined; candidates: Candidate[] },
  ): EditResult {
    const { latentMask, mask, coverage } = masked;
    const output = decoded[0];
    return {
      parameters: job.parameters,
      ...job.prompts,
      input: job.input,
      mask,
      latentMask,
      packedMask: packMask(latentMask, job.shape.width, job.shape.height),
      coverage,
      output,
      png,
      photo,
      candidates,
      timings: { ...job.laps, total: performance.now() - job.started },
      unetEvaluations: this.models.unetEvaluations - job.evaluationsBefore,
      unetCalls: job.unetCalls,
      provider: this.models.providers.unet ?? 'cpu',
      warnings: job.warnings,
    };
  }

  /** DiffEdit's mask of image latents `x0`, its draws from the mask seed. */
  private computeLatentMask(
    x0: Float32Array,
    shape: LatentShape,
    prompts: EditPrompts,
    parameters: EditParameters,
    controls: RunControls,
  ): Promise<MaskComputation> {
    const options = {
      draws: parameters.maskDraws,
      strength: parameters.maskStrength,
      thresholding: parameters.thresholding,
      dilate: parameters.dilate,
      maxBatch: this.maxBatch,
    };
    return computeMask(this.models, x0, shape, prompts, gaussian(parameters.maskSeed, MASK_STREAM), options, controls);
  }

  /** Most UNet items per call: the configured cap, else the provider's default. */
  get maxBatch(): number {
    return this.options.maxBatch ?? defaultMaxBatch(this.models.providers.unet);
  }

  /** Candidates a job decodes when it does not say: the configured number, else the provider's default. */
  get defaultVariations(): number {
    return this.options.variations ?? defaultVariations(this.models.providers.unet);
  }

  /** Bytes a result's files may take together. */
  private get maxResultBytes(): number {
    return this.options.maxResultBytes ?? DEFAULT_MAX_RESULT_BYTES;
  }

  /**
   * Runs every model at the shapes a default job at the model size uses (prompts in threes, the UNet at batch 1,
   * 2 and each mask chunk), so the first user doesn't pay for kernel compilation and memory planning (large on
   * GPU providers and for unfused attention). Returns the milliseconds it took.
   */
  async warmUp(): Promise<number> {
    const started = performance.now();
    const side = this.size / this.models.vaeScaleFactor;
    const prompts = await this.models.encodePrompts(['', '', '']);
    const empty = prompts.data.subarray(0, prompts.rowSize);
    const latent = 4 * side * side;
    for (const batch of unetBatchSizes(DEFAULT_PARAMETERS.maskDraws, this.maxBatch, this.defaultVariations)) {
      const embeddings = new Float32Array(batch * empty.length);
      for (let i = 0; i < batch; i++) embeddings.set(empty, i * empty.length);
      await this.models.predictNoise('standard', new Float32Array(batch * latent), [batch, 4, side, side], 1, embeddings);
    }
    const pixels = await this.models.decodeLatents(new Float32Array(latent), this.size, this.size);
    await this.models.encodeImage(pixels, this.size, this.size);
    return Math.round(performance.now() - started);
  }

  /** Releases the ONNX sessions. */
  async close(): Promise<void> {
    await this.models.release();
  }
}

/** The UNet batch cap when none is configured: see {@link EngineOptions.maxBatch}. */
export function defaultMaxBatch(provider: ProviderName | undefined): number {
  return provider === 'cpu' ? 2 : 20;
}

/** Candidates per job when none is configured: see {@link EngineOptions.variations}. */
export function defaultVariations(provider: ProviderName | undefined): number {
  return provider === 'cpu' ? 1 : 4;
}

/**
 * Refuses an area step whose region would be empty or the whole picture (a typed error the user reads): neither is
 * an edit of a region.
 */
function assertAreaFits(area: AreaMask, step: number): void {
  const shown = step > 0 ? `+${step}` : `${step}`;
  if (area.cells <= 0 || maskCoverageOf(area.mask) === 0) {
    throw new DiffEditError(
      ErrorCode.InvalidOption,
      `At area ${shown} the region would be empty: there is nothing smaller to edit. Use a larger area (0 is the automatic size).`,
      { option: 'area', value: step, baseCells: area.baseCells, cells: area.cells },
    );
  }
  if (maskCoverageOf(area.mask) === 1) {
    throw new DiffEditError(
      ErrorCode.InvalidOption,
      `At area ${shown} the region would take the whole picture. Use a smaller area (0 is the automatic size).`,
      { option: 'area', value: step, baseCells: area.baseCells, cells: area.cells },
    );
  }
}

/** Decoding UNet calls of one candidate alone: one per edit step. */
function decodeSteps(parameters: EditParameters): number {
  return Math.floor(parameters.steps * parameters.strength);
}

/** The picture with the masked region set to 0 (mid-grey), as the inpainting pipeline feeds it. */
function maskOutPixels(pixels: Float32Array, mask: GrayMask): Float32Array {
  const plane = mask.width * mask.height;
  const out = new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) out[i] = (mask.data[i % plane] as number) > 127 ? 0 : (pixels[i] as number);
  return out;
}

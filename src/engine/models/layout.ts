/**
 * Where the model files live. `optimum-cli export onnx` and the old diffusers "onnx" branches share the folder
 * layout (only the external-data file name differs, and onnxruntime resolves that itself from the model).
 */
import { access, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { DiffEditError, ErrorCode } from '../../errors.js';
import { assertSupportedPipeline } from './family.js';
import { parseJsonObject } from './json-file.js';
import { scaleFactorFromConfig } from './vae-geometry.js';

/** The model parts a DiffEdit pipeline loads (text_encoder_2: SDXL's second encoder). */
export type ModelPart = 'text_encoder' | 'text_encoder_2' | 'unet' | 'vae_encoder' | 'vae_decoder';

/** Absolute paths of one model directory's files. */
export interface ModelFiles {
  readonly dir: string;
  /** Every part's model.onnx path (text_encoder_2's only exists in SDXL exports: see `hasSecondTextEncoder`). */
  readonly onnx: Readonly<Record<ModelPart, string>>;
  /** The folder holding vocab.json and merges.txt. */
  readonly tokenizerDir: string;
  /** tokenizer_2/ (SDXL's second CLIP tokenizer). */
  readonly tokenizer2Dir: string;
  /** text_encoder_2/model.onnx exists (an SDXL export), checked with tokenizer_2/'s files. */
  readonly hasSecondTextEncoder: boolean;
  /** model_index.json (names the pipeline), when the export has one. */
  readonly modelIndex: Readonly<Record<string, unknown>> | undefined;
  /** unet/config.json, when the export has one. */
  readonly unetConfig: Readonly<Record<string, unknown>> | undefined;
  /** vae_decoder/config.json's `force_upcast` (SDXL's VAE overflows in float16). */
  readonly vaeForceUpcast: boolean;
  /** scheduler/scheduler_config.json, when the export has one. */
  readonly schedulerConfig: string | undefined;
  /** The VAE's latent scaling factor: vae_decoder/config.json's scaling_factor, else SD v1's 0.18215. */
  readonly latentScale: number;
  /** The VAE's spatial factor from vae_decoder/config.json's block_out_channels; undefined when not there (then probed). */
  readonly vaeScaleFactor: number | undefined;
  /** unet/config.json's `sample_size` (latent cells per side the UNet was trained at); undefined when not there. */
  readonly unetSampleSize: number | undefined;
}

const PARTS: readonly ModelPart[] = ['text_encoder', 'unet', 'vae_encoder', 'vae_decoder'];
const ALL_PARTS: readonly ModelPart[] = [...PARTS, 'text_encoder_2'];

/** SD v1's VAE scaling factor; neither ONNX VAE half applies it. */
export const SD_V1_LATENT_SCALE = 0.18215;

const HOW_TO_GET =
  'Run `npm run models` to download an export, or export one with `optimum-cli export onnx --model <sd-repo> <dir>` (see models/README.md).';

/** The small demo model committed with the repository: named for a trial run, never loaded unless asked for. */
export const DEMO_MODEL_DIR = 'demo/model';

/**
 * Throws `NoModelExport` when `dir` does not exist or holds none of an export's files (a fresh clone's models/
 * holds only its README): one message saying there is no export and how to get one, not a missing file's name.
 */
export async function assertExportPresent(dir: string): Promise<void> {
  const root = path.resolve(dir);
  const isDir = await stat(root).then((s) => s.isDirectory(), () => false);
  const markers = [path.join(root, 'model_index.json'), ...PARTS.map((part) => path.join(root, part, 'model.onnx'))];
  if (isDir && (await Promise.all(markers.map(exists))).some(Boolean)) return;
  throw new DiffEditError(
    ErrorCode.NoModelExport,
    [
      `No Stable Diffusion export in ${root}: ${isDir ? 'the folder holds no model files' : 'no such folder'}.`,
      'Get one:',
      '  npm run models    downloads Stable Diffusion 1.5 as ONNX (about 4 GB) into MODEL_DIR (default models/)',
      '  or export one with optimum (models/README.md), or set MODEL_DIR to a folder that holds one.',
      'For a trial run on the small demo model in the repository (a toy trained on coloured shapes, not photos):',
      `  MODEL_DIR=${DEMO_MODEL_DIR}    (npm run diffedit: --models ${DEMO_MODEL_DIR})`,
    ].join('\n'),
    { dir: root, exists: isDir },
  );
}

function exists(file: string): Promise<boolean> {
  return access(file).then(() => true, () => false);
}

/** Checks that `dir` holds a complete export and returns its files; a missing file names itself. */
export async function locateModelFiles(dir: string, parts: readonly ModelPart[] = PARTS): Promise<ModelFiles> {
  const root = path.resolve(dir);
  const isDir = await stat(root).then((s) => s.isDirectory(), () => false);
  if (!isDir) {
    throw new DiffEditError(ErrorCode.ModelFileMissing, `Model directory ${root} does not exist. ${HOW_TO_GET}`, { file: root });
  }
  const onnx = Object.fromEntries(ALL_PARTS.map((part) => [part, path.join(root, part, 'model.onnx')])) as Record<ModelPart, string>;
  const tokenizerDir = path.join(root, 'tokenizer');
  const tokenizer2Dir = path.join(root, 'tokenizer_2');
  const modelIndexFile = path.join(root, 'model_index.json');
  const modelIndex = await readOptionalConfig(modelIndexFile);
  // Before any missing file is reported: an SDXL refiner lacks text_encoder/, and should hear why it is refused.
  assertSupportedPipeline(modelIndex, modelIndexFile, await exists(onnx.text_encoder));
  for (const part of PARTS) if (parts.includes(part)) await mustExist(onnx[part], `the ${part} ONNX model`);
  // An SDXL export: a second text encoder, or a model_index.json that names one (then it must be there).
  const hasSecondTextEncoder = parts.includes('text_encoder') && ((await exists(onnx.text_encoder_2)) || namesComponent(modelIndex, 'text_encoder_2'));
  if (parts.includes('text_encoder')) {
    await mustHaveTokenizer(tokenizerDir);
    if (hasSecondTextEncoder) {
      await mustExist(onnx.text_encoder_2, 'the text_encoder_2 ONNX model (SDXL)');
      await mustHaveTokenizer(tokenizer2Dir);
    }
  }
  const schedulerFile = path.join(root, 'scheduler', 'scheduler_config.json');
  const unetConfig = await readOptionalConfig(path.join(root, 'unet', 'config.json'));
  return {
    dir: root,
    onnx,
    tokenizerDir,
    tokenizer2Dir,
    hasSecondTextEncoder,
    modelIndex,
    unetConfig,
    schedulerConfig: (await exists(schedulerFile)) ? schedulerFile : undefined,
    ...(await readVaeConfig(path.join(root, 'vae_decoder', 'config.json'))),
    unetSampleSize: sampleSizeOf(unetConfig),
  };
}

/** model_index.json lists `name` as a component (`["transformers", "CLIPTextModelWithProjection"]`, not `[null, null]`). */
function namesComponent(modelIndex: Readonly<Record<string, unknown>> | undefined, name: string): boolean {
  const entry = modelIndex?.[name];
  return Array.isArray(entry) && entry.some((x) => x !== null);
}


async function mustHaveTokenizer(dir: string): Promise<void> {
  await mustExist(path.join(dir, 'vocab.json'), 'the CLIP tokenizer vocabulary');
  await mustExist(path.join(dir, 'merges.txt'), 'the CLIP tokenizer merges');
}

async function mustExist(file: string, what: string): Promise<void> {
  if (!(await exists(file))) {
    throw new DiffEditError(ErrorCode.ModelFileMissing, `Missing ${file} (expected ${what}). ${HOW_TO_GET}`, { file, expected: what });
  }
}

/** A JSON config of the export, or undefined when the file is not there (the old diffusers exports have none). */
export async function readOptionalConfig(configFile: string): Promise<Readonly<Record<string, unknown>> | undefined> {
  const text = await readFile(configFile, 'utf8').catch(() => undefined);
  return text === undefined ? undefined : parseJsonObject(text, configFile);
}

function sampleSizeOf(unetConfig: Readonly<Record<string, unknown>> | undefined): number | undefined {
  const value = unetConfig?.['sample_size'];
  // diffusers also allows [height, width]; SD's UNets are square, so the first (the height) stands for both.
  const side = Array.isArray(value) ? (value[0] as unknown) : value;
  return typeof side === 'number' && Number.isInteger(side) && side > 0 ? side : undefined;
}

async function readVaeConfig(configFile: string): Promise<Pick<ModelFiles, 'latentScale' | 'vaeScaleFactor' | 'vaeForceUpcast'>> {
  const config = await readOptionalConfig(configFile);
  if (config === undefined) return { latentScale: SD_V1_LATENT_SCALE, vaeScaleFactor: undefined, vaeForceUpcast: false };
  const value = config['scaling_factor'];
  return {
    latentScale: typeof value === 'number' && value > 0 ? value : SD_V1_LATENT_SCALE,
    vaeScaleFactor: scaleFactorFromConfig(configFile, config),
    vaeForceUpcast: config['force_upcast'] === true,
  };
}

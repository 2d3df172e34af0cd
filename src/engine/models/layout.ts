/**
 * Where the model files live. `optimum-cli export onnx` and the old diffusers "onnx" branches share the folder
 * layout (only the external-data file name differs, and onnxruntime resolves that itself from the model).
 */
import { access, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { DiffEditError, ErrorCode } from '../../errors.js';
import { parseJsonObject } from './json-file.js';
import { scaleFactorFromConfig } from './vae-geometry.js';

/** The model parts a DiffEdit pipeline loads. */
export type ModelPart = 'text_encoder' | 'unet' | 'vae_encoder' | 'vae_decoder';

/** Absolute paths of one model directory's files. */
export interface ModelFiles {
  readonly dir: string;
  readonly onnx: Readonly<Record<ModelPart, string>>;
  /** The folder holding vocab.json and merges.txt. */
  readonly tokenizerDir: string;
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

/** SD v1's VAE scaling factor; neither ONNX VAE half applies it. */
export const SD_V1_LATENT_SCALE = 0.18215;

const HOW_TO_GET =
  'Run `npm run models` to download an export, or export one with `optimum-cli export onnx --model <sd-repo> <dir>` (see models/README.md).';

/** Checks that `dir` holds a complete export and returns its files; a missing file names itself. */
export async function locateModelFiles(dir: string, parts: readonly ModelPart[] = PARTS): Promise<ModelFiles> {
  const root = path.resolve(dir);
  const isDir = await stat(root).then((s) => s.isDirectory(), () => false);
  if (!isDir) {
    throw new DiffEditError(ErrorCode.ModelFileMissing, `Model directory ${root} does not exist. ${HOW_TO_GET}`, { file: root });
  }
  const onnx = {} as Record<ModelPart, string>;
  for (const part of PARTS) {
    const file = path.join(root, part, 'model.onnx');
    if (parts.includes(part)) await mustExist(file, `the ${part} ONNX model`);
    onnx[part] = file;
  }
  const tokenizerDir = path.join(root, 'tokenizer');
  if (parts.includes('text_encoder')) {
    await mustExist(path.join(tokenizerDir, 'vocab.json'), 'the CLIP tokenizer vocabulary');
    await mustExist(path.join(tokenizerDir, 'merges.txt'), 'the CLIP tokenizer merges');
  }
  const schedulerFile = path.join(root, 'scheduler', 'scheduler_config.json');
  const hasScheduler = await access(schedulerFile).then(() => true, () => false);
  return {
    dir: root,
    onnx,
    tokenizerDir,
    schedulerConfig: hasScheduler ? schedulerFile : undefined,
    ...(await readVaeConfig(path.join(root, 'vae_decoder', 'config.json'))),
    unetSampleSize: await readUnetSampleSize(path.join(root, 'unet', 'config.json')),
  };
}

async function mustExist(file: string, what: string): Promise<void> {
  const ok = await access(file).then(() => true, () => false);
  if (!ok) {
    throw new DiffEditError(ErrorCode.ModelFileMissing, `Missing ${file} (expected ${what}). ${HOW_TO_GET}`, { file, expected: what });
  }
}

/** A JSON config of the export, or undefined when the file is not there (the old diffusers exports have none). */
export async function readOptionalConfig(configFile: string): Promise<Readonly<Record<string, unknown>> | undefined> {
  const text = await readFile(configFile, 'utf8').catch(() => undefined);
  return text === undefined ? undefined : parseJsonObject(text, configFile);
}

async function readUnetSampleSize(configFile: string): Promise<number | undefined> {
  const value = (await readOptionalConfig(configFile))?.['sample_size'];
  // diffusers also allows [height, width]; SD's UNets are square, so the first (the height) stands for both.
  const side = Array.isArray(value) ? (value[0] as unknown) : value;
  return typeof side === 'number' && Number.isInteger(side) && side > 0 ? side : undefined;
}

async function readVaeConfig(configFile: string): Promise<Pick<ModelFiles, 'latentScale' | 'vaeScaleFactor'>> {
  const config = await readOptionalConfig(configFile);
  if (config === undefined) return { latentScale: SD_V1_LATENT_SCALE, vaeScaleFactor: undefined };
  const value = config['scaling_factor'];
  return {
    latentScale: typeof value === 'number' && value > 0 ? value : SD_V1_LATENT_SCALE,
    vaeScaleFactor: scaleFactorFromConfig(configFile, config),
  };
}

/**
 * What turns the tiny SD 1.x export into an SD 2.x or SDXL one, in optimum's layout: the real pipelines'
 * model_index.json and scheduler values, SDXL's second text encoder and tokenizer, and its VAE config values.
 */
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { SerializedModel } from './graph-builder.js';
import type { ResolvedOptions } from './options.js';
import { buildTextEncoder } from './text-encoder.js';
import type { TinyTokenizer } from './tokenizer-files.js';

const json = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;

/** Layers of the tiny SDXL encoders: optimum exports hidden_states.0 ... hidden_states.TINY_SDXL_LAYERS. */
export const TINY_SDXL_LAYERS = 3;

/** SD 2.1's model_index.json (stabilityai/stable-diffusion-2-1). */
const SD21_MODEL_INDEX = {
  _class_name: 'StableDiffusionPipeline',
  _diffusers_version: '0.10.0.dev0',
  feature_extractor: ['transformers', 'CLIPImageProcessor'],
  requires_safety_checker: false,
  safety_checker: [null, null],
  scheduler: ['diffusers', 'DDIMScheduler'],
  text_encoder: ['transformers', 'CLIPTextModel'],
  tokenizer: ['transformers', 'CLIPTokenizer'],
  unet: ['diffusers', 'UNet2DConditionModel'],
  vae: ['diffusers', 'AutoencoderKL'],
};

/** SD 2.1's scheduler_config.json: v-prediction, no timestep_spacing key (DDIM's default, leading). */
const SD21_SCHEDULER = {
  _class_name: 'DDIMScheduler',
  _diffusers_version: '0.8.0',
  beta_end: 0.012,
  beta_schedule: 'scaled_linear',
  beta_start: 0.00085,
  clip_sample: false,
  num_train_timesteps: 1000,
  prediction_type: 'v_prediction',
  set_alpha_to_one: false,
  skip_prk_steps: true,
  steps_offset: 1,
  trained_betas: null,
};

/** SDXL base 1.0's model_index.json. */
const SDXL_MODEL_INDEX = {
  _class_name: 'StableDiffusionXLPipeline',
  _diffusers_version: '0.19.0.dev0',
  force_zeros_for_empty_prompt: true,
  add_watermarker: null,
  scheduler: ['diffusers', 'EulerDiscreteScheduler'],
  text_encoder: ['transformers', 'CLIPTextModel'],
  text_encoder_2: ['transformers', 'CLIPTextModelWithProjection'],
  tokenizer: ['transformers', 'CLIPTokenizer'],
  tokenizer_2: ['transformers', 'CLIPTokenizer'],
  unet: ['diffusers', 'UNet2DConditionModel'],
  vae: ['diffusers', 'AutoencoderKL'],
};

/** SDXL base 1.0's scheduler_config.json (epsilon, SD 1.x's betas). */
const SDXL_SCHEDULER = {
  _class_name: 'EulerDiscreteScheduler',
  _diffusers_version: '0.19.0.dev0',
  beta_end: 0.012,
  beta_schedule: 'scaled_linear',
  beta_start: 0.00085,
  clip_sample: false,
  interpolation_type: 'linear',
  num_train_timesteps: 1000,
  prediction_type: 'epsilon',
  sample_max_value: 1.0,
  set_alpha_to_one: false,
  skip_prk_steps: true,
  steps_offset: 1,
  timestep_spacing: 'leading',
  trained_betas: null,
  use_karras_sigmas: false,
};

/** SDXL's VAE config values the engine reads: its own scaling factor, fp16 overflow, 4 blocks (factor 8). */
const SDXL_VAE = {
  _class_name: 'AutoencoderKL',
  block_out_channels: [128, 256, 512, 512],
  latent_channels: 4,
  sample_size: 1024,
  scaling_factor: 0.13025,
  force_upcast: true,
};

/**
 * Rewrites the SD 1.x files of `root` for `opts.family` and copies `opts.unetFrom`'s UNet in; `writeModel` writes a
 * graph as generate.ts does.
 */
export async function applyFamily(
  root: string,
  opts: ResolvedOptions,
  tok: TinyTokenizer,
  writeModel: (file: string, model: SerializedModel) => Promise<void>,
): Promise<void> {
  if (opts.unetFrom !== undefined) await copyUnet(root, opts.unetFrom);
  if (opts.family === 'sd2') {
    await writeFile(path.join(root, 'model_index.json'), json(SD21_MODEL_INDEX));
    await writeFile(path.join(root, 'scheduler', 'scheduler_config.json'), json(SD21_SCHEDULER));
  }
  if (opts.family !== 'sdxl') return;
  await writeFile(path.join(root, 'model_index.json'), json(SDXL_MODEL_INDEX));
  await writeFile(path.join(root, 'scheduler', 'scheduler_config.json'), json(SDXL_SCHEDULER));
  for (const part of ['vae_encoder', 'vae_decoder']) await writeFile(path.join(root, part, 'config.json'), json(SDXL_VAE));
  const specials = [tok.bosId, tok.eosId];
  await writeModel(
    path.join(root, 'text_encoder', 'model.onnx'),
    buildTextEncoder(opts, tok.tokens.length, specials, { part: 'text_encoder', layers: TINY_SDXL_LAYERS }),
  );
  await writeModel(
    path.join(root, 'text_encoder_2', 'model.onnx'),
    buildTextEncoder(opts, tok.tokens.length, specials, { part: 'text_encoder_2', layers: TINY_SDXL_LAYERS }),
  );
  // SDXL's tokenizer_2 (OpenCLIP bigG) pads with "!", not <|endoftext|>.
  for (const file of ['vocab.json', 'merges.txt', 'tokenizer_config.json']) {
    await copyFile(path.join(root, 'tokenizer', file), path.join(root, 'tokenizer_2', file));
  }
  const special = JSON.parse(await readFile(path.join(root, 'tokenizer', 'special_tokens_map.json'), 'utf8')) as Record<string, unknown>;
  await writeFile(path.join(root, 'tokenizer_2', 'special_tokens_map.json'), json({ ...special, pad_token: '!' }));
}

async function copyUnet(root: string, from: string): Promise<void> {
  await copyFile(path.join(from, 'model.onnx'), path.join(root, 'unet', 'model.onnx'));
  await copyFile(path.join(from, 'config.json'), path.join(root, 'unet', 'config.json')).catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  });
}

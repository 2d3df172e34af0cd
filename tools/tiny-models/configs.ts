/**
 * The JSON side files of an export: scheduler config, model_index.json and (optimum layout) each part's config.json.
 */
import { MAX_TOKENS, type ResolvedOptions } from './options.js';
import type { TinyTokenizer } from './tokenizer-files.js';

const json = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;

/** SD v1.5's scheduler/scheduler_config.json. */
export function schedulerConfigJson(): string {
  return json({
    _class_name: 'PNDMScheduler',
    _diffusers_version: '0.6.0',
    beta_end: 0.012,
    beta_schedule: 'scaled_linear',
    beta_start: 0.00085,
    clip_sample: false,
    num_train_timesteps: 1000,
    prediction_type: 'epsilon',
    set_alpha_to_one: false,
    skip_prk_steps: true,
    steps_offset: 1,
    timestep_spacing: 'leading',
    trained_betas: null,
  });
}

/** model_index.json as diffusers writes it for each layout. */
export function modelIndexJson(opts: ResolvedOptions): string {
  const inpaint = opts.unetInChannels === 9;
  if (opts.layout === 'diffusers-onnx') {
    return json({
      _class_name: inpaint ? 'OnnxStableDiffusionInpaintPipeline' : 'OnnxStableDiffusionPipeline',
      _diffusers_version: '0.6.0',
      feature_extractor: ['transformers', 'CLIPImageProcessor'],
      requires_safety_checker: false,
      safety_checker: [null, null],
      scheduler: ['diffusers', 'PNDMScheduler'],
      text_encoder: ['diffusers', 'OnnxRuntimeModel'],
      tokenizer: ['transformers', 'CLIPTokenizer'],
      unet: ['diffusers', 'OnnxRuntimeModel'],
      vae_decoder: ['diffusers', 'OnnxRuntimeModel'],
      vae_encoder: ['diffusers', 'OnnxRuntimeModel'],
    });
  }
  return json({
    _class_name: inpaint ? 'StableDiffusionInpaintPipeline' : 'StableDiffusionPipeline',
    _diffusers_version: '0.30.0',
    feature_extractor: ['transformers', 'CLIPImageProcessor'],
    requires_safety_checker: false,
    safety_checker: [null, null],
    scheduler: ['diffusers', 'PNDMScheduler'],
    text_encoder: ['transformers', 'CLIPTextModel'],
    tokenizer: ['transformers', 'CLIPTokenizer'],
    unet: ['diffusers', 'UNet2DConditionModel'],
    vae: ['diffusers', 'AutoencoderKL'],
  });
}

/** The per-part config.json files optimum writes next to each model.onnx (path relative to the export -> text). */
export function partConfigs(opts: ResolvedOptions, tok: TinyTokenizer): Record<string, string> {
  const vae = {
    _class_name: 'AutoencoderKL',
    in_channels: 3,
    out_channels: 3,
    latent_channels: opts.latentChannels,
    sample_size: 512,
    scaling_factor: 0.18215,
  };
  return {
    'text_encoder/config.json': json({
      architectures: ['CLIPTextModel'],
      model_type: 'clip_text_model',
      hidden_size: opts.hiddenSize,
      max_position_embeddings: MAX_TOKENS,
      vocab_size: tok.tokens.length,
      bos_token_id: tok.bosId,
      eos_token_id: tok.eosId,
      pad_token_id: 1,
    }),
    'unet/config.json': json({
      _class_name: 'UNet2DConditionModel',
      in_channels: opts.unetInChannels,
      out_channels: opts.latentChannels,
      cross_attention_dim: opts.hiddenSize,
      sample_size: 64,
    }),
    'vae_encoder/config.json': json(vae),
    'vae_decoder/config.json': json(vae),
  };
}

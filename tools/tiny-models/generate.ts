/**
 * Generates a tiny Stable Diffusion v1 ONNX export (text encoder, UNet, VAE encoder and decoder, CLIP tokenizer
 * files, scheduler config) with exactly the real tensor contract, for tests: random weights, a few hundred KB.
 * See each part's file for what it computes; unet.ts documents the behaviour tests rely on.
 */
import { mkdir, open, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { modelIndexJson, partConfigs, schedulerConfigJson } from './configs.js';
import { applyFamily } from './families.js';
import type { SerializedModel } from './graph-builder.js';
import { resolveOptions, type TinyModelOptions } from './options.js';
import { buildTextEncoder } from './text-encoder.js';
import { buildTinyTokenizer, mergesTxt, specialTokensMapJson, tokenizerConfigJson, vocabJson } from './tokenizer-files.js';
import { buildUnet, serializeUnet } from './unet.js';
import { buildVaeDecoder, buildVaeEncoder } from './vae.js';

export type { Region, ResolvedOptions, TinyModelOptions } from './options.js';
export { DEFAULT_REGION, resolveOptions } from './options.js';
export { regionMask, unetTimeScales } from './unet.js';
export { TINY_PROMPT_WORDS } from './tokenizer-files.js';
export { TINY_SDXL_LAYERS } from './families.js';

/** The external-data file of the UNet for each layout. */
export function unetExternalDataFile(layout: 'optimum' | 'diffusers-onnx'): string {
  return layout === 'diffusers-onnx' ? 'weights.pb' : 'model.onnx_data';
}

async function writeModel(file: string, model: SerializedModel, externalName?: string): Promise<void> {
  await writeFile(file, model.model);
  if (model.externalData !== undefined && externalName !== undefined) {
    const handle = await open(path.join(path.dirname(file), externalName), 'w');
    try {
      for (const chunk of model.externalData) await handle.write(chunk);
    } finally {
      await handle.close();
    }
  }
}

/** Writes the tiny export into `dir` (created if needed; existing files are overwritten). */
export async function generateTinyModels(dir: string, options: TinyModelOptions = {}): Promise<void> {
  const opts = resolveOptions(options);
  const root = path.resolve(dir);
  const sdxl = opts.family === 'sdxl' ? ['text_encoder_2', 'tokenizer_2'] : [];
  for (const sub of ['text_encoder', 'unet', 'vae_encoder', 'vae_decoder', 'tokenizer', 'scheduler', ...sdxl]) {
    await mkdir(path.join(root, sub), { recursive: true });
  }
  const tok = buildTinyTokenizer();
  await writeFile(path.join(root, 'tokenizer', 'vocab.json'), vocabJson(tok));
  await writeFile(path.join(root, 'tokenizer', 'merges.txt'), mergesTxt(tok));
  await writeFile(path.join(root, 'tokenizer', 'special_tokens_map.json'), specialTokensMapJson());
  await writeFile(path.join(root, 'tokenizer', 'tokenizer_config.json'), tokenizerConfigJson());
  await writeFile(path.join(root, 'scheduler', 'scheduler_config.json'), schedulerConfigJson());
  await writeFile(path.join(root, 'model_index.json'), modelIndexJson(opts));
  if (opts.layout === 'optimum') {
    for (const [file, text] of Object.entries(partConfigs(opts, tok))) await writeFile(path.join(root, file), text);
  }

  await writeModel(path.join(root, 'text_encoder', 'model.onnx'), buildTextEncoder(opts, tok.tokens.length, [tok.bosId, tok.eosId]));
  const external = unetExternalDataFile(opts.layout);
  await writeModel(path.join(root, 'unet', 'model.onnx'), serializeUnet(buildUnet(opts), opts, external), external);
  await writeModel(path.join(root, 'vae_encoder', 'model.onnx'), buildVaeEncoder(opts));
  await writeModel(path.join(root, 'vae_decoder', 'model.onnx'), buildVaeDecoder(opts));
  await applyFamily(root, opts, tok, writeModel);
}

import { describe, expect, it } from 'vitest';
import type { HubFile } from '../../src/download/hub/file.js';
import { INPAINT_COMPONENTS, selectModelFiles } from '../../src/download/select-files.js';

const file = (path: string): HubFile => ({ path, size: 1, oid: '0'.repeat(40) });
const names = (files: HubFile[]): string[] => files.map((f) => f.path).sort();

describe('selectModelFiles', () => {
  it('keeps the ONNX models, their external data and configs, the tokenizer, the scheduler config and model_index.json', () => {
    const listing = [
      'model_index.json',
      'text_encoder/model.onnx',
      'text_encoder/config.json',
      'unet/model.onnx',
      'unet/weights.pb',
      'unet/model.onnx_data',
      'unet/onnx__MatMul_9123',
      'vae_encoder/model.onnx',
      'vae_decoder/model.onnx',
      'vae_decoder/config.json',
      'tokenizer/vocab.json',
      'tokenizer/merges.txt',
      'tokenizer/special_tokens_map.json',
      'scheduler/scheduler_config.json',
    ];
    expect(names(selectModelFiles(listing.map(file)))).toEqual([...listing].sort());
  });

  it('leaves the safety checker, feature extractor, other frameworks weights, other variants, docs and names escaping their folder', () => {
    const listing = [
      'safety_checker/model.onnx',
      'feature_extractor/preprocessor_config.json',
      'unet/diffusion_pytorch_model.safetensors',
      'unet/diffusion_pytorch_model.bin',
      'unet/model_fp16.onnx',
      'unet/fp16/model.onnx',
      'text_encoder/flax_model.msgpack',
      'v1-5-pruned.ckpt',
      'README.md',
      '.gitattributes',
      'scheduler/other.json',
      'tokenizer/..',
      'unet/..',
    ];
    expect(selectModelFiles(listing.map(file))).toEqual([]);
  });

  it('for an inpainting export keeps only the UNet and model_index.json', () => {
    const listing = [
      'model_index.json',
      'unet/model.onnx',
      'unet/weights.pb',
      'text_encoder/model.onnx',
      'tokenizer/vocab.json',
      'vae_decoder/model.onnx',
    ];
    expect(names(selectModelFiles(listing.map(file), INPAINT_COMPONENTS))).toEqual(['model_index.json', 'unet/model.onnx', 'unet/weights.pb']);
  });
});

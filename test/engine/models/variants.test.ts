import { describe, expect, it } from 'vitest';
import { blurDilate, intersectionOverUnion } from '../../../src/engine/diffedit/mask-stats.js';
import type { TinyModelOptions } from '../../../tools/tiny-models/generate.js';
import { DEFAULT_REGION, regionMask } from '../../../tools/tiny-models/generate.js';
import { smoothPhoto, tinyEngine, tinyModelDir } from '../tiny-engine.js';

/** Every exporter variant the engine must read from session metadata, and what it must conclude. */
const VARIANTS: [string, TinyModelOptions, Record<string, unknown>][] = [
  ['optimum >= 1.24 (float32 scalar timestep, int64 ids, latent_parameters)', {}, { timestep: { type: 'float32', rank: 0 }, ids: 'int64', vae: 'latent_parameters', float: 'float32' }],
  ['older optimum (int64 [batch] timestep)', { timestep: { dtype: 'int64', rank: 1 } }, { timestep: { type: 'int64', rank: 1 } }],
  ['float32 [batch] timestep', { timestep: { dtype: 'float32', rank: 1 } }, { timestep: { type: 'float32', rank: 1 } }],
  ['fp16 export (float16 I/O, float16 timestep)', { io: 'float16', timestep: { dtype: 'float16', rank: 1 } }, { timestep: { type: 'float16', rank: 1 }, float: 'float16' }],
  ['fp16 I/O with a float32 scalar timestep', { io: 'float16' }, { timestep: { type: 'float32', rank: 0 }, float: 'float16' }],
  ['old diffusers onnx branch (weights.pb, int32 ids, latent_sample, int64 timestep)', { layout: 'diffusers-onnx', inputIdsType: 'int32', vaeEncoderOutput: 'latent_sample', timestep: { dtype: 'int64', rank: 1 } }, { ids: 'int32', vae: 'latent_sample', timestep: { type: 'int64', rank: 1 } }],
  ['symbolic UNet channels (old diffusers)', { layout: 'diffusers-onnx', symbolicChannels: true }, { channels: 4 }],
  ['SD-width text embeddings (hidden 768)', { hiddenSize: 768 }, { hidden: 768 }],
  [
    'fp16 weights inside, fp32 I/O (an fp16 UNet block behind casts)',
    { benchmarkBlocks: 1, benchmarkChannels: 8, benchmarkDtype: 'float16', benchmarkAttention: 'fused' },
    { float: 'float32' },
  ],
];

describe('model contract detection, per exporter variant', () => {
  it.each(VARIANTS)('%s: reads the contract and edits the region', async (_name, options, expected) => {
    const engine = await tinyEngine(options);
    try {
      const c = engine.models.contract;
      const seen = {
        timestep: { type: c.unet.timestep.type, rank: c.unet.timestep.rank },
        ids: c.textEncoder.inputIds.type,
        vae: c.vaeEncoder.output.kind,
        float: c.unet.sample.type,
        channels: c.unet.inChannels,
        hidden: c.textEncoder.hiddenSize,
      };
      expect(seen).toMatchObject(expected);
      const result = await engine.run({ image: await smoothPhoto(), ref: 'a bowl of strawberries', query: 'a bowl of grapes', seed: 1, steps: 10, maskDraws: 2 });
      expect(intersectionOverUnion(result.latentMask, regionMask(16, 16, DEFAULT_REGION))).toBeGreaterThanOrEqual(0.9);
      expect(result.output?.data.some((v) => v > 0)).toBe(true);
    } finally {
      await engine.close();
    }
  });
});

describe('inpainting UNet as the decoder', () => {
  it('uses the 9-channel UNet from INPAINT_MODEL_DIR and keeps the outside', async () => {
    const inpaintDir = await tinyModelDir({ unetInChannels: 9 });
    const engine = await tinyEngine({}, { inpaintModelDir: inpaintDir });
    try {
      expect(engine.models.contract.inpaintUnet?.inChannels).toBe(9);
      const r = await engine.run({ image: await smoothPhoto(), ref: 'a bowl of strawberries', query: 'a bowl of grapes', seed: 1, maskSeed: 1, steps: 10, decoder: 'inpaint' });
      expect(r.unetCalls).toBe(1 + 8);
      const plain = await engine.run({ image: await smoothPhoto(), ref: 'a bowl of strawberries', query: 'a bowl of grapes', seed: 1, maskSeed: 1, steps: 10, maskOnly: true });
      // Outside the (dilated) mask the picture is the VAE round trip of the input; inside it was redrawn.
      const far = blurDilate(r.latentMask, 16, 16, 1);
      let outside = 0;
      let inside = 0;
      let n = 0;
      let m = 0;
      for (let p = 0; p < 128 * 128; p++) {
        const cell = Math.floor(p / 128 / 8) * 16 + Math.floor((p % 128) / 8);
        const d = Math.abs((r.output!.data[p * 3] as number) - (plain.input.data[p * 3] as number));
        if (far[cell] === 0) [outside, n] = [outside + d, n + 1];
        if (r.latentMask[cell] === 1) [inside, m] = [inside + d, m + 1];
      }
      expect(outside / n).toBeLessThan(2);
      expect(inside / m).toBeGreaterThan(5);
    } finally {
      await engine.close();
    }
  });

  it('refuses an inpainting export as the main model, naming INPAINT_MODEL_DIR', async () => {
    await expect(tinyEngine({ unetInChannels: 9 })).rejects.toThrow(/INPAINT_MODEL_DIR/);
  });

  it('refuses the inpaint decoder when no inpainting model is loaded', async () => {
    const engine = await tinyEngine();
    try {
      await expect(engine.run({ image: await smoothPhoto(), ref: 'a cat', query: 'a dog', decoder: 'inpaint' })).rejects.toMatchObject({ code: 'InvalidOption' });
    } finally {
      await engine.close();
    }
  });
});

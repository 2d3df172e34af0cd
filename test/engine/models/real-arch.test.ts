/**
 * The engine on graphs exported by torch.onnx from diffusers' real UNet and VAE code (test/fixtures/sd-real-arch):
 * the contract read from their metadata, outputs equal to torch's reference pairs, the VAE's factor of 2 and the
 * float32 [batch] timestep read rather than assumed, and a whole edit through them.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DiffEditEngine } from '../../../src/engine/engine.js';
import {
  readUnetContract,
  readVaeDecoderContract,
  readVaeEncoderContract,
  type ModelSignature,
} from '../../../src/engine/models/contract.js';
import { openSession, type SessionOptions } from '../../../src/engine/models/sessions.js';
import { floatTensor, readFloats } from '../../../src/engine/models/tensors.js';
import { silentLogger } from '../../../src/logger.js';
import { smoothPhoto } from '../tiny-engine.js';
import { REAL_ARCH, maxAbsDiff, readRefs, realArchEngine, type RealArchExport } from '../real-arch.js';

const CPU: SessionOptions = { providers: ['cpu'], cpuThreads: 1, logger: silentLogger };

async function signature(fixture: string): Promise<ModelSignature> {
  const opened = await openSession(fixture, path.join(REAL_ARCH, fixture, 'model.onnx'), CPU);
  await opened.session.release();
  return opened.signature;
}

describe('contract read from the real exports’ metadata', () => {
  const CASES: [string, (sig: ModelSignature) => unknown, Record<string, unknown>][] = [
    ['unet', (s) => readUnetContract(s, 'standard'), { inChannels: 4, timestep: { name: 'timestep', type: 'float32', rank: 1 }, output: { name: 'out_sample' } }],
    ['vae_encoder', readVaeEncoderContract, { output: { name: 'latent_sample', kind: 'latent_sample' } }],
    ['vae_encoder_mean', readVaeEncoderContract, { output: { name: 'latent_parameters', kind: 'latent_parameters' } }],
    ['vae_decoder', readVaeDecoderContract, { input: { name: 'latent_sample', type: 'float32' }, output: { name: 'sample' } }],
  ];
  it.each(CASES)('%s', async (fixture, read, expected) => {
    expect(read(await signature(fixture))).toMatchObject(expected);
  });
});

describe('outputs equal torch’s reference pairs (1e-4)', () => {
  const FIXTURES = ['unet', 'vae_encoder_mean', 'vae_decoder'];
  it.each(FIXTURES)('%s', async (fixture) => {
    const opened = await openSession(fixture, path.join(REAL_ARCH, fixture, 'model.onnx'), CPU);
    try {
      for (const ref of await readRefs(fixture)) {
        const feeds = Object.fromEntries(Object.entries(ref.inputs).map(([name, t]) => [name, floatTensor('float32', t.data, t.dims)]));
        const result = await opened.session.run(feeds);
        for (const [name, expected] of Object.entries(ref.outputs)) {
          expect([...(result[name]?.dims ?? [])], `${ref.name} ${name} dims`).toEqual(expected.dims);
          expect(maxAbsDiff(readFloats(result[name], name), expected.data), `${ref.name} ${name}`).toBeLessThan(1e-4);
        }
      }
    } finally {
      await opened.session.release();
    }
  });

  it('vae_encoder samples: (latent_sample - mean) / std is standard normal noise', async () => {
    const opened = await openSession('vae_encoder', path.join(REAL_ARCH, 'vae_encoder', 'model.onnx'), CPU);
    try {
      for (const ref of await readRefs('vae_encoder')) {
        const input = ref.inputs['sample'];
        const mean = ref.outputs['mean']?.data;
        const std = ref.outputs['std']?.data;
        if (input === undefined || mean === undefined || std === undefined) throw new Error(`${ref.name}: incomplete reference`);
        const z = readFloats((await opened.session.run({ sample: floatTensor('float32', input.data, input.dims) }))['latent_sample'], 'z');
        const e = Array.from(z, (v, i) => (v - (mean[i] as number)) / (std[i] as number));
        const m = e.reduce((a, b) => a + b, 0) / e.length;
        const variance = e.reduce((a, b) => a + (b - m) ** 2, 0) / e.length;
        expect(Math.abs(m)).toBeLessThan(0.15);
        expect(variance).toBeGreaterThan(0.8);
        expect(variance).toBeLessThan(1.2);
      }
    } finally {
      await opened.session.release();
    }
  });
});

const engineOn = realArchEngine;

describe('the VAE’s spatial factor is read, not assumed', () => {
  const CASES: [string, RealArchExport, number | RegExp][] = [
    ['probed from the decoder graph (no block_out_channels in the config)', {}, 2],
    ['from vae_decoder/config.json block_out_channels', { vaeBlocks: [32, 64] }, 2],
    ['refused when the config implies more than 8', { vaeBlocks: [32, 64, 64, 64, 64] }, /spatial factor must be 1, 2, 4 or 8.*factor 16/],
  ];
  it.each(CASES)('%s', async (_name, options, expected) => {
    if (typeof expected !== 'number') {
      await expect(engineOn(options)).rejects.toThrow(expected);
      return;
    }
    const engine = await engineOn(options);
    try {
      expect(engine.models.vaeScaleFactor).toBe(expected);
    } finally {
      await engine.close();
    }
  });
});

describe('the engine’s typed model calls on the real graphs', () => {
  let engine: DiffEditEngine;
  beforeAll(async () => {
    engine = await engineOn();
  });
  afterAll(async () => {
    await engine.close();
  });

  it('reads the float32 [batch] timestep and predicts torch’s noise, item by item', async () => {
    expect(engine.models.contract.unet.timestep).toEqual({ name: 'timestep', type: 'float32', rank: 1 });
    const [ref] = await readRefs('unet');
    const { sample, timestep, encoder_hidden_states: text } = ref?.inputs ?? {};
    const expected = ref?.outputs['out_sample']?.data;
    if (sample === undefined || timestep === undefined || text === undefined || expected === undefined) throw new Error('incomplete reference');
    const item = 4 * 32 * 32;
    for (let i = 0; i < 2; i++) {
      const eps = await engine.models.predictNoise(
        'standard',
        sample.data.slice(i * item, (i + 1) * item),
        [1, 4, 32, 32],
        timestep.data[i] as number,
        text.data.slice(i * 77 * 32, (i + 1) * 77 * 32),
      );
      expect(maxAbsDiff(eps, expected.subarray(i * item, (i + 1) * item))).toBeLessThan(1e-4);
    }
  });

  it('encodes to the mean x latent scale and decodes the reference latents', async () => {
    const [encoded] = await readRefs('vae_encoder_mean');
    const pixels = encoded?.inputs['sample']?.data;
    const params = encoded?.outputs['latent_parameters']?.data;
    const [decoded] = await readRefs('vae_decoder');
    const latents = decoded?.inputs['latent_sample']?.data;
    const image = decoded?.outputs['sample']?.data;
    if (pixels === undefined || params === undefined || latents === undefined || image === undefined) throw new Error('incomplete reference');
    const scale = engine.models.latentScale;
    const mean = params.subarray(0, 4 * 16 * 16).map((v) => v * scale);
    expect(maxAbsDiff(await engine.models.encodeImage(pixels, 32, 32), mean)).toBeLessThan(1e-4);
    const scaled = latents.map((v) => v * scale);
    expect(maxAbsDiff(await engine.models.decodeLatents(scaled, 64, 64), image)).toBeLessThan(1e-4);
  });

  it('runs a whole edit: latents at half the picture size, the counted UNet calls, the same bytes per seed', async () => {
    const photo = await smoothPhoto(64, 64);
    const request = { image: photo, ref: 'a bowl of strawberries', query: 'a bowl of grapes', seed: 3, maskSeed: 3, steps: 10, maskDraws: 2 };
    const first = await engine.run(request);
    expect(first.latentMask).toHaveLength(32 * 32);
    expect([first.output?.width, first.output?.height]).toEqual([64, 64]);
    expect(first.unetCalls).toBe(1 + 8 + 8);
    expect(first.unetEvaluations).toBe(4 + 8 + 16);
    expect(first.coverage).toBeGreaterThan(0);
    const again = await engine.run(request);
    expect(Buffer.compare(again.png, first.png)).toBe(0);
  });
});

describe('an export whose VAE encoder samples (latent_dist.sample() baked in)', () => {
  it('loads, and its edits are not reproducible: the reason `npm run optimize` rewrites it to the mean', async () => {
    const engine = await engineOn({ encoder: 'vae_encoder' });
    try {
      expect(engine.models.contract.vaeEncoder.output.kind).toBe('latent_sample');
      const photo = await smoothPhoto(64, 64);
      const a = await engine.models.encodeImage(new Float32Array(3 * 64 * 64).fill(0.2), 64, 64);
      const b = await engine.models.encodeImage(new Float32Array(3 * 64 * 64).fill(0.2), 64, 64);
      expect(maxAbsDiff(a, b)).toBeGreaterThan(1e-3);
      const result = await engine.run({ image: photo, ref: 'a cat', query: 'a dog', seed: 1, steps: 10, maskDraws: 2, maskOnly: true });
      expect(result.latentMask).toHaveLength(32 * 32);
    } finally {
      await engine.close();
    }
  });
});

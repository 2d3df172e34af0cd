/**
 * The sampling VAE encoder (latent_dist.sample() baked in by diffusers' conversion script) rewritten to return
 * the mean: torch's reference mean, the same latents at every call, and reproducible edits.
 */
import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { DiffEditEngine } from '../../src/engine/engine.js';
import { decodeModel } from '../../src/onnx/proto.js';
import { optimizeExport } from '../../src/optimize/optimize-export.js';
import { optimizeModelFile } from '../../src/optimize/optimize-model.js';
import { sampleToMean } from '../../src/optimize/vae-mean.js';
import { silentLogger } from '../../src/logger.js';
import { REAL_ARCH, maxAbsDiff, readRefs, realArchModelDir } from '../engine/real-arch.js';
import { smoothPhoto } from '../engine/tiny-engine.js';

describe('sampleToMean', () => {
  const CASES: [string, RegExp | undefined][] = [
    ['vae_encoder', /"latent_sample" now returns the mean/],
    ['vae_encoder_mean', undefined],
    ['unet', undefined],
  ];
  it.each(CASES)('%s', async (fixture, expected) => {
    const model = decodeModel(await readFile(path.join(REAL_ARCH, fixture, 'model.onnx')));
    const line = sampleToMean(model);
    if (expected === undefined) expect(line).toBeUndefined();
    else expect(line).toMatch(expected);
  });

  it('gives torch’s mean, the same at every call, with no random node left', async () => {
    const target = path.join(await mkdtemp(path.join(os.tmpdir(), 'diffedit-vae-mean-')), 'model.onnx');
    const report = await optimizeModelFile(path.join(REAL_ARCH, 'vae_encoder', 'model.onnx'), target, {
      fuseAttention: true,
      rewrites: [sampleToMean],
    });
    expect(report.rewrites).toHaveLength(1);
    const graph = decodeModel(await readFile(target)).graph;
    expect(graph.node.filter((n) => n.op_type.startsWith('Random'))).toEqual([]);
    expect(graph.output.map((o) => o.name)).toEqual(['latent_sample']);
    const session = await ort.InferenceSession.create(target, { executionProviders: ['cpu'], intraOpNumThreads: 1 });
    try {
      for (const ref of await readRefs('vae_encoder')) {
        const input = ref.inputs['sample'];
        if (input === undefined) throw new Error('no input');
        const feeds = { sample: new ort.Tensor('float32', input.data, input.dims) };
        const first = (await session.run(feeds))['latent_sample']?.data as Float32Array;
        const second = (await session.run(feeds))['latent_sample']?.data as Float32Array;
        expect(maxAbsDiff(first, ref.outputs['mean']?.data ?? [])).toBeLessThan(1e-4);
        expect(second).toEqual(first);
      }
    } finally {
      await session.release();
    }
  });

  it('makes edits on such an export reproducible', async () => {
    const { outDir } = await optimizeExport({ modelDir: await realArchModelDir({ encoder: 'vae_encoder' }) });
    const engine = await DiffEditEngine.create({ modelDir: outDir, providers: ['cpu'], cpuThreads: 1, logger: silentLogger, size: 64, maxBatch: 20 });
    try {
      const request = { image: await smoothPhoto(64, 64), ref: 'a cat', query: 'a dog', seed: 5, maskSeed: 5, steps: 10, maskDraws: 2 };
      const [a, b] = [await engine.run(request), await engine.run(request)];
      expect(Buffer.compare(a.png, b.png)).toBe(0);
    } finally {
      await engine.close();
    }
  });
});

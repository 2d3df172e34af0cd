/**
 * Attention fusion on real torch.onnx exports (torch 1.13 pattern) and on the generator's torch 2.x
 * scaled-dot-product pattern: counts, heads and scales read from the graphs, unrecognised blocks left alone,
 * and the optimised graphs computing what the originals compute.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { decodeModel, type ModelMessage } from '../../src/onnx/proto.js';
import { countOps, fuseAttention } from '../../src/optimize/attention-fusion.js';
import { optimizeExport } from '../../src/optimize/optimize-export.js';
import { optimizeModelFile } from '../../src/optimize/optimize-model.js';
import { pruneGraph } from '../../src/optimize/prune.js';
import { benchmarkBranch } from '../../tools/tiny-models/benchmark.js';
import { generateTinyModels } from '../../tools/tiny-models/generate.js';
import { GraphBuilder } from '../../tools/tiny-models/graph-builder.js';
import { resolveOptions, type BenchmarkAttention } from '../../tools/tiny-models/options.js';
import { REAL_ARCH, maxAbsDiff, readRefs, runModel } from '../engine/real-arch.js';

async function fixtureModel(fixture: string): Promise<ModelMessage> {
  return decodeModel(await readFile(path.join(REAL_ARCH, fixture, 'model.onnx')));
}

function attributes(model: ModelMessage, name: string): number[] {
  return model.graph.node
    .filter((n) => n.op_type === 'MultiHeadAttention')
    .map((n) => n.attribute.find((a) => a.name === name))
    .map((a) => Number(a?.i ?? a?.f));
}

describe('fusion counts, heads and scales read from the real exports', () => {
  const CASES: [string, number, number[], number[]][] = [
    ['unet', 12, [8], [1 / Math.sqrt(8)]],
    ['vae_encoder', 1, [1], [1 / Math.sqrt(64)]],
    ['vae_decoder', 1, [1], [1 / Math.sqrt(64)]],
    ['unet-sd15-graph', 32, [8], [1 / Math.sqrt(40), 1 / Math.sqrt(80), 1 / Math.sqrt(160)]],
    ['vae-decoder-sd15-graph', 1, [1], [1 / Math.sqrt(512)]],
  ];
  it.each(CASES)('%s: %i of %i attention blocks fused, no Softmax left', async (fixture, blocks, heads, scales) => {
    const model = await fixtureModel(fixture);
    const report = fuseAttention(model);
    pruneGraph(model.graph);
    expect(report).toEqual({ softmax: blocks, fused: blocks, unrecognised: [] });
    expect(countOps(model.graph, 'Softmax')).toBe(0);
    expect(countOps(model.graph, 'MultiHeadAttention')).toBe(blocks);
    expect(new Set(attributes(model, 'num_heads'))).toEqual(new Set(heads));
    const seen = [...new Set(attributes(model, 'scale').map((s) => s.toPrecision(6)))].sort();
    expect(seen).toEqual(scales.map((s) => Math.fround(s).toPrecision(6)).sort());
    expect(model.opset_import).toContainEqual({ domain: 'com.microsoft', version: 1 });
  });

  it('leaves an unrecognised block as it is and says why', async () => {
    const model = await fixtureModel('unet');
    const odd = model.graph.node.find((n) => n.op_type === 'Softmax');
    const axis = odd?.attribute.find((a) => a.name === 'axis');
    if (axis === undefined || odd === undefined) throw new Error('the fixture has no Softmax axis');
    axis.i = 1;
    const report = fuseAttention(model);
    pruneGraph(model.graph);
    expect(report.fused).toBe(11);
    expect(report.unrecognised).toEqual([{ node: odd.name, reason: 'Softmax is not over the last axis (axis = -1)' }]);
    expect(countOps(model.graph, 'Softmax')).toBe(1);
  });
});

const tempDir = (): Promise<string> => mkdtemp(path.join(os.tmpdir(), 'diffedit-optimize-'));

describe('optimised real exports compute what the originals compute (CPU EP, 1e-4)', () => {
  it.each(['unet', 'vae_encoder_mean', 'vae_decoder'])('%s', async (fixture) => {
    const source = path.join(REAL_ARCH, fixture, 'model.onnx');
    const target = path.join(await tempDir(), fixture, 'model.onnx');
    const report = await optimizeModelFile(source, target, { fuseAttention: true });
    expect(report.attention?.fused).toBe(report.attention?.softmax);
    expect(countOps(decodeModel(await readFile(target)).graph, 'Softmax')).toBe(0);
    for (const ref of await readRefs(fixture)) {
      const feeds = Object.fromEntries(Object.entries(ref.inputs).map(([name, t]) => [name, new ort.Tensor('float32', t.data, t.dims)]));
      const [original, optimised] = [await runModel(source, feeds), await runModel(target, feeds)];
      for (const [name, expected] of Object.entries(ref.outputs)) {
        expect(maxAbsDiff(optimised[name] ?? [], original[name] ?? [])).toBeLessThan(1e-4);
        expect(maxAbsDiff(optimised[name] ?? [], expected.data)).toBeLessThan(1e-4);
      }
    }
  });
});

describe('the generator’s attention patterns', () => {
  /** A model whose only output is the SD-like benchmark branch (2 blocks: 4 attentions), written to a file. */
  async function branchModel(attention: BenchmarkAttention): Promise<string> {
    const opts = resolveOptions({ benchmarkBlocks: 2, benchmarkChannels: 32, benchmarkAttention: attention });
    const g = new GraphBuilder('branch');
    const sample = g.input('sample', 'float32', ['b', 4, 'h', 'w']);
    const text = g.input('encoder_hidden_states', 'float32', ['b', 77, opts.hiddenSize]);
    g.output('branch', 'float32', ['b', 4, 'h', 'w'], benchmarkBranch(g, opts, sample, text), 'float32');
    const file = path.join(await tempDir(), `${attention}.onnx`);
    await writeFile(file, g.serialize().model);
    return file;
  }

  const wave = (n: number, k: number): Float32Array => Float32Array.from({ length: n }, (_, i) => Math.sin(i * k));
  const CASES: [BenchmarkAttention, string][] = [
    ['sdpa', 'torch >= 2.1 scaled_dot_product_attention: sqrt(scale) on q and kᵀ, scale from Shape(q)'],
    ['unfused', 'scale after q·kᵀ, key transposed straight from the head reshape'],
  ];
  it.each(CASES)('%s (%s): 4 of 4 fused, same outputs', async (attention) => {
    const source = await branchModel(attention);
    const target = `${source}.optimized.onnx`;
    const report = await optimizeModelFile(source, target, { fuseAttention: true });
    expect(report.attention).toEqual({ softmax: 4, fused: 4, unrecognised: [] });
    const feeds = {
      sample: new ort.Tensor('float32', wave(2 * 4 * 8 * 6, 0.37), [2, 4, 8, 6]),
      encoder_hidden_states: new ort.Tensor('float32', wave(2 * 77 * 32, 0.11), [2, 77, 32]),
    };
    const [original, optimised] = [(await runModel(source, feeds))['branch'] ?? [], (await runModel(target, feeds))['branch'] ?? []];
    expect(Math.max(...Array.from(original, Math.abs))).toBeGreaterThan(0.1);
    expect(maxAbsDiff(optimised, original)).toBeLessThan(1e-4);
  });
});

describe('a whole export with external weights (weights.pb)', () => {
  it('streams the weights into the copy, leaves the original untouched, and the copy runs', async () => {
    const dir = await tempDir();
    await generateTinyModels(dir, { layout: 'diffusers-onnx', benchmarkBlocks: 1, benchmarkChannels: 16 });
    const weights = path.join(dir, 'unet', 'weights.pb');
    const hash = async (file: string): Promise<string> =>
      createHash('sha256')
        .update(await readFile(file))
        .digest('hex');
    const [modelBefore, weightsBefore] = [await hash(path.join(dir, 'unet', 'model.onnx')), await hash(weights)];
    const lines: string[] = [];
    const result = await optimizeExport({ modelDir: dir, say: (line) => lines.push(line) });
    expect(result.outDir).toBe(path.join(dir, 'optimized'));
    expect(result.parts['unet']?.attention).toEqual({ softmax: 2, fused: 2, unrecognised: [] });
    expect(result.parts['unet']?.weights).toMatchObject({ location: 'weights.pb' });
    expect(result.parts['unet']?.weights.tensors).toBeGreaterThan(10);
    expect(lines.find((l) => l.startsWith('unet: '))).toMatch(/2 of 2 Softmax nodes fused into MultiHeadAttention/);
    expect([await hash(path.join(dir, 'unet', 'model.onnx')), await hash(weights)]).toEqual([modelBefore, weightsBefore]);
    const feeds = {
      sample: new ort.Tensor('float32', wave(4 * 8 * 8), [1, 4, 8, 8]),
      timestep: new ort.Tensor('float32', Float32Array.from([500]), []),
      encoder_hidden_states: new ort.Tensor('float32', wave(77 * 32), [1, 77, 32]),
    };
    const original = (await runModel(path.join(dir, 'unet', 'model.onnx'), feeds))['out_sample'] ?? [];
    const optimised = (await runModel(path.join(result.outDir, 'unet', 'model.onnx'), feeds))['out_sample'] ?? [];
    expect(maxAbsDiff(optimised, original)).toBeLessThan(1e-5);
    const record = JSON.parse(await readFile(path.join(result.outDir, 'optimized.json'), 'utf8')) as { parts: Record<string, unknown> };
    expect(Object.keys(record.parts).sort()).toEqual(['text_encoder', 'unet', 'vae_decoder', 'vae_encoder']);
  });

  function wave(n: number): Float32Array {
    return Float32Array.from({ length: n }, (_, i) => Math.cos(i * 0.3));
  }
});

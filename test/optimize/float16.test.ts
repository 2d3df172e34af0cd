/**
 * `npm run optimize -- --fp16` on the real-architecture graphs: float32 inputs and outputs, float16 weights,
 * the block-listed ops still in float32, and outputs within 2e-2 of the float32 original on the CPU EP.
 */
import { mkdtemp, readFile, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { DataType, decodeModel } from '../../src/onnx/proto.js';
import { FLOAT32_OPS } from '../../src/optimize/float16.js';
import { optimizeExport } from '../../src/optimize/optimize-export.js';
import { optimizeModelFile } from '../../src/optimize/optimize-model.js';
import { generateTinyModels } from '../../tools/tiny-models/generate.js';
import { REAL_ARCH, maxAbsDiff, readRefs, runModel } from '../engine/real-arch.js';

describe('fp16 copies of the real exports', () => {
  it.each(['unet', 'vae_decoder', 'vae_encoder_mean'])('%s: float32 I/O, float16 weights, within 2e-2 of the original', async (fixture) => {
    const source = path.join(REAL_ARCH, fixture, 'model.onnx');
    const target = path.join(await mkdtemp(path.join(os.tmpdir(), 'diffedit-fp16-')), 'model.onnx');
    const report = await optimizeModelFile(source, target, { fuseAttention: true, fp16: true });
    expect(report.rewrites.join()).toMatch(/fp16: \d+ weights converted/);
    const graph = decodeModel(await readFile(target)).graph;
    expect([...graph.input, ...graph.output].map((v) => v.type.tensor_type.elem_type)).toEqual(
      [...graph.input, ...graph.output].map(() => DataType.FLOAT),
    );
    expect(graph.initializer.filter((t) => t.data_type === DataType.FLOAT)).toEqual([]);
    expect(graph.initializer.some((t) => t.data_type === DataType.FLOAT16)).toBe(true);
    // GroupNorm's InstanceNormalization reads float32: a Cast up in front of each.
    const castsUp = new Set(graph.node.filter((n) => n.op_type === 'Cast' && n.attribute[0]?.i === DataType.FLOAT).flatMap((n) => n.output));
    for (const norm of graph.node.filter((n) => n.op_type === 'InstanceNormalization')) expect(castsUp.has(norm.input[0] ?? '')).toBe(true);
    for (const ref of await readRefs(fixture)) {
      const feeds = Object.fromEntries(Object.entries(ref.inputs).map(([name, t]) => [name, new ort.Tensor('float32', t.data, t.dims)]));
      const [original, half] = [await runModel(source, feeds), await runModel(target, feeds)];
      for (const name of Object.keys(ref.outputs)) {
        expect(maxAbsDiff(half[name] ?? [], original[name] ?? []), `${ref.name} ${name}`).toBeLessThan(2e-2);
      }
    }
  });

  it('gives a reason for every op it keeps in float32', () => {
    for (const [op, reason] of Object.entries(FLOAT32_OPS)) expect(reason.length, op).toBeGreaterThan(20);
  });

  it('halves external weights on their way into the copy', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'diffedit-fp16-export-'));
    await generateTinyModels(dir, { layout: 'diffusers-onnx', benchmarkBlocks: 1, benchmarkChannels: 64 });
    const { outDir, parts } = await optimizeExport({ modelDir: dir, fp16: true });
    const halved = decodeModel(await readFile(path.join(outDir, 'unet', 'model.onnx'))).graph.initializer.filter(
      (t) => t.data_type === DataType.FLOAT16,
    );
    expect(parts['unet']?.rewrites.join()).toContain(`fp16: ${halved.length} weights converted`);
    expect(halved.filter((t) => t.data_location === 1).length).toBeGreaterThan(10);
    const [full, half] = [await stat(path.join(dir, 'unet', 'weights.pb')), await stat(path.join(outDir, 'unet', 'weights.pb'))];
    expect(half.size).toBeLessThan(full.size * 0.6);
    const feeds = {
      sample: new ort.Tensor(
        'float32',
        Float32Array.from({ length: 4 * 8 * 8 }, (_, i) => Math.sin(i)),
        [1, 4, 8, 8],
      ),
      timestep: new ort.Tensor('float32', Float32Array.from([500]), []),
      encoder_hidden_states: new ort.Tensor(
        'float32',
        Float32Array.from({ length: 77 * 32 }, (_, i) => Math.cos(i)),
        [1, 77, 32],
      ),
    };
    const original = (await runModel(path.join(dir, 'unet', 'model.onnx'), feeds))['out_sample'] ?? [];
    const converted = (await runModel(path.join(outDir, 'unet', 'model.onnx'), feeds))['out_sample'] ?? [];
    expect(maxAbsDiff(converted, original)).toBeLessThan(2e-2);
  });
});

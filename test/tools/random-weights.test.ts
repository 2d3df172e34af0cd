/**
 * The random-weights tool: value ranges per tensor kind, and a graph-only export (weights file deleted, table
 * kept) made loadable again.
 */
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { decodeModel } from '../../src/onnx/proto.js';
import { generateTinyModels } from '../../tools/tiny-models/generate.js';
import { Random } from '../../tools/tiny-models/random.js';
import { randomTensor, writeRandomWeights, type InitializerEntry } from '../../tools/random-weights/random-weights.js';

describe('randomTensor', () => {
  const CASES: [string, InitializerEntry, number, boolean][] = [
    [
      'conv weight [320, 4, 3, 3]: ±1/sqrt(36)',
      { name: 'w', dtype: 'FLOAT', dims: [320, 4, 3, 3], location: 'weights.pb', length: 46080 },
      1 / 6,
      true,
    ],
    ['bias [320]: ±0.1', { name: 'b', dtype: 'FLOAT', dims: [320], location: 'weights.pb', length: 1280 }, 0.1, true],
    ['int64 tensor: zeros', { name: 'i', dtype: 'INT64', dims: [4], location: 'weights.pb', length: 32 }, 0, false],
  ];
  it.each(CASES)('%s', (_name, entry, bound, random) => {
    const bytes = randomTensor(entry, new Random(1));
    expect(bytes.byteLength).toBe(entry.length);
    if (!random) {
      expect(bytes.every((b) => b === 0)).toBe(true);
      return;
    }
    const values = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
    const max = Math.max(...Array.from(values, Math.abs));
    expect(max).toBeLessThanOrEqual(bound);
    expect(max).toBeGreaterThan(bound * 0.9);
  });
});

describe('writeRandomWeights', () => {
  it('re-creates a deleted weights.pb from the initializer table: the graph loads and runs', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'diffedit-random-weights-'));
    await generateTinyModels(dir, { layout: 'diffusers-onnx', benchmarkBlocks: 1, benchmarkChannels: 16 });
    const graphDir = path.join(dir, 'unet');
    const weights = path.join(graphDir, 'weights.pb');
    const size = (await stat(weights)).size;
    // The table, as the fixtures' exporter writes it, from the model's own external-data entries.
    const model = decodeModel(await readFile(path.join(graphDir, 'model.onnx')));
    const initializers = model.graph.initializer.map((t) => {
      const entry = (key: string): string | undefined => t.external_data?.find((e) => e.key === key)?.value;
      return {
        name: t.name,
        dtype: t.data_type === 1 ? 'FLOAT' : 'OTHER',
        dims: t.dims,
        location: entry('location') ?? null,
        offset: Number(entry('offset') ?? 0),
        length: Number(entry('length') ?? 0),
      };
    });
    await writeFile(path.join(graphDir, 'initializers.json'), JSON.stringify({ weights_file: 'weights.pb', weights_file_size: size, initializers }));
    await rm(weights);

    const out = path.join(dir, 'restored');
    const result = await writeRandomWeights(graphDir, out, 7);
    expect(result.tensors).toBe(initializers.filter((i) => i.location !== null).length);
    expect((await stat(path.join(out, 'weights.pb'))).size).toBe(size);
    const session = await ort.InferenceSession.create(path.join(out, 'model.onnx'), { executionProviders: ['cpu'], intraOpNumThreads: 1 });
    try {
      const output = await session.run({
        sample: new ort.Tensor('float32', new Float32Array(4 * 8 * 8).fill(0.5), [1, 4, 8, 8]),
        timestep: new ort.Tensor('float32', Float32Array.from([500]), []),
        encoder_hidden_states: new ort.Tensor('float32', new Float32Array(77 * 32).fill(0.1), [1, 77, 32]),
      });
      const values = output['out_sample']?.data as Float32Array;
      expect(values).toHaveLength(4 * 8 * 8);
      expect(values.every(Number.isFinite)).toBe(true);
    } finally {
      await session.release();
    }
  });
});

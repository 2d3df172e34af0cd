/**
 * Re-creates the weights file of a graph-only export (the SD 1.5 UNet and VAE-decoder graphs of
 * test/fixtures/sd-real-arch, whose 3.4 GB weights.pb was deleted) from its initializer table, with seeded random
 * values: not trained weights, but the right size, layout and scale, so the full-size graph loads and runs for
 * benchmarks. One tensor at a time is in memory.
 * FLOAT tensors of rank >= 2: U(±1/sqrt(fan_in)), fan_in = product of dims[1:]; rank 1: U(±0.1); others zeros
 * (the rule of the fixtures' own make_weights.mjs).
 */
import { copyFile, mkdir, open, readFile } from 'node:fs/promises';
import path from 'node:path';
import { Random } from '../tiny-models/random.js';

/** One row of initializers.json. */
export interface InitializerEntry {
  readonly name: string;
  readonly dtype: string;
  readonly dims: readonly number[];
  /** null: stored inside model.onnx. */
  readonly location: string | null;
  readonly offset?: number;
  readonly length?: number;
}

/** initializers.json. */
export interface InitializerTable {
  readonly weights_file: string;
  readonly weights_file_size: number;
  readonly initializers: readonly InitializerEntry[];
}

/** The random values of one tensor (float32 bytes, or zeros for other types). */
export function randomTensor(entry: InitializerEntry, rng: Random): Uint8Array {
  const length = entry.length ?? 0;
  if (entry.dtype !== 'FLOAT') return new Uint8Array(length);
  const fanIn = entry.dims.length >= 2 ? entry.dims.slice(1).reduce((a, b) => a * b, 1) : 0;
  const values = rng.uniforms(length / 4, fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0.1);
  return new Uint8Array(values.buffer);
}

/** Copies `graphDir`/model.onnx into `outDir` and writes the weights file its table describes next to it. */
export async function writeRandomWeights(graphDir: string, outDir: string, seed = 1): Promise<{ file: string; bytes: number; tensors: number }> {
  const table = JSON.parse(await readFile(path.join(graphDir, 'initializers.json'), 'utf8')) as InitializerTable;
  await mkdir(outDir, { recursive: true });
  if (path.resolve(graphDir) !== path.resolve(outDir)) await copyFile(path.join(graphDir, 'model.onnx'), path.join(outDir, 'model.onnx'));
  const file = path.join(outDir, table.weights_file);
  const handle = await open(file, 'w');
  const rng = new Random(seed);
  let tensors = 0;
  try {
    await handle.truncate(table.weights_file_size);
    for (const entry of table.initializers) {
      if (entry.location === null) continue;
      const bytes = randomTensor(entry, rng);
      await handle.write(bytes, 0, bytes.byteLength, entry.offset ?? 0);
      tensors++;
    }
  } finally {
    await handle.close();
  }
  return { file, bytes: table.weights_file_size, tensors };
}

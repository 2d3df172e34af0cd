/**
 * npm run random-weights -- GRAPH_DIR --out DIR [--seed N]: a loadable copy of a graph-only export with random
 * weights (see random-weights.ts).
 */
import { parseArgs } from 'node:util';
import { writeRandomWeights } from './random-weights.js';

const USAGE = 'Usage: npm run random-weights -- GRAPH_DIR --out DIR [--seed N]\n  GRAPH_DIR holds model.onnx and initializers.json';

const { values, positionals } = parseArgs({
  options: { out: { type: 'string' }, seed: { type: 'string' } },
  allowPositionals: true,
  strict: true,
});
const [graphDir] = positionals;
if (graphDir === undefined || values.out === undefined) {
  console.error(USAGE);
  process.exit(2);
}
const result = await writeRandomWeights(graphDir, values.out, Number(values.seed ?? 1));
console.log(`wrote ${result.file} (${result.bytes} bytes, ${result.tensors} tensors)`);

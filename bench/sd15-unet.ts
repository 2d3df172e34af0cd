/**
 * `npm run bench:sd15 -- --original FILE --optimized FILE [--batches 1,2,8] [--runs 2] [--latent 64]
 *   [--max-rss-mb 10000] [--timeout 600] [--threads N]`
 *
 * The full-size SD 1.5 UNet on the CPU EP, as exported (torch.onnx, attention unfused) vs after
 * `npm run optimize` (MultiHeadAttention): ms per call (median and fastest of --runs after 1 warm-up) and peak RSS at each
 * batch, each configuration in its own child process, one at a time. A child past --max-rss-mb is killed and
 * reported as such. Then what that means for the mask's 20 UNet items: one item per call vs batches of each size.
 * Make the inputs with `npm run random-weights` (the fixture graph with random weights) and `npm run optimize`.
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import ort from 'onnxruntime-node';
import { runChild, type Outcome } from './unet-child.js';

const MASK_ITEMS = 20;

const { values } = parseArgs({
  options: {
    original: { type: 'string' },
    optimized: { type: 'string' },
    batches: { type: 'string', default: '1,2,8' },
    runs: { type: 'string', default: '2' },
    latent: { type: 'string', default: '64' },
    'max-rss-mb': { type: 'string', default: '10000' },
    timeout: { type: 'string', default: '600' },
    threads: { type: 'string' },
  },
});
if (values.original === undefined || values.optimized === undefined) {
  console.error('Usage: npm run bench:sd15 -- --original unet/model.onnx --optimized optimized/unet/model.onnx [--batches 1,2,8]');
  process.exit(2);
}

const batches = values.batches.split(',').map(Number);
const latent = Number(values.latent);
const models = { original: values.original, optimized: values.optimized };
const results: Record<string, Record<string, Outcome>> = {};
const started = performance.now();
for (const [name, model] of Object.entries(models)) {
  for (const batch of batches) {
    console.error(`${name} batch ${batch} ...`);
    const job = {
      model,
      level: 'all' as const,
      batch,
      latent,
      warmups: 1,
      runs: Number(values.runs),
      ...(values.threads !== undefined ? { threads: Number(values.threads) } : {}),
    };
    const outcome = await runChild(job, Number(values.timeout), Number(values['max-rss-mb']));
    console.error(`  ${JSON.stringify(outcome)}`);
    (results[name] ??= {})[`batch${batch}`] = outcome;
  }
}

/** The mask's 20 items in calls of `batch` (the last one smaller), from the fastest measured calls; null when one is missing. */
function maskMs(name: string, batch: number): number | null {
  const perCall = (b: number): number | undefined => {
    const o = results[name]?.[`batch${b}`];
    return o?.ok === true ? Math.min(...o.runsMs) : undefined;
  };
  const full = Math.floor(MASK_ITEMS / batch);
  const rest = MASK_ITEMS % batch;
  const a = perCall(batch);
  const b = rest === 0 ? 0 : perCall(rest);
  return a === undefined || b === undefined ? null : full * a + b;
}

const summary = Object.fromEntries(
  Object.keys(models).map((name) => [
    name,
    Object.fromEntries(
      batches.map((b) => {
        const o = results[name]?.[`batch${b}`];
        // On a shared machine the fastest call is the least disturbed one: show it beside the median.
        const fastest = o?.ok === true ? Math.min(...o.runsMs) : 0;
        return [
          `batch${b}`,
          o?.ok === true
            ? { msPerCall: o.medianMs, fastestMs: fastest, msPerItem: Math.round(fastest / b), peakRssMb: o.maxRssMb }
            : { failed: o?.error },
        ];
      }),
    ),
  ]),
);
const mask = Object.fromEntries(Object.keys(models).map((name) => [name, Object.fromEntries(batches.map((b) => [`maxBatch${b}`, maskMs(name, b)]))]));
console.log(
  JSON.stringify(
    {
      machine: {
        cpus: os.cpus().length,
        model: os.cpus()[0]?.model,
        totalMemMb: Math.round(os.totalmem() / 2 ** 20),
        onnxruntime: ort.env.versions.common,
      },
      latent: `${latent}x${latent}`,
      method: `child process per configuration, graph optimisation 'all', ms: median of ${values.runs} calls after 1 warm-up, peak RSS: the child's maxRSS`,
      summary,
      maskMsFor20Items: mask,
      details: results,
      totalSeconds: Math.round((performance.now() - started) / 1000),
    },
    null,
    2,
  ),
);

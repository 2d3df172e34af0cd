/**
 * `npm run optimize -- --models DIR [--out DIR] [--fp16]`: writes an optimised copy of an export (see
 * src/optimize/optimize-export.ts); prints one line per model, then one JSON line with the reports, the time
 * taken and the process's peak RSS.
 */
import 'dotenv/config';
import { parseArgs } from 'node:util';
import { optimizeExport } from '../optimize/optimize-export.js';
import { describeFailure } from './failure.js';

const USAGE = `Usage: npm run optimize -- [--models DIR] [--out DIR] [--fp16]

  --models DIR   the export to optimise (default $MODEL_DIR or models); it is only read
  --out DIR      where the copy goes (default DIR/optimized)
  --fp16         UNet and VAE weights and compute in float16 (inputs and outputs stay float32)`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      models: { type: 'string' },
      out: { type: 'string' },
      fp16: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const started = performance.now();
  const result = await optimizeExport({
    modelDir: values.models ?? (process.env['MODEL_DIR']?.trim() || 'models'),
    outDir: values.out,
    fp16: values.fp16,
    say: (line) => process.stderr.write(`${line}\n`),
  });
  const attention = Object.fromEntries(
    Object.entries(result.parts).flatMap(([part, r]) =>
      r.attention === undefined ? [] : [[part, { fused: r.attention.fused, softmax: r.attention.softmax }]],
    ),
  );
  const summary = {
    out: result.outDir,
    attention,
    ms: Math.round(performance.now() - started),
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
  };
  process.stdout.write(`${JSON.stringify(summary)}\n`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    const code = (error as { code?: unknown } | null)?.code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`${(error as Error).message}\n${USAGE}\n`);
      process.exit(2);
    }
    process.stderr.write(`${describeFailure(error)}\n`);
    process.exit(1);
  },
);

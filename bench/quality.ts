/**
 * `npm run bench:quality [-- --scenes 16 --only defaults,steps=25]`
 *
 * DiffEdit's quality on the trained demo model (demo/model) across the parameters users can set: for each row, the
 * same held-out scenes (tools/demo-model/cases.ts: colour edits, half of them with a second object to leave alone)
 * are edited with the row's parameters and scored against their ground truth. Prints one line per row:
 *   mask IoU   median [quartiles] of the mask vs the changed object;
 *   success    median share of the object's pixels now nearer the query colour than the ref colour;
 *   bg error   median mean |output - input| (0..255) outside every object (dilated by 4 px);
 *   UNet items per edit, and the median seconds per edit on this machine (with the load average, as the CPU is shared).
 * Then the thresholds the quality tests hold the defaults to (tools/demo-model/thresholds.ts).
 * `--decoder-inpaint DIR` adds the inpainting-decoder row with that 9-channel export.
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { DiffEditEngine, type EditRequest } from '../src/engine/engine.js';
import { silentLogger } from '../src/logger.js';
import { HELD_OUT_SEED, colourCase, scoreCase, type CaseScore } from '../tools/demo-model/cases.js';
import { median, quantile } from '../tools/demo-model/metrics.js';
import { QUALITY_THRESHOLDS } from '../tools/demo-model/thresholds.js';
import { DEMO_MODEL_DIR } from '../test/engine/quality/demo-engine.js';

const { values } = parseArgs({
  options: {
    scenes: { type: 'string', default: '16' },
    only: { type: 'string' },
    'decoder-inpaint': { type: 'string' },
  },
});

/** The rows: a name and the parameters that differ from the defaults. */
const ROWS: readonly (readonly [string, Partial<EditRequest>])[] = [
  ['defaults', {}],
  ['steps=10', { steps: 10 }],
  ['steps=25', { steps: 25 }],
  ['draws=2', { maskDraws: 2 }],
  ['draws=5', { maskDraws: 5 }],
  ['strength=0.6', { strength: 0.6 }],
  ['strength=0.7', { strength: 0.7 }],
  ['strength=0.9', { strength: 0.9 }],
  ['guidance=3', { guidance: 3 }],
  ['guidance=12', { guidance: 12 }],
  ['eta=0', { eta: 0 }],
  ['eta=1', { eta: 1 }],
  ['threshold=zscore', { thresholding: { mode: 'zscore' } }],
  ['inversion=uncond', { inversion: 'uncond' }],
  ['dilate=1', { dilate: 1 }],
  ['steps=25,draws=5', { steps: 25, maskDraws: 5 }],
  ...(values['decoder-inpaint'] === undefined ? [] : ([['decoder=inpaint', { decoder: 'inpaint' }]] as const)),
];

const wanted = values.only?.split(',');
const rows = wanted === undefined ? ROWS : ROWS.filter(([name]) => wanted.includes(name));
const count = Number(values.scenes);
const engine = await DiffEditEngine.create({
  modelDir: DEMO_MODEL_DIR,
  ...(values['decoder-inpaint'] === undefined ? {} : { inpaintModelDir: values['decoder-inpaint'] }),
  providers: ['cpu'],
  logger: silentLogger,
  preferOptimized: false,
});
const cases = await Promise.all(Array.from({ length: count }, (_, i) => colourCase(HELD_OUT_SEED + i, { count: i % 2 === 0 ? 1 : 2 })));

const fmt = (v: number, digits = 2): string => (Number.isNaN(v) ? '-' : v.toFixed(digits));
const spread = (xs: readonly number[], digits = 2): string =>
  `${fmt(median(xs), digits)} [${fmt(quantile(xs, 0.25), digits)}-${fmt(quantile(xs, 0.75), digits)}]`;

console.log(`demo model, ${count} held-out scenes (seeds ${HELD_OUT_SEED}..${HELD_OUT_SEED + count - 1}), CPU, ${os.cpus().length} cores`);
console.log('row                 | mask IoU          | success           | bg error          | UNet items | s/edit | load');
for (const [name, parameters] of rows) {
  const scores: CaseScore[] = [];
  for (const c of cases) scores.push(await scoreCase(engine, c, { maskSeed: 7, seed: 11, ...parameters }));
  const pick = (key: keyof CaseScore): number[] => scores.map((s) => s[key]);
  console.log(
    [
      name.padEnd(19),
      spread(pick('iou')).padEnd(17),
      spread(pick('success')).padEnd(17),
      spread(pick('background')).padEnd(17),
      String(median(pick('unetEvaluations'))).padStart(10),
      fmt(median(pick('ms')) / 1000).padStart(6),
      os.loadavg()[0]?.toFixed(1) ?? '-',
    ].join(' | '),
  );
}
console.log(`thresholds the quality tests assert at the defaults: ${JSON.stringify(QUALITY_THRESHOLDS)}`);

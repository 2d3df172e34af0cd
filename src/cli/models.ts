/**
 * `npm run models [-- options]`: downloads a Stable Diffusion v1.x ONNX export from the Hugging Face hub into
 * models/ (only the files the engine loads), optionally an inpainting UNet too, from a named preset
 * (src/download/presets.ts) or any repository and revision. Re-runs skip what is complete
 * and resume what was interrupted, then writes the optimised copy the engine prefers (`npm run optimize`;
 * --no-optimize skips it). The work is in src/download/ and src/optimize/; this file reads flags and environment.
 */
import 'dotenv/config';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { EnvReader } from '../config/env.js';
import { HUB_DEFAULTS, readHubConfig } from '../config/hub.js';
import { downloadModel } from '../download/download-model.js';
import { DEFAULT_ENDPOINT } from '../download/hub/url.js';
import { componentsFor, findPreset, presetLines, withPresetHint, type PresetRole } from '../download/presets.js';
import { PlainProgress } from '../download/progress/plain-progress.js';
import type { ProgressReporter } from '../download/progress/reporter.js';
import { summaryText } from '../download/progress/summary-text.js';
import { TtyProgress } from '../download/progress/tty-progress.js';
import { ErrorCode, isDiffEditError } from '../errors.js';
import { createLogger } from '../logger.js';
import { optimizeExport } from '../optimize/optimize-export.js';
import { describeFailure } from './failure.js';

const USAGE = `Usage: npm run models -- [--preset NAME | --repo ID [--revision REV]] [--out DIR]
       [--inpaint] [--inpaint-preset NAME | --inpaint-repo ID [--inpaint-revision REV]] [--inpaint-out DIR]
       [--endpoint URL] [--no-optimize]

  --preset NAME        a named source of the models DiffEdit runs (default $MODELS_PRESET, else ${HUB_DEFAULTS.MODELS_PRESET}):
${presetLines('standard')
  .map((line) => `                         ${line}`)
  .join('\n')}
  --repo ID            another hub repository (overrides the preset's)
  --revision REV       branch, tag or commit holding the ONNX export (default: the preset's)
  --out DIR            model folder (default $MODEL_DIR or models)
  --inpaint            also fetch an inpainting export's UNet (for --decoder inpaint)
  --inpaint-preset N   a named inpainting source (implies --inpaint; default $MODELS_INPAINT_PRESET, else
                       ${HUB_DEFAULTS.MODELS_INPAINT_PRESET}):
${presetLines('inpainting')
  .map((line) => `                         ${line}`)
  .join('\n')}
  --inpaint-repo ID    another repository for the inpainting UNet (implies --inpaint)
  --inpaint-revision   its branch, tag or commit (default: the inpainting preset's)
  --inpaint-out DIR    default $INPAINT_MODEL_DIR or models-inpaint
  --endpoint URL       hub URL (default $HF_ENDPOINT or ${DEFAULT_ENDPOINT})
  --no-optimize        skip the optimised copy (npm run optimize) written into DIR/optimized after downloading

Environment (or .env): HF_TOKEN for gated/private repositories, HF_ENDPOINT, MODELS_PRESET, MODELS_INPAINT_PRESET,
MODELS_MIN_RATE_BYTES_PER_S and MODELS_MIN_RATE_WINDOW_S (slower transfers are retried, then fail), LOG_LEVEL.`;

interface Job {
  readonly repo: string;
  readonly revision: string;
  readonly outDir: string;
  readonly role: PresetRole;
}

/** The repository and revision for `role`: --repo and --revision where given, else the preset's. */
function source(role: PresetRole, presetName: string, flag: string, repo?: string, revision?: string): Pick<Job, 'repo' | 'revision'> {
  const preset = findPreset(presetName, role, flag);
  return { repo: repo ?? preset.repo, revision: revision ?? preset.revision };
}

async function main(signal: AbortSignal): Promise<number> {
  const { values } = parseArgs({
    options: {
      preset: { type: 'string' },
      repo: { type: 'string' },
      revision: { type: 'string' },
      out: { type: 'string' },
      inpaint: { type: 'boolean', default: false },
      'inpaint-preset': { type: 'string' },
      'inpaint-repo': { type: 'string' },
      'inpaint-revision': { type: 'string' },
      'inpaint-out': { type: 'string' },
      endpoint: { type: 'string' },
      'no-optimize': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const reader = new EnvReader(process.env);
  const env = readHubConfig(reader);
  reader.assertValid();
  const jobs: Job[] = [
    {
      ...source('standard', values.preset ?? env.preset, '--preset', values.repo, values.revision),
      outDir: values.out ?? env.modelDir ?? 'models',
      role: 'standard',
    },
  ];
  if (values.inpaint || values['inpaint-preset'] !== undefined || values['inpaint-repo'] !== undefined) {
    jobs.push({
      ...source('inpainting', values['inpaint-preset'] ?? env.inpaintPreset, '--inpaint-preset', values['inpaint-repo'], values['inpaint-revision']),
      outDir: values['inpaint-out'] ?? env.inpaintModelDir ?? 'models-inpaint',
      role: 'inpainting',
    });
  }

  const tty = process.stderr.isTTY ? new TtyProgress(process.stderr) : undefined;
  const say = (line: string): void => {
    if (tty !== undefined) tty.writeLine(line);
    else process.stderr.write(`${line}\n`);
  };
  const progress: ProgressReporter = tty ?? new PlainProgress(say);
  const logger = createLogger(env.logLevel, (line) => say(line));

  for (const job of jobs) {
    say(`${job.repo}@${job.revision} -> ${path.resolve(job.outDir)}`);
    const summary = await downloadModel({
      repo: job.repo,
      revision: job.revision,
      outDir: job.outDir,
      components: componentsFor(job.role),
      endpoint: values.endpoint ?? env.endpoint,
      token: env.token,
      minRate: env.minRate,
      progress,
      logger,
      signal,
    }).catch((error: unknown) => {
      // A repository or revision that is not there (or holds no ONNX export): name the presets that are.
      throw withPresetHint(error, job.role, job);
    });
    process.stdout.write(`${summaryText(summary)}\n`);
    if (!values['no-optimize']) {
      const optimized = await optimizeExport({ modelDir: job.outDir, say: (line) => say(`  ${line}`) });
      say(`optimised copy -> ${optimized.outDir} (the engine uses it; --no-optimize skips this step)`);
    }
  }
  const [model, inpaint] = jobs;
  if (model !== undefined && path.resolve(model.outDir) !== path.resolve('models') && env.modelDir === undefined) {
    say(`Point the bot at it: MODEL_DIR=${model.outDir}`);
  }
  if (inpaint !== undefined && env.inpaintModelDir === undefined) {
    say(`Enable the inpainting decoder: INPAINT_MODEL_DIR=${inpaint.outDir}`);
  }
  return 0;
}

const abort = new AbortController();
// The first Ctrl-C stops cleanly (the partial file stays for the next run); a second one kills at once.
process.once('SIGINT', () => abort.abort(new Error('interrupted (SIGINT)')));

main(abort.signal).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (process.stderr.isTTY) process.stderr.write('\n');
    const code = (error as { code?: unknown } | null)?.code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`${(error as Error).message}\n${USAGE}\n`);
      process.exit(2);
    }
    // Users get the message of the failures they can fix; only real bugs print a stack.
    process.stderr.write(`${describeFailure(error)}\n`);
    process.exit(isDiffEditError(error, ErrorCode.Aborted) ? 130 : 1);
  },
);

/**
 * `npm run diffedit -- --image in.jpg --ref "..." --query "..." [options]`: one edit from the command line.
 * Writes the panel PNG and the full-size photo beside it (with --variations N > 1, one photo per candidate), and
 * prints one JSON line (where they are, edit and mask seeds, provider, per-phase ms, UNet evaluations, mask coverage,
 * and the candidates with their seeds).
 */
import 'dotenv/config';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { engineOptionsFrom, readEngineConfig } from '../config/engine.js';
import { EnvReader } from '../config/env.js';
import type { InversionConditioning } from '../engine/diffedit/edit.js';
import { DiffEditEngine } from '../engine/engine.js';
import { PHOTO_EXTENSION } from '../engine/image/index.js';
import { runCommand } from './failure.js';
import { createLogger } from '../logger.js';
import { definedOnly } from '../util/objects.js';

const USAGE = `Usage: npm run diffedit -- --image IN --ref TEXT --query TEXT [--seed N] [--mask-seed N] [--steps N] [--strength R]
       [--guidance G] [--eta E] [--draws N] [--mask-only] [--out panel.png] [--models DIR]
       [--threshold clamp|zscore] [--dilate N] [--decoder ddim|inpaint] [--inversion uncond|ref] [--no-composite]
       [--area -3..3] [--variations 1..4]
Writes the panel to --out and the full-size photo beside it (panel-photo.jpg; mask-only: mask-full.png; with
several variations panel-photo-1.jpg ... one per candidate).`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      image: { type: 'string' },
      ref: { type: 'string' },
      query: { type: 'string' },
      seed: { type: 'string' },
      'mask-seed': { type: 'string' },
      steps: { type: 'string' },
      strength: { type: 'string' },
      guidance: { type: 'string' },
      eta: { type: 'string' },
      draws: { type: 'string' },
      threshold: { type: 'string' },
      dilate: { type: 'string' },
      decoder: { type: 'string' },
      inversion: { type: 'string' },
      area: { type: 'string' },
      variations: { type: 'string' },
      'mask-only': { type: 'boolean', default: false },
      'no-composite': { type: 'boolean', default: false },
      out: { type: 'string' },
      models: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help || values.image === undefined || values.ref === undefined || values.query === undefined) {
    process.stderr.write(`${USAGE}\n`);
    return values.help ? 0 : 2;
  }
  // Read the picture and make the output folder first: neither should wait for the models, nor fail after the edit.
  const image = await readFile(values.image);
  const out = values.out ?? (values['mask-only'] ? 'mask.png' : 'panel.png');
  await mkdir(path.dirname(path.resolve(out)), { recursive: true });
  const env = new EnvReader({ ...process.env, ...(values.models !== undefined ? { MODEL_DIR: values.models } : {}) });
  const config = readEngineConfig(env);
  env.assertValid();
  const logger = createLogger(config.logLevel);
  const engine = await DiffEditEngine.create(engineOptionsFrom(config, logger));
  try {
    const num = (v: string | undefined): number | undefined => (v === undefined ? undefined : Number(v));
    const threshold =
      values.threshold === 'zscore' ? { mode: 'zscore' as const } : values.threshold === undefined ? undefined : { mode: 'clamp' as const, ratio: 3 };
    const result = await engine.run(
      {
        image,
        ref: values.ref,
        query: values.query,
        maskOnly: values['mask-only'],
        ...(values['no-composite'] ? { composite: false } : {}),
        ...definedOnly({
          seed: num(values.seed),
          maskSeed: num(values['mask-seed']),
          steps: num(values.steps),
          strength: num(values.strength),
          guidance: num(values.guidance),
          eta: num(values.eta),
          maskDraws: num(values.draws),
          dilate: num(values.dilate),
          area: num(values.area),
          variations: num(values.variations),
          thresholding: threshold,
          decoder: values.decoder === 'inpaint' ? ('inpaint' as const) : values.decoder === undefined ? undefined : ('ddim' as const),
          // Checked by the engine, which names the accepted values.
          inversion: values.inversion as InversionConditioning | undefined,
        }),
      },
      {
        onProgress: (p) => logger.debug('progress', { ...p }),
      },
    );
    await writeFile(out, result.png);
    const { photo } = result;
    const photoFile = photo === undefined ? undefined : photoPath(out, values['mask-only'] ? 'full' : 'photo', PHOTO_EXTENSION[photo.format]);
    if (photo !== undefined && photoFile !== undefined) await writeFile(photoFile, photo.data);
    const candidates =
      result.candidates.length > 1
        ? await Promise.all(
            result.candidates.map(async ({ seed, photo: own }, k) => {
              if (own === undefined) return { seed };
              const file = photoPath(out, `photo-${k + 1}`, PHOTO_EXTENSION[own.format]);
              await writeFile(file, own.data);
              return { seed, photo: file, photoSize: [own.width, own.height] };
            }),
          )
        : undefined;
    process.stdout.write(
      `${JSON.stringify({
        out,
        ...(photo !== undefined ? { photo: photoFile, photoSize: [photo.width, photo.height] } : {}),
        seed: result.parameters.seed,
        maskSeed: result.parameters.maskSeed,
        provider: result.provider,
        ms: result.timings,
        unetEvaluations: result.unetEvaluations,
        unetCalls: result.unetCalls,
        maskCoverage: Math.round(result.coverage * 10000) / 10000,
        area: result.parameters.area,
        ...(candidates !== undefined ? { candidates } : {}),
        warnings: result.warnings,
      })}\n`,
    );
    return 0;
  } finally {
    await engine.close();
  }
}

/** `panel.png` -> `panel-photo.jpg`: the full-size file beside the panel. */
function photoPath(panel: string, suffix: string, extension: string): string {
  const { dir, name } = path.parse(panel);
  return path.join(dir, `${name}-${suffix}.${extension}`);
}

runCommand(main);

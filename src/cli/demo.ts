/**
 * `npm run demo [-- --out DIR]`: DiffEdit out of the box. Edits the bundled scenes (demo/scenes: synthetic shapes,
 * each with the ref and query it is listed with) with the bundled demo model (demo/model: a toy latent diffusion
 * model trained on such scenes by tools/demo-model, not Stable Diffusion) and writes each result's panel
 * (input | mask | output) and edited photo into DIR. No download, no GPU, no Discord; seconds on two cores.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DiffEditEngine } from '../engine/engine.js';
import { PHOTO_EXTENSION } from '../engine/image/index.js';
import { silentLogger } from '../logger.js';
import { runCommand } from './failure.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DEMO_MODEL = path.join(ROOT, 'demo', 'model');
const SCENES = path.join(ROOT, 'demo', 'scenes');
const DEFAULT_OUT = 'demo-output';

/** One bundled edit, as demo/scenes/scenes.json lists it. */
interface DemoScene {
  readonly file: string;
  readonly ref: string;
  readonly query: string;
  readonly seed: number;
  readonly maskSeed: number;
}

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { out: { type: 'string', default: DEFAULT_OUT }, help: { type: 'boolean', short: 'h' } } });
  if (values.help === true) {
    process.stdout.write(`Usage: npm run demo [-- --out DIR]   (default ${DEFAULT_OUT}/)\n`);
    return 0;
  }
  const out = path.resolve(values.out);
  await mkdir(out, { recursive: true });
  const scenes = JSON.parse(await readFile(path.join(SCENES, 'scenes.json'), 'utf8')) as readonly DemoScene[];
  const started = performance.now();
  const engine = await DiffEditEngine.create({ modelDir: DEMO_MODEL, providers: ['cpu'], logger: silentLogger, preferOptimized: false });
  process.stdout.write(`Demo model (a toy trained on synthetic shapes, not Stable Diffusion): ${DEMO_MODEL}\n`);
  try {
    for (const scene of scenes) {
      const name = path.parse(scene.file).name;
      const result = await engine.run({
        image: await readFile(path.join(SCENES, scene.file)),
        ref: scene.ref,
        query: scene.query,
        seed: scene.seed,
        maskSeed: scene.maskSeed,
      });
      const panel = path.join(out, `${name}-panel.png`);
      await writeFile(panel, result.png);
      if (result.photo !== undefined) await writeFile(path.join(out, `${name}-edited.${PHOTO_EXTENSION[result.photo.format]}`), result.photo.data);
      const seconds = (result.timings.total / 1000).toFixed(1);
      process.stdout.write(
        `${name}: "${scene.ref}" -> "${scene.query}": mask ${(result.coverage * 100).toFixed(0)}% of the picture, ${result.unetEvaluations} UNet items, ${seconds} s -> ${path.relative(process.cwd(), panel)}\n`,
      );
    }
  } finally {
    await engine.close();
  }
  process.stdout.write(`${scenes.length} edits in ${((performance.now() - started) / 1000).toFixed(1)} s, written to ${out}\n`);
  return 0;
}

runCommand(main);

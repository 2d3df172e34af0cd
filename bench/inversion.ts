/**
 * `npm run bench:inversion [-- --pictures 4 --steps 50 --strength 0.8] [--models DIR --size 512]`
 *
 * Which conditioning should the DDIM inversion use, 'uncond' (the paper) or 'ref' (guidance 1)? For each model,
 * picture (drawn from seeds 1..N) and prompt: invert the picture's latents with each conditioning, decode them
 * again with query = ref over the whole picture (mask all ones), eta 0, at guidance 7.5 (the default) and at 1,
 * and measure the MSE of the final latents against the picture's latents and of the decoded pixels (0..255)
 * against the input. Prints one JSON object: per model, conditioning and guidance, the means over pictures x
 * prompts, how many cases each conditioning won, the VAE round trip's pixel MSE (the floor of the pixel figures)
 * and the latents' mean square (the scale of the latent figures).
 *
 * Models, all on the CPU: the real-architecture fixtures (test/fixtures/sd-real-arch: diffusers' UNet and VAE
 * code, random weights, cross_attention_dim 32, around the generated text encoder of hidden width 32) at 64 px,
 * and the generated tiny models at 128 px. (The generated UNet's optional SD-like benchmark block adds compute,
 * not output, so it would repeat the tiny figures.) The random-weight real-architecture VAE does not reproduce
 * pictures at all, so the pixel figures are also given against the VAE's own round trip, decode(encode(x)),
 * which isolates the inversion's share. `--models DIR` measures that export instead (at `--size`).
 */
import { rm } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { INVERSION_CONDITIONINGS, invertLatents, type EditOptions, type InversionConditioning } from '../src/engine/diffedit/edit.js';
import { DiffEditEngine } from '../src/engine/engine.js';
import { silentLogger } from '../src/logger.js';
import { realArchModelDir } from '../test/engine/real-arch.js';
import {
  encodePicture,
  meanSquaredError,
  reconstructionError,
  samePromptEmbeddings,
  seededPhoto,
  type ReconstructionError,
} from '../test/engine/reconstruction.js';
import { tinyModelDir } from '../test/engine/tiny-engine.js';

const { values } = parseArgs({
  options: {
    pictures: { type: 'string', default: '4' },
    steps: { type: 'string', default: '50' },
    strength: { type: 'string', default: '0.8' },
    models: { type: 'string' },
    size: { type: 'string', default: '512' },
  },
});
const PICTURES = Number(values.pictures);
const GUIDANCES = [7.5, 1] as const;
// Whole-token words of the tiny vocabulary (tools/tiny-models), so both text encoders read them alike.
const PROMPTS = ['a bowl of strawberries', 'a photo of a red car', 'a cat on a table'] as const;

interface ModelUnderTest {
  readonly name: string;
  readonly dir: () => Promise<string>;
  readonly size: number;
  /** Remove the folder afterwards (it was generated for the run). */
  readonly generated: boolean;
}

const MODELS: readonly ModelUnderTest[] =
  values.models === undefined
    ? [
        { name: 'real-arch fixtures (64 px)', dir: () => realArchModelDir(), size: 64, generated: true },
        { name: 'generated tiny (128 px)', dir: () => tinyModelDir(), size: 128, generated: true },
      ]
    : [{ name: values.models, dir: async () => values.models as string, size: Number(values.size), generated: false }];

type Figures = Record<InversionConditioning, ReconstructionError[]>;

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const figure = (x: number): number => Number(x.toPrecision(4));

async function measure(model: ModelUnderTest): Promise<Record<string, unknown>> {
  const dir = await model.dir();
  const engine = await DiffEditEngine.create({
    modelDir: dir,
    providers: ['cpu'],
    cpuThreads: 1,
    logger: silentLogger,
    size: model.size,
    maxBatch: 20,
  });
  const sd = engine.models;
  const byGuidance = new Map<number, Figures>(GUIDANCES.map((g) => [g, { uncond: [], ref: [] }]));
  const vaeFloor: number[] = [];
  const latentScale: number[] = [];
  try {
    for (let seed = 1; seed <= PICTURES; seed++) {
      const picture = await encodePicture(sd, await seededPhoto(seed, model.size, model.size), model.size);
      vaeFloor.push(meanSquaredError(picture.roundTrip.data, picture.input.data));
      latentScale.push(meanSquaredError(picture.x0, new Float32Array(picture.x0.length)));
      for (const prompt of PROMPTS) {
        const prompts = await samePromptEmbeddings(sd, prompt);
        for (const inversion of INVERSION_CONDITIONINGS) {
          const options: EditOptions = { steps: Number(values.steps), strength: Number(values.strength), guidance: 7.5, eta: 0, inversion };
          const levels = await invertLatents(sd, picture.x0, picture.shape, prompts, options);
          for (const guidance of GUIDANCES) {
            const error = await reconstructionError(sd, picture, prompts, levels, { ...options, guidance });
            byGuidance.get(guidance)?.[inversion].push(error);
          }
        }
      }
    }
  } finally {
    await engine.close();
    if (model.generated) await rm(dir, { recursive: true, force: true });
  }
  const summary = (figures: Figures): Record<string, unknown> => {
    const cases = figures.ref.length;
    const wins = (key: keyof ReconstructionError): Record<InversionConditioning, number> => ({
      uncond: figures.uncond.filter((u, i) => u[key] < (figures.ref[i] as ReconstructionError)[key]).length,
      ref: figures.ref.filter((r, i) => r[key] < (figures.uncond[i] as ReconstructionError)[key]).length,
    });
    return {
      cases,
      meanLatentMse: Object.fromEntries(INVERSION_CONDITIONINGS.map((m) => [m, figure(mean(figures[m].map((e) => e.latentMse)))])),
      meanPixelMse: Object.fromEntries(INVERSION_CONDITIONINGS.map((m) => [m, figure(mean(figures[m].map((e) => e.pixelMse)))])),
      meanPixelMseVsVaeRoundTrip: Object.fromEntries(
        INVERSION_CONDITIONINGS.map((m) => [m, figure(mean(figures[m].map((e) => e.roundTripPixelMse)))]),
      ),
      lowerLatentMse: wins('latentMse'),
      lowerPixelMse: wins('pixelMse'),
      lowerPixelMseVsVaeRoundTrip: wins('roundTripPixelMse'),
    };
  };
  return {
    model: model.name,
    vaeRoundTripPixelMse: figure(mean(vaeFloor)),
    latentMeanSquare: figure(mean(latentScale)),
    ...Object.fromEntries(GUIDANCES.map((g) => [`guidance ${g}`, summary(byGuidance.get(g) as Figures)])),
  };
}

async function main(): Promise<void> {
  const started = performance.now();
  const results = [];
  for (const model of MODELS) results.push(await measure(model));
  const report = {
    what: 'invert (uncond | ref) then decode with query = ref, mask all ones, eta 0; MSE vs the picture (latents; pixels 0..255)',
    steps: Number(values.steps),
    strength: Number(values.strength),
    pictures: PICTURES,
    prompts: PROMPTS,
    results,
    seconds: Math.round((performance.now() - started) / 1000),
  };
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});

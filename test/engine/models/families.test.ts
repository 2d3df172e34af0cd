/**
 * SD 2.x and SDXL folders in optimum's layout, built by the tiny generator around real-architecture UNets
 * (test/fixtures/sd-real-arch-xl: diffusers' SDXL UNet code exported as optimum exports it, with torch's reference
 * outputs): family and contract reading, clear refusals, the UNets against torch (before and after `npm run
 * optimize`), SDXL's prompt rows against values computed here, and whole edits, mask-only jobs and Rerolls.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStageCache } from '../../../src/engine/cache/memory-cache.js';
import { familyOf } from '../../../src/engine/models/family.js';
import { locateModelFiles } from '../../../src/engine/models/layout.js';
import { StableDiffusion } from '../../../src/engine/models/stable-diffusion.js';
import { ClipTokenizer } from '../../../src/engine/tokenizer.js';
import { isDiffEditError } from '../../../src/errors.js';
import { optimizeExport } from '../../../src/optimize/optimize-export.js';
import { generateTinyModels, resolveOptions, TINY_SDXL_LAYERS, type TinyModelOptions } from '../../../tools/tiny-models/generate.js';
import { sdxlHiddenState, textEncoderWeights } from '../../../tools/tiny-models/text-encoder.js';
import { buildTinyTokenizer } from '../../../tools/tiny-models/tokenizer-files.js';
import { REAL_ARCH, maxAbsDiff } from '../real-arch.js';
import { smoothPhoto, tinyEngine } from '../tiny-engine.js';

const XL = path.resolve(import.meta.dirname, '../../fixtures/sd-real-arch-xl');
const SDXL_UNET = path.join(XL, 'sdxl-xs-int64', 'unet');
const SDXL_INPAINT_UNET = path.join(XL, 'sdxl-inpaint-xs', 'unet');

const dirs: string[] = [];
async function folder(options: TinyModelOptions): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'diffedit-family-'));
  dirs.push(dir);
  await generateTinyModels(dir, options);
  return dir;
}
afterAll(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

/** torch's reference cases of a fixture UNet, float32 and int64 tensors as onnxruntime feeds. */
async function refCases(dir: string): Promise<{ name: string; feeds: Record<string, ort.Tensor>; expected: Float32Array }[]> {
  type Spec = { file: string; dtype: 'float32' | 'int64'; shape: number[] };
  const json = JSON.parse(await readFile(path.join(dir, 'refs.json'), 'utf8')) as {
    cases: { name: string; inputs: Record<string, Spec>; outputs: Record<string, Spec> }[];
  };
  const load = async (spec: Spec): Promise<ort.Tensor> => {
    const buffer = new Uint8Array(await readFile(path.join(dir, spec.file))).buffer;
    return spec.dtype === 'int64' ? new ort.Tensor('int64', new BigInt64Array(buffer), spec.shape) : new ort.Tensor('float32', new Float32Array(buffer), spec.shape);
  };
  return Promise.all(
    json.cases.map(async (c) => ({
      name: c.name,
      feeds: Object.fromEntries(await Promise.all(Object.entries(c.inputs).map(async ([k, v]) => [k, await load(v)] as const))),
      expected: (await load(c.outputs['out_sample'] as Spec)).data as Float32Array,
    })),
  );
}

async function run(file: string, feeds: Record<string, ort.Tensor>): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(file, { executionProviders: ['cpu'], intraOpNumThreads: 1 });
  try {
    return (await session.run(feeds))['out_sample']?.data as Float32Array;
  } finally {
    await session.release();
  }
}

function expectRefusal(error: unknown, message: RegExp): void {
  expect(isDiffEditError(error, 'ModelContractMismatch')).toBe(true);
  expect((error as Error).message).toMatch(message);
}

describe('real-architecture SDXL UNets equal torch (1e-4), before and after npm run optimize', () => {
  it.each([
    ['sdxl-xs-int64 (optimum <= 1.23: int64 [steps] timestep)', SDXL_UNET],
    ['sdxl-inpaint-xs (optimum >= 1.24: float32 scalar timestep, 9 channels)', SDXL_INPAINT_UNET],
  ])('%s', async (_name, unetDir) => {
    const dir = await folder({ family: 'sdxl', unetFrom: unetDir, unetInChannels: unetDir === SDXL_INPAINT_UNET ? 9 : 4 });
    const out = await mkdtemp(path.join(os.tmpdir(), 'diffedit-family-opt-'));
    dirs.push(out);
    const result = await optimizeExport({ modelDir: dir, outDir: out });
    expect(result.parts['unet']?.attention?.fused).toBeGreaterThan(0);
    expect(result.parts['text_encoder_2']).toBeDefined();
    for (const c of await refCases(unetDir)) {
      expect(maxAbsDiff(await run(path.join(dir, 'unet', 'model.onnx'), c.feeds), c.expected), c.name).toBeLessThan(1e-4);
      expect(maxAbsDiff(await run(path.join(out, 'unet', 'model.onnx'), c.feeds), c.expected), `${c.name} optimised`).toBeLessThan(1e-4);
    }
  }, 600_000);
});

describe('families read from the export', () => {
  it('an SDXL folder: two encoders (penultimate hidden states, pooled text_embeds), time_ids, its VAE scale and size', async () => {
    const sd = await StableDiffusion.load({ modelDir: await folder({ family: 'sdxl', unetFrom: SDXL_UNET }), providers: ['cpu'], preferOptimized: false });
    try {
      expect(sd.family).toMatchObject({ name: 'sdxl', addedConditions: true, zerosForEmptyPrompt: true });
      expect(sd.contract.textEncoder.hiddenState.name).toBe(`hidden_states.${TINY_SDXL_LAYERS - 1}`);
      expect(sd.contract.textEncoder2?.hiddenState.name).toBe(`hidden_states.${TINY_SDXL_LAYERS - 1}`);
      expect(sd.contract.textEncoder2?.pooled?.name).toBe('text_embeds');
      expect(sd.contract.unet.addedConditions).toMatchObject({ textEmbeds: { name: 'text_embeds' }, timeIds: { name: 'time_ids' } });
      expect(sd.latentScale).toBe(0.13025);
      expect(sd.scheduler.predictionType).toBe('epsilon');
      expect(sd.modelSize).toBe(256); // the fixture UNet's sample_size 32 x 8
      expect(sd.tokenizer.padId).not.toBe((await ClipTokenizer.fromDirectory(path.join(sd.contract.textEncoder.file, '../../tokenizer_2'))).padId);
    } finally {
      await sd.release();
    }
  }, 300_000);

  it('an SD 2.x folder: v-prediction from its scheduler, one encoder, no added conditions', async () => {
    const sd = await StableDiffusion.load({ modelDir: await folder({ family: 'sd2', unetFrom: path.join(REAL_ARCH, 'unet') }), providers: ['cpu'], preferOptimized: false });
    try {
      expect(sd.family.name).toBe('sd2');
      expect(sd.scheduler.predictionType).toBe('v_prediction');
      expect(sd.contract.textEncoder2).toBeUndefined();
      expect(sd.contract.unet.addedConditions).toBeUndefined();
    } finally {
      await sd.release();
    }
  });

  it.each([
    ['stable-diffusion-xl-base-1.0', 'sdxl', 1024],
    ['stable-diffusion-2-1', 'sd2', 768],
  ])("the real %s files say %s at %i px", async (repo, family, size) => {
    const read = async (file: string): Promise<Record<string, unknown>> => JSON.parse(await readFile(path.join(XL, 'real-configs', repo, file), 'utf8')) as Record<string, unknown>;
    const unetConfig = await read('unet/config.json');
    const scheduler = await read('scheduler/scheduler_config.json');
    const found = familyOf({
      modelIndex: await read('model_index.json'),
      unetConfig,
      hasSecondTextEncoder: family === 'sdxl',
      predictionType: scheduler['prediction_type'] as 'epsilon' | 'v_prediction',
    });
    expect(found.name).toBe(family);
    expect((unetConfig['sample_size'] as number) * 8).toBe(size);
  });

  it('refuses an SDXL refiner, naming model_index.json, before looking for its missing text_encoder', async () => {
    const dir = await folder({ family: 'sdxl', unetFrom: SDXL_UNET });
    const index = JSON.parse(await readFile(path.join(dir, 'model_index.json'), 'utf8')) as Record<string, unknown>;
    await writeFile(path.join(dir, 'model_index.json'), JSON.stringify({ ...index, _class_name: 'StableDiffusionXLImg2ImgPipeline', requires_aesthetics_score: true, text_encoder: [null, null] }));
    await rm(path.join(dir, 'text_encoder'), { recursive: true });
    const error = await locateModelFiles(dir).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/model_index\.json: an SDXL refiner or image-to-image export \(StableDiffusionXLImg2ImgPipeline, requires_aesthetics_score, no text_encoder\)/);
    expectRefusal(error, /use an SDXL base export/);
  });

  it.each([
    ['model_index.json', { _class_name: 'StableDiffusion3Pipeline' }, /model_index\.json: StableDiffusion3Pipeline is not supported/],
    ['model_index.json', { _class_name: 'FluxPipeline' }, /model_index\.json: FluxPipeline is not supported/],
    ['scheduler/scheduler_config.json', { _class_name: 'FlowMatchEulerDiscreteScheduler' }, /scheduler_config\.json: FlowMatchEulerDiscreteScheduler is a flow-matching scheduler/],
  ])('refuses a flow-matching model (%s %j)', async (file, json, message) => {
    const dir = await folder({});
    await writeFile(path.join(dir, file), JSON.stringify(json));
    await expect(StableDiffusion.load({ modelDir: dir, providers: ['cpu'], preferOptimized: false })).rejects.toSatisfy((e) => (expectRefusal(e, message), true));
  });

  it("refuses an SDXL UNet in an SD 1.x folder, naming the UNet's file", async () => {
    const dir = await folder({ unetFrom: SDXL_UNET });
    await writeFile(path.join(dir, 'unet', 'config.json'), JSON.stringify({ sample_size: 32 }));
    await expect(StableDiffusion.load({ modelDir: dir, providers: ['cpu'], preferOptimized: false })).rejects.toSatisfy(
      (e) => (expectRefusal(e, /unet[/\\]model\.onnx: this UNet takes "text_embeds" and "time_ids" \(an SDXL UNet\)/), true),
    );
  });
});

describe('SDXL prompt rows and UNet inputs, computed independently', () => {
  let sd: StableDiffusion;
  let dir: string;
  beforeAll(async () => {
    dir = await folder({ family: 'sdxl', unetFrom: SDXL_UNET });
    sd = await StableDiffusion.load({ modelDir: dir, providers: ['cpu'], preferOptimized: false });
  }, 300_000);
  afterAll(async () => sd.release());

  it('row = [per token: encoder 1 hidden_states[-2] ++ encoder 2 hidden_states[-2]] ++ text_embeds; the empty prompt all zeros', async () => {
    const prompt = 'a red car on the table';
    const emb = await sd.encodePrompts([prompt, '']);
    const h = 32;
    expect([emb.sequenceLength, emb.hiddenSize, emb.pooledSize, emb.rowSize]).toEqual([77, 2 * h, h, 77 * 2 * h + h]);
    const opts = resolveOptions({ family: 'sdxl', unetFrom: SDXL_UNET });
    const tok = buildTinyTokenizer();
    const specials = [tok.bosId, tok.eosId];
    const ids1 = (await ClipTokenizer.fromDirectory(path.join(dir, 'tokenizer'))).encode(prompt).ids;
    const ids2 = (await ClipTokenizer.fromDirectory(path.join(dir, 'tokenizer_2'))).encode(prompt).ids;
    expect(Array.from(ids2)).not.toEqual(Array.from(ids1)); // tokenizer_2 pads with "!"
    const expected = new Float32Array(emb.rowSize);
    const pooledSum = new Float64Array(h);
    for (const [e, part, ids] of [
      [0, 'text_encoder', ids1],
      [1, 'text_encoder_2', ids2],
    ] as const) {
      const w = textEncoderWeights(opts, tok.tokens.length, specials, part);
      for (let t = 0; t < 77; t++) {
        for (let k = 0; k < h; k++) {
          const value = (w.tokenEmbedding[(ids[t] as number) * h + k] as number) + (w.positionEmbedding[t * h + k] as number);
          expected[t * 2 * h + e * h + k] = sdxlHiddenState(value, TINY_SDXL_LAYERS - 1);
          if (e === 1) pooledSum[k] = (pooledSum[k] as number) + value;
        }
      }
    }
    for (let k = 0; k < h; k++) expected[77 * 2 * h + k] = -(pooledSum[k] as number) / 77;
    expect(maxAbsDiff(emb.data.subarray(0, emb.rowSize), expected)).toBeLessThan(1e-4);
    expect(emb.data.subarray(emb.rowSize).every((x) => x === 0)).toBe(true);
  });

  it('predictNoise feeds encoder_hidden_states, text_embeds and time_ids = (H, W, 0, 0, H, W) to every item', async () => {
    const emb = await sd.encodePrompts(['a blue vase', 'a green tree']);
    const [height, width] = [8, 12]; // latent cells: a 64 x 96 picture
    const sample = Float32Array.from({ length: 2 * 4 * height * width }, (_, i) => Math.sin(i));
    const got = await sd.predictNoise('standard', sample, [2, 4, height, width], 481, emb.data);
    const hidden = new Float32Array(2 * 77 * 64);
    const pooled = new Float32Array(2 * 32);
    for (let i = 0; i < 2; i++) {
      hidden.set(emb.data.subarray(i * emb.rowSize, i * emb.rowSize + 77 * 64), i * 77 * 64);
      pooled.set(emb.data.subarray(i * emb.rowSize + 77 * 64, (i + 1) * emb.rowSize), i * 32);
    }
    const direct = await run(path.join(dir, 'unet', 'model.onnx'), {
      sample: new ort.Tensor('float32', sample, [2, 4, height, width]),
      timestep: new ort.Tensor('int64', BigInt64Array.of(481n), [1]),
      encoder_hidden_states: new ort.Tensor('float32', hidden, [2, 77, 64]),
      text_embeds: new ort.Tensor('float32', pooled, [2, 32]),
      time_ids: new ort.Tensor('float32', Float32Array.of(64, 96, 0, 0, 64, 96, 64, 96, 0, 0, 64, 96), [2, 6]),
    });
    expect(maxAbsDiff(got, direct)).toBeLessThan(1e-6);
  });
});

describe('whole jobs: edit, mask-only and Reroll', () => {
  it.each([
    ['SDXL', { family: 'sdxl', unetFrom: SDXL_UNET } as const, SDXL_INPAINT_UNET],
    ['SD 2.x v-prediction', { family: 'sd2', unetFrom: path.join(REAL_ARCH, 'unet') } as const, undefined],
  ])('%s', async (_name, options, inpaintUnet) => {
    const inpaintModelDir = inpaintUnet === undefined ? undefined : await folder({ ...options, unetFrom: inpaintUnet, unetInChannels: 9 });
    const engine = await tinyEngine(options, { inpaintModelDir, preferOptimized: false, cache: new MemoryStageCache(64 * 1024 * 1024) });
    try {
      const image = await smoothPhoto(128, 128);
      const job = { image, ref: 'a bowl of strawberries', query: 'a bowl of grapes', steps: 6, maskDraws: 2, maskSeed: 1 } as const;
      const maskOnly = await engine.run({ ...job, maskOnly: true });
      expect(maskOnly.output).toBeUndefined();
      expect([maskOnly.mask.width, maskOnly.mask.height]).toEqual([128, 128]);
      const first = await engine.run({ ...job, seed: 1 });
      expect(first.output?.data.every(Number.isFinite)).toBe(true);
      expect(Array.from(first.latentMask)).toEqual(Array.from(maskOnly.latentMask)); // the mask from the cache
      const reroll = await engine.run({ ...job, seed: 2 });
      expect(reroll.unetCalls).toBe(Math.floor(6 * reroll.parameters.strength)); // only the decoding ran
      expect(Buffer.compare(Buffer.from(reroll.output?.data ?? []), Buffer.from(first.output?.data ?? []))).not.toBe(0);
      if (inpaintModelDir !== undefined) {
        const inpainted = await engine.run({ ...job, seed: 1, decoder: 'inpaint' });
        expect(inpainted.output?.data.every(Number.isFinite)).toBe(true);
      }
    } finally {
      await engine.close();
    }
  }, 600_000);
});

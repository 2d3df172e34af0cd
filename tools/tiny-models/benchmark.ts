/**
 * The optional SD-sized branch of the tiny UNet, for GPU benchmarks: `benchmarkBlocks` blocks at
 * `benchmarkChannels` channels, each like one stage of SD v1's UNet at full latent resolution:
 *
 *   ResNet: GroupNorm (as torch exports it before opset 18: Reshape + InstanceNormalization + per-channel affine)
 *           -> SiLU -> Conv3x3, plus the residual;
 *   Transformer: LayerNorm -> multi-head self-attention over height*width tokens, LayerNorm -> multi-head
 *           cross-attention to encoder_hidden_states, each plus the residual.
 *
 * The branch runs in `benchmarkDtype` (float16 for fp16 exports; then it needs an EP with fp16 kernels such as CUDA)
 * and its result, cast to float32, is multiplied by an exact 0 before being added to out_sample: it costs what it
 * costs, yet the tiny UNet's outputs (and the exact region rule) stay what they are without it. Weights are uniform
 * in ±sqrt(3 / fan_in) so activations stay O(1) (no fp16 overflow, hence no NaN that 0 · NaN would let through).
 *
 * Attention (`benchmarkAttention`): 'unfused' writes it as a TorchScript export does (per head Q·Kᵀ MatMul, Mul by
 * 1/sqrt(head size), Softmax, MatMul with V), which onnxruntime's optimiser leaves as it is, so the [batch, heads,
 * tokens, tokens] score matrices are materialised; 'fused' writes onnxruntime's contrib op
 * com.microsoft.MultiHeadAttention (query [b, S, C], key [b, L, C], value [b, L, C] -> [b, S, C], attribute num_heads,
 * default scale 1/sqrt(head size)) on the same projections, from the same random stream: the same values either way;
 * 'sdpa' writes what torch >= 2.1 exports for F.scaled_dot_product_attention at opset 14 (q and kᵀ each multiplied
 * by sqrt(scale), scale = 1/sqrt(head size) computed from Shape(q)), the other pattern `npm run optimize` fuses.
 */
import { type ElemType, type GraphBuilder } from './graph-builder.js';
import { partSeed, type ResolvedOptions } from './options.js';
import { Random, toFloat16Array } from './random.js';

/** SD v1 attention head count. */
const HEADS = 8;

/** The contrib-op domain of onnxruntime and the version of it that MultiHeadAttention needs. */
export const MS_DOMAIN = 'com.microsoft';
export const MS_DOMAIN_VERSION = 1;

/** Adds the branch to `out` (float32 [b, 4, h, w]) times an exact 0; returns the sum's name. */
export function addBenchmarkBranch(g: GraphBuilder, opts: ResolvedOptions, out: string, sampleIn: string, textIn: string): string {
  const branch = benchmarkBranch(g, opts, sampleIn, textIn);
  return g.op1('Add', [out, g.op1('Mul', [branch, g.constF32(0)])]);
}

/**
 * The branch itself: `sampleIn` [b, C, h, w] and `textIn` [b, 77, hidden] (both of type `opts.io`) -> float32
 * [b, 4, h, w]. Exported so that tests can compare the attention variants on its values.
 */
export function benchmarkBranch(g: GraphBuilder, opts: ResolvedOptions, sampleIn: string, textIn: string): string {
  const ct: ElemType = opts.benchmarkDtype;
  const c = opts.benchmarkChannels;
  const hidden = opts.hiddenSize;
  const heads = c % HEADS === 0 ? HEADS : 1;
  const groups = c % 32 === 0 ? 32 : c % 8 === 0 ? 8 : 1;
  const rng = new Random(partSeed(opts.seed, 'unet.benchmark'));

  const weight = (hint: string, dims: readonly number[], fanIn: number): string => {
    const count = dims.reduce((a, b) => a * b, 1);
    const data = rng.uniforms(count, Math.sqrt(3 / fanIn));
    return ct === 'float16'
      ? g.initializer(hint, { type: 'float16', dims, data: toFloat16Array(data) })
      : g.initializer(hint, { type: 'float32', dims, data });
  };
  const filled = (hint: string, dims: readonly number[], value: number): string => {
    const data = new Float32Array(dims.reduce((a, b) => a * b, 1)).fill(value);
    return ct === 'float16'
      ? g.initializer(hint, { type: 'float16', dims, data: toFloat16Array(data) })
      : g.initializer(hint, { type: 'float32', dims, data });
  };
  const scalar = (hint: string, value: number): string => filled(hint, [], value);

  const conv3x3 = (x: string, hint: string, cin: number, cout: number): string =>
    g.op1('Conv', [x, weight(`${hint}.weight`, [cout, cin, 3, 3], cin * 9), filled(`${hint}.bias`, [cout], 0)], {
      kernel_shape: { ints: [3, 3] },
      pads: { ints: [1, 1, 1, 1] },
    });

  const groupNorm = (x: string, hint: string): string => {
    const grouped = g.op1('Reshape', [x, g.constI64([0, groups, -1])]);
    const normed = g.op1('InstanceNormalization', [grouped, filled(`${hint}.group_scale`, [groups], 1), filled(`${hint}.group_bias`, [groups], 0)], {
      epsilon: { f: 1e-5 },
    });
    const back = g.op1('Reshape', [normed, g.op1('Shape', [x])]);
    return g.op1('Add', [g.op1('Mul', [back, filled(`${hint}.weight`, [c, 1, 1], 1)]), filled(`${hint}.bias`, [c, 1, 1], 0)]);
  };

  const silu = (x: string): string => g.op1('Mul', [x, g.op1('Sigmoid', [x])]);

  const layerNorm = (x: string, hint: string): string =>
    g.op1('LayerNormalization', [x, filled(`${hint}.weight`, [c], 1), filled(`${hint}.bias`, [c], 0)], {
      axis: { i: -1 },
      epsilon: { f: 1e-5 },
    });

  /** [b, n, heads*d] -> [b, heads, n, d] (or [b, heads, d, n] when `transposed`). */
  const splitHeads = (x: string, transposed: boolean): string =>
    g.op1('Transpose', [g.op1('Reshape', [x, g.constI64([0, -1, heads, c / heads])])], {
      perm: { ints: transposed ? [0, 2, 3, 1] : [0, 2, 1, 3] },
    });

  /** torch's opset-14 scaled_dot_product_attention: scale from Shape(q), sqrt(scale) on q and on kᵀ, then MatMul. */
  const sdpaScores = (q: string, k: string): string => {
    const headSize = g.op1('Slice', [g.op1('Shape', [q]), g.constI64([-1]), g.constI64([Number.MAX_SAFE_INTEGER])]);
    const scale = g.op1('Div', [g.constF32([1]), g.op1('Sqrt', [g.cast(headSize, 'int64', 'float32')])]);
    const root = (): string => g.cast(g.op1('Sqrt', [scale]), 'float32', ct);
    const keyT = g.op1('Transpose', [k], { perm: { ints: [0, 1, 3, 2] } });
    return g.op1('MatMul', [g.op1('Mul', [q, root()]), g.op1('Mul', [keyT, root()])]);
  };

  const attention = (x: string, context: string, contextWidth: number, hint: string): string => {
    // Both variants draw the weights in the same order (q, k, v, out), so they get the same values.
    const project = (input: string, name: string, rows: number): string =>
      g.op1('MatMul', [input, weight(`${hint}.${name}.weight`, [rows, c], rows)]);
    if (opts.benchmarkAttention === 'fused') {
      // [b, S, C], [b, L, C], [b, L, C] -> [b, S, C]; the default scale is 1/sqrt(C / heads), as below.
      const qkv = [project(x, 'to_q', c), project(context, 'to_k', contextWidth), project(context, 'to_v', contextWidth)];
      const fused = g.domainOp1(MS_DOMAIN, MS_DOMAIN_VERSION, 'MultiHeadAttention', qkv, { num_heads: { i: heads } });
      return g.op1('MatMul', [fused, weight(`${hint}.to_out.weight`, [c, c], c)]);
    }
    const q = splitHeads(project(x, 'to_q', c), false);
    const sdpa = opts.benchmarkAttention === 'sdpa';
    const k = splitHeads(project(context, 'to_k', contextWidth), !sdpa);
    const v = splitHeads(project(context, 'to_v', contextWidth), false);
    const scores = sdpa ? sdpaScores(q, k) : g.op1('Mul', [g.op1('MatMul', [q, k]), scalar(`${hint}.scale`, 1 / Math.sqrt(c / heads))]);
    const probs = g.op1('Softmax', [scores], { axis: { i: -1 } });
    const merged = g.op1('Reshape', [g.op1('Transpose', [g.op1('MatMul', [probs, v])], { perm: { ints: [0, 2, 1, 3] } }), g.constI64([0, -1, c])]);
    return g.op1('MatMul', [merged, weight(`${hint}.to_out.weight`, [c, c], c)]);
  };

  const text = g.cast(textIn, opts.io, ct);
  let x = conv3x3(g.cast(sampleIn, opts.io, ct), 'bench.conv_in', opts.unetInChannels, c);
  for (let i = 0; i < opts.benchmarkBlocks; i++) {
    const p = `bench.blocks.${i}`;
    x = g.op1('Add', [x, conv3x3(silu(groupNorm(x, `${p}.norm`)), `${p}.conv`, c, c)]);
    const spatial = g.op1('Shape', [x]);
    let seq = g.op1('Transpose', [g.op1('Reshape', [x, g.constI64([0, c, -1])])], { perm: { ints: [0, 2, 1] } }); // [b, hw, c]
    const n1 = layerNorm(seq, `${p}.norm1`);
    seq = g.op1('Add', [seq, attention(n1, n1, c, `${p}.attn1`)]);
    seq = g.op1('Add', [seq, attention(layerNorm(seq, `${p}.norm2`), text, hidden, `${p}.attn2`)]);
    x = g.op1('Reshape', [g.op1('Transpose', [seq], { perm: { ints: [0, 2, 1] } }), spatial]);
  }
  return g.cast(conv3x3(silu(groupNorm(x, 'bench.norm_out')), 'bench.conv_out', c, 4), ct, 'float32');
}

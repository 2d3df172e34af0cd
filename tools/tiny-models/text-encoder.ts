/**
 * The tiny CLIP text encoder: `input_ids` [batch, sequence] -> `last_hidden_state` [batch, sequence, hidden] and
 * `pooler_output` [batch, hidden].
 *
 * last_hidden_state = token_embedding[input_ids] + position_embedding[:sequence]; pooler_output = its mean over the
 * positions. Word rows of the embedding table are N(0, 1); the rows of <|startoftext|> and <|endoftext|> (the
 * padding) and the position embedding are small (std 0.02), so that the mean over the 77 positions, which the tiny
 * UNet reads, is dominated by the prompt's words.
 */
import { GraphBuilder, type SerializedModel } from './graph-builder.js';
import { dimNames, MAX_TOKENS, partSeed, type ResolvedOptions } from './options.js';
import { Random } from './random.js';

export const SPECIAL_TOKEN_STD = 0.02;
export const POSITION_STD = 0.02;

export interface TextEncoderWeights {
  /** [vocabSize, hidden], row-major. */
  readonly tokenEmbedding: Float32Array;
  /** [77, hidden]. */
  readonly positionEmbedding: Float32Array;
}

/** The random weights (exported so tests can compute expected embeddings). */
export function textEncoderWeights(
  opts: ResolvedOptions,
  vocabSize: number,
  specialIds: readonly number[],
  part: 'text_encoder' | 'text_encoder_2' = 'text_encoder',
): TextEncoderWeights {
  const rng = new Random(partSeed(opts.seed, part));
  const h = opts.hiddenSize;
  const tokenEmbedding = rng.normals(vocabSize * h, 1);
  for (const id of specialIds) {
    for (let k = 0; k < h; k++) tokenEmbedding[id * h + k] = (tokenEmbedding[id * h + k] ?? 0) * SPECIAL_TOKEN_STD;
  }
  const positionEmbedding = rng.normals(MAX_TOKENS * h, POSITION_STD);
  return { tokenEmbedding, positionEmbedding };
}

/** SDXL's encoders as optimum exports them: `hidden_states.0` ... `hidden_states.N` after the usual outputs. */
export interface SdxlEncoderOutputs {
  readonly part: 'text_encoder' | 'text_encoder_2';
  /** N: the encoder's layers (N + 1 hidden-state outputs). */
  readonly layers: number;
}

/** `hidden_states.k` of the tiny SDXL encoders: (k + 1) · E + k, E = token + position embedding (so each layer differs). */
export function sdxlHiddenState(e: number, k: number): number {
  return (k + 1) * e + k;
}

export function buildTextEncoder(
  opts: ResolvedOptions,
  vocabSize: number,
  specialIds: readonly number[],
  sdxl?: SdxlEncoderOutputs,
): SerializedModel {
  const dims = dimNames(opts.layout);
  const h = opts.hiddenSize;
  const weights = textEncoderWeights(opts, vocabSize, specialIds, sdxl?.part);
  const g = new GraphBuilder('tiny_clip_text_encoder');
  const ids = g.input('input_ids', opts.inputIdsType, [dims.batch, dims.sequence]);
  const table = g.f32('text_model.embeddings.token_embedding.weight', [vocabSize, h], weights.tokenEmbedding);
  const positions = g.f32('text_model.embeddings.position_embedding.weight', [MAX_TOKENS, h], weights.positionEmbedding);
  const tokens = g.op1('Gather', [table, ids], { axis: { i: 0 } }); // [b, s, h]
  // The first `sequence` rows of the position table (77 for SD; fewer also work, like CLIP).
  const length = g.op1('Shape', [ids], { start: { i: 1 }, end: { i: 2 } }); // [1] = sequence
  const pos = g.op1('Slice', [positions, g.constI64([0]), length, g.constI64([0])]); // [s, h]
  const hidden = g.op1('Add', [tokens, pos]); // [b, s, h]
  const pooled = g.op1('ReduceMean', [hidden], { axes: { ints: [1] }, keepdims: { i: 0 } }); // [b, h]
  if (sdxl?.part === 'text_encoder_2') {
    // CLIPTextModelWithProjection: text_embeds (the projected pooled output; here minus the mean) comes first.
    g.output('text_embeds', opts.io, [dims.batch, dims.sequence], g.op1('Neg', [pooled]), 'float32');
    g.output('last_hidden_state', opts.io, [dims.batch, dims.sequence, h], hidden, 'float32');
  } else {
    g.output('last_hidden_state', opts.io, [dims.batch, dims.sequence, h], hidden, 'float32');
    g.output('pooler_output', opts.io, [dims.batch, h], pooled, 'float32');
  }
  for (let k = 0; k <= (sdxl?.layers ?? -1); k++) {
    const state = g.op1('Add', [g.op1('Mul', [hidden, g.constF32(k + 1)]), g.constF32(k)]);
    g.output(`hidden_states.${k}`, opts.io, [dims.batch, dims.sequence, h], state, 'float32');
  }
  return g.serialize({ docString: 'Tiny random CLIP text encoder with the Stable Diffusion v1 tensor contract (tests only).' });
}

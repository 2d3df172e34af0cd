/**
 * The tiny VAE. Neither half applies SD's 0.18215 latent scaling (the pipeline does, as with the real exports).
 *
 * Encoder: `sample` [batch, 3, H, W] in [-1, 1] -> mean [batch, 4, H/8, W/8] = VAE_GAIN · M · avgpool8(rgb), where M
 * is a seeded random 4x3 matrix with orthonormal columns (Mᵀ·M = I), so all four latent channels carry the image.
 * `latent_parameters` = mean ++ logvar (logvar a constant LOGVAR); `latent_sample` = the mean itself.
 * Decoder: `latent_sample` [batch, 4, h, w] -> `sample` [batch, 3, 8h, 8w] = bilinear_x8(Mᵀ · latent / VAE_GAIN),
 * which inverts the encoder up to the 8x8 averaging: a smooth image survives the round trip almost unchanged.
 */
import { GraphBuilder, type SerializedModel } from './graph-builder.js';
import { dimNames, partSeed, type ResolvedOptions } from './options.js';
import { Random } from './random.js';

export const VAE_GAIN = 10;
export const LOGVAR = -6;

/** The seeded 4x3 matrix M (row-major, M[latent][rgb]) with orthonormal columns. */
export function vaeMixing(opts: ResolvedOptions): Float32Array {
  const rng = new Random(partSeed(opts.seed, 'vae'));
  const cols: number[][] = [];
  for (let j = 0; j < 3; j++) {
    // Gram-Schmidt on random columns, nudged towards the identity so channel j mostly carries colour j.
    let v = Array.from({ length: 4 }, (_, i) => (i === j ? 2 : 0) + rng.normal() * 0.5);
    for (const u of cols) {
      const d = v.reduce((s, x, i) => s + x * (u[i] as number), 0);
      v = v.map((x, i) => x - d * (u[i] as number));
    }
    const norm = Math.hypot(...v);
    cols.push(v.map((x) => x / norm));
  }
  const m = new Float32Array(12);
  for (let i = 0; i < 4; i++) for (let j = 0; j < 3; j++) m[i * 3 + j] = cols[j]?.[i] ?? 0;
  return m;
}

export function buildVaeEncoder(opts: ResolvedOptions): SerializedModel {
  const dims = dimNames(opts.layout);
  const m = vaeMixing(opts);
  const params = opts.vaeEncoderOutput === 'latent_parameters';
  const outChannels = params ? 8 : 4;
  // One strided 8x8 convolution does the pooling and the mixing: W[o][i][.][.] = VAE_GAIN * M[o][i] / 64.
  const weight = new Float32Array(outChannels * 3 * 64);
  const bias = new Float32Array(outChannels);
  for (let o = 0; o < 4; o++) {
    for (let i = 0; i < 3; i++) weight.fill((VAE_GAIN * (m[o * 3 + i] ?? 0)) / 64, (o * 3 + i) * 64, (o * 3 + i + 1) * 64);
  }
  if (params) bias.fill(LOGVAR, 4, 8);
  const g = new GraphBuilder('tiny_vae_encoder');
  const input = g.input('sample', opts.io, [dims.batch, opts.symbolicChannels ? dims.channels : 3, dims.imageHeight, dims.imageWidth]);
  const latent = g.op1(
    'Conv',
    [g.cast(input, opts.io, 'float32'), g.f32('encoder.weight', [outChannels, 3, 8, 8], weight), g.f32('encoder.bias', [outChannels], bias)],
    {
      kernel_shape: { ints: [8, 8] },
      strides: { ints: [8, 8] },
    },
  );
  g.output(opts.vaeEncoderOutput, opts.io, [dims.batch, outChannels, dims.encodedHeight, dims.encodedWidth], latent, 'float32');
  return g.serialize({ docString: 'Tiny VAE encoder with the Stable Diffusion v1 tensor contract (tests only).' });
}

export function buildVaeDecoder(opts: ResolvedOptions): SerializedModel {
  const dims = dimNames(opts.layout);
  const m = vaeMixing(opts);
  const weight = new Float32Array(3 * 4); // [3, 4, 1, 1] = Mᵀ / VAE_GAIN
  for (let o = 0; o < 3; o++) for (let i = 0; i < 4; i++) weight[o * 4 + i] = (m[i * 3 + o] ?? 0) / VAE_GAIN;
  const g = new GraphBuilder('tiny_vae_decoder');
  const input = g.input('latent_sample', opts.io, [dims.batch, opts.symbolicChannels ? dims.channels : 4, dims.latentHeight, dims.latentWidth]);
  const rgb = g.op1('Conv', [g.cast(input, opts.io, 'float32'), g.f32('decoder.weight', [3, 4, 1, 1], weight)], { kernel_shape: { ints: [1, 1] } });
  const image = g.op1('Resize', [rgb, '', g.constF32([1, 1, 8, 8])], {
    mode: { s: 'linear' },
    coordinate_transformation_mode: { s: 'half_pixel' },
  });
  g.output('sample', opts.io, [dims.batch, 3, dims.decodedHeight, dims.decodedWidth], image, 'float32');
  return g.serialize({ docString: 'Tiny VAE decoder with the Stable Diffusion v1 tensor contract (tests only).' });
}

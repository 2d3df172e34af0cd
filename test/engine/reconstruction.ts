/**
 * Test and bench support for the inversion conditioning: how closely inverting a picture and decoding it again
 * with the same prompt (query = ref, the mask everywhere, eta 0) gives the picture back. Nothing is to change,
 * so every bit of difference is the inversion's error (plus the VAE's own round trip in pixels).
 */
import sharp from 'sharp';
import { decodeWithMask, type EditOptions, type EditPrompts } from '../../src/engine/diffedit/edit.js';
import type { LatentShape } from '../../src/engine/diffedit/latents.js';
import { imageToTensor, tensorToImage, type RgbImage } from '../../src/engine/image/index.js';
import { decodeModelPicture } from './image/fixtures.js';
import type { StableDiffusion } from '../../src/engine/models/stable-diffusion.js';
import { gaussian } from '../../src/engine/noise.js';

/** A picture at model size, its latents, and those latents decoded again (the VAE's round trip). */
export interface EncodedPicture {
  readonly input: RgbImage;
  readonly x0: Float32Array;
  readonly shape: LatentShape;
  readonly roundTrip: RgbImage;
}

/** Mean squared errors of a reconstruction. */
export interface ReconstructionError {
  /** Final latents vs the picture's latents. */
  readonly latentMse: number;
  /** Decoded picture vs the input, on 0..255 values. */
  readonly pixelMse: number;
  /** Decoded picture vs the VAE's round trip of the input (the inversion's share of `pixelMse`), 0..255 values. */
  readonly roundTripPixelMse: number;
}

/** Decodes `image` at model `size` and encodes its latents, as the engine does. */
export async function encodePicture(sd: StableDiffusion, image: Uint8Array, size: number): Promise<EncodedPicture> {
  const input = await decodeModelPicture(image, { size });
  const x0 = await sd.encodeImage(imageToTensor(input), input.width, input.height);
  const f = sd.vaeScaleFactor;
  return { input, x0, shape: { channels: 4, height: input.height / f, width: input.width / f }, roundTrip: await decodePicture(sd, x0, input) };
}

/** `latents` decoded to 8-bit pixels at the size of `like`. */
async function decodePicture(sd: StableDiffusion, latents: Float32Array, like: RgbImage): Promise<RgbImage> {
  return tensorToImage(await sd.decodeLatents(latents, like.width, like.height), like.width, like.height);
}

/** The prompt embeddings of the empty prompt and `ref`, with query = ref. */
export async function samePromptEmbeddings(sd: StableDiffusion, ref: string): Promise<EditPrompts> {
  const embeddings = await sd.encodePrompts(['', ref]);
  const size = embeddings.rowSize;
  const refRow = embeddings.data.slice(size, 2 * size);
  return { uncond: embeddings.data.slice(0, size), ref: refRow, query: refRow };
}

/**
 * Decodes the inverted `levels` with query = ref over the whole picture at eta 0 and `options.guidance`, and
 * measures the result against the picture.
 */
export async function reconstructionError(
  sd: StableDiffusion,
  picture: EncodedPicture,
  prompts: EditPrompts,
  levels: readonly Float32Array[],
  options: EditOptions,
): Promise<ReconstructionError> {
  const plane = picture.shape.height * picture.shape.width;
  const latents = await decodeWithMask(sd, levels, {
    shape: picture.shape,
    mask: new Float32Array(plane).fill(1),
    prompts: { ...prompts, query: prompts.ref },
    // eta 0 draws nothing from it.
    noise: gaussian(0),
    options: { ...options, eta: 0 },
  });
  const decoded = await decodePicture(sd, latents, picture.input);
  return {
    latentMse: meanSquaredError(latents, picture.x0),
    pixelMse: meanSquaredError(decoded.data, picture.input.data),
    roundTripPixelMse: meanSquaredError(decoded.data, picture.roundTrip.data),
  };
}

/** Mean of (a[i] - b[i])^2. */
export function meanSquaredError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new RangeError(`lengths differ: ${a.length} vs ${b.length}`);
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += ((a[i] as number) - (b[i] as number)) ** 2;
  return sum / a.length;
}

/**
 * A smooth picture drawn from `seed` as PNG bytes: a colour gradient under four soft blobs of random colour,
 * place and size (smooth pictures survive the tiny VAEs' pooling).
 */
export async function seededPhoto(seed: number, width = 128, height = 128): Promise<Buffer> {
  const draws = gaussian(seed, 7).next(4 * 6);
  const uniform = (i: number): number => 1 / (1 + Math.exp(-1.7 * (draws[i] as number)));
  const blobs = Array.from({ length: 4 }, (_, b) => ({
    x: uniform(b * 6) * width,
    y: uniform(b * 6 + 1) * height,
    r: (0.1 + 0.25 * uniform(b * 6 + 2)) * Math.min(width, height),
    rgb: [0, 1, 2].map((c) => 255 * uniform(b * 6 + 3 + c)),
  }));
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const rgb = [60 + (120 * x) / width, 80 + (100 * y) / height, 180 - (100 * (x + y)) / (width + height)];
      for (const blob of blobs) {
        const w = Math.exp(-((x - blob.x) ** 2 + (y - blob.y) ** 2) / (2 * blob.r * blob.r));
        for (let c = 0; c < 3; c++) rgb[c] = (1 - w) * (rgb[c] as number) + w * (blob.rgb[c] as number);
      }
      for (let c = 0; c < 3; c++) data[(y * width + x) * 3 + c] = Math.round(rgb[c] as number);
    }
  }
  return sharp(data, { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();
}

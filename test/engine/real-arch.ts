/**
 * Test support for the real-architecture fixtures (test/fixtures/sd-real-arch): their reference pairs, and
 * complete exports made of the tiny generator's text encoder, tokenizer and scheduler around the real UNet and VAE
 * graphs (the fixtures have no text encoder; the generator's has the same hidden width, 32).
 */
import { copyFile, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { DiffEditEngine } from '../../src/engine/engine.js';
import { silentLogger } from '../../src/logger.js';
import { generateTinyModels } from '../../tools/tiny-models/generate.js';

/** The fixtures' folder. */
export const REAL_ARCH = fileURLToPath(new URL('../fixtures/sd-real-arch/', import.meta.url));

/** One float32 tensor of a reference case. */
export interface RefTensor {
  readonly data: Float32Array;
  readonly dims: readonly number[];
}

/** One reference case: torch's outputs for these inputs. */
export interface RefCase {
  readonly name: string;
  readonly inputs: Readonly<Record<string, RefTensor>>;
  readonly outputs: Readonly<Record<string, RefTensor>>;
}

interface RefSpec {
  readonly file: string;
  readonly shape: number[];
}

/** The cases of `<fixture>/refs.json`. */
export async function readRefs(fixture: string): Promise<RefCase[]> {
  const dir = path.join(REAL_ARCH, fixture);
  const json = JSON.parse(await readFile(path.join(dir, 'refs.json'), 'utf8')) as {
    cases: { name: string; inputs: Record<string, RefSpec>; outputs: Record<string, RefSpec> }[];
  };
  const load = async (specs: Record<string, RefSpec>): Promise<Record<string, RefTensor>> => {
    const entries = await Promise.all(
      Object.entries(specs).map(async ([name, spec]) => {
        const bytes = await readFile(path.join(dir, spec.file));
        // Copy into a fresh, aligned buffer: a Buffer's offset into Node's pool need not be a multiple of 4.
        const data = new Float32Array(new Uint8Array(bytes).buffer);
        return [name, { data, dims: spec.shape }] as const;
      }),
    );
    return Object.fromEntries(entries);
  };
  return Promise.all(json.cases.map(async (c) => ({ name: c.name, inputs: await load(c.inputs), outputs: await load(c.outputs) })));
}

/** The largest |a[i] - b[i]| (Infinity when the lengths differ). */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs((a[i] as number) - (b[i] as number)));
  return max;
}

/** Runs a model file once on the CPU EP (one thread) and returns its float outputs by name. */
export async function runModel(file: string, feeds: Record<string, ort.Tensor>): Promise<Record<string, Float32Array>> {
  const session = await ort.InferenceSession.create(file, { executionProviders: ['cpu'], intraOpNumThreads: 1 });
  try {
    const out = await session.run(feeds);
    return Object.fromEntries(Object.entries(out).map(([name, t]) => [name, t.data as Float32Array]));
  } finally {
    await session.release();
  }
}

/** Which fixture graphs make up an export, and what its VAE config says. */
export interface RealArchExport {
  /** 'vae_encoder_mean' (optimum: latent_parameters, default) or 'vae_encoder' (diffusers script: samples). */
  readonly encoder?: 'vae_encoder' | 'vae_encoder_mean';
  /** vae_decoder/config.json's block_out_channels; absent: the config has none and the factor is probed. */
  readonly vaeBlocks?: readonly number[];
}

/** A temp folder holding a complete export around the real-architecture UNet and VAE. */
export async function realArchModelDir(options: RealArchExport = {}): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'diffedit-real-arch-'));
  await generateTinyModels(dir, {});
  await copyFile(path.join(REAL_ARCH, 'unet', 'model.onnx'), path.join(dir, 'unet', 'model.onnx'));
  await copyFile(path.join(REAL_ARCH, options.encoder ?? 'vae_encoder_mean', 'model.onnx'), path.join(dir, 'vae_encoder', 'model.onnx'));
  await copyFile(path.join(REAL_ARCH, 'vae_decoder', 'model.onnx'), path.join(dir, 'vae_decoder', 'model.onnx'));
  const config = {
    _class_name: 'AutoencoderKL',
    latent_channels: 4,
    scaling_factor: 0.18215,
    ...(options.vaeBlocks ? { block_out_channels: options.vaeBlocks } : {}),
  };
  await writeFile(path.join(dir, 'vae_decoder', 'config.json'), JSON.stringify(config));
  return dir;
}

/** An engine on the CPU (one thread) over a {@link realArchModelDir} export, at 64 px (latents 32 x 32). */
export async function realArchEngine(options: RealArchExport = {}): Promise<DiffEditEngine> {
  return DiffEditEngine.create({
    modelDir: await realArchModelDir(options),
    providers: ['cpu'],
    cpuThreads: 1,
    logger: silentLogger,
    size: 64,
    maxBatch: 20,
  });
}

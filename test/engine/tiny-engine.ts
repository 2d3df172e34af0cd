/**
 * Test support: tiny Stable Diffusion exports generated once per options into a temp folder, engines on
 * them, and a smooth synthetic photo.
 */
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { DiffEditEngine, type EngineOptions } from '../../src/engine/engine.js';
import { silentLogger } from '../../src/logger.js';
import { generateTinyModels, type TinyModelOptions } from '../../tools/tiny-models/generate.js';

const generated = new Map<string, Promise<string>>();

/** A folder holding tiny models built with `options` (built on first use, shared by the test file). */
export function tinyModelDir(options: TinyModelOptions = {}): Promise<string> {
  const key = JSON.stringify(options);
  let dir = generated.get(key);
  if (dir === undefined) {
    dir = (async () => {
      const out = await mkdtemp(path.join(os.tmpdir(), 'diffedit-tiny-'));
      await generateTinyModels(out, options);
      return out;
    })();
    generated.set(key, dir);
  }
  return dir;
}

/** An engine on CPU over tiny models, at a small model size so tests stay fast. */
export async function tinyEngine(options: TinyModelOptions = {}, engine: Partial<EngineOptions> = {}): Promise<DiffEditEngine> {
  return DiffEditEngine.create({
    modelDir: await tinyModelDir(options),
    providers: ['cpu'],
    logger: silentLogger,
    size: 128,
    cpuThreads: 1,
    // The GPU default: the whole mask in one UNet call (the CPU default, 2, is tested on its own).
    maxBatch: 20,
    ...engine,
  });
}

/** A smooth colourful picture (gradients compress well through an 8x8-pooling VAE) as PNG bytes. */
export async function smoothPhoto(width = 128, height = 128): Promise<Buffer> {
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      data[i] = Math.round(40 + (180 * x) / width);
      data[i + 1] = Math.round(60 + (150 * y) / height);
      data[i + 2] = Math.round(200 - (120 * (x + y)) / (width + height));
    }
  }
  return sharp(data, { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();
}

/**
 * The model size comes from the model: unet/config.json's sample_size x the VAE factor, MODEL_SIZE only overriding it.
 */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DiffEditEngine } from '../../../src/engine/engine.js';
import { modelSizeFromConfig } from '../../../src/engine/models/vae-geometry.js';
import { silentLogger } from '../../../src/logger.js';
import { generateTinyModels } from '../../../tools/tiny-models/generate.js';
import { smoothPhoto } from '../tiny-engine.js';

describe('modelSizeFromConfig', () => {
  it.each([
    // sample_size, VAE factor, expected: the real families and the demo model's 32 x 4
    [64, 8, 512], // SD 1.5
    [96, 8, 768], // SD 2.1
    [64, 8, 512], // SD 2.1-base
    [128, 8, 1024], // SDXL base
    [32, 4, 128], // the trained demo model
    [32, 2, 64], // the tiny real-architecture fixtures
    [20, 4, 64], // 80 -> the nearest multiple of 64
    [4, 2, 64], // never below 64
  ])('sample_size %i x factor %i = %i', (sampleSize, factor, expected) => {
    expect(modelSizeFromConfig(sampleSize, factor)).toBe(expected);
  });

  it('falls back to 512 (or the given fallback) without a UNet config', () => {
    expect(modelSizeFromConfig(undefined, 8)).toBe(512);
    expect(modelSizeFromConfig(undefined, 8, 1024)).toBe(1024);
  });
});

describe('an engine on a 128-px model', () => {
  const engines: DiffEditEngine[] = [];
  afterAll(async () => Promise.all(engines.map((e) => e.close())));

  /** Tiny models whose unet/config.json says sample_size 16: 16 x 8 = 128 px. */
  async function smallModelDir(): Promise<string> {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'diffedit-size-'));
    await generateTinyModels(dir);
    const file = path.join(dir, 'unet', 'config.json');
    const config = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    await writeFile(file, JSON.stringify({ ...config, sample_size: 16 }));
    return dir;
  }

  async function open(modelDir: string, size?: number): Promise<DiffEditEngine> {
    const engine = await DiffEditEngine.create({ modelDir, providers: ['cpu'], logger: silentLogger, cpuThreads: 1, size });
    engines.push(engine);
    return engine;
  }

  it('works at the size the model gives, and MODEL_SIZE still overrides it', async () => {
    const dir = await smallModelDir();
    const own = await open(dir);
    expect(own.models.modelSize).toBe(128);
    expect(own.size).toBe(128);
    const result = await own.run({ image: await smoothPhoto(200, 100), ref: 'a bowl of strawberries', query: 'a bowl of grapes', steps: 5, maskDraws: 2 });
    expect([result.input.width, result.input.height]).toEqual([128, 64]);
    expect([result.output?.width, result.output?.height]).toEqual([128, 64]);

    const overridden = await open(dir, 192);
    expect(overridden.size).toBe(192);
  });
});

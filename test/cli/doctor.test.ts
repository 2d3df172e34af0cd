/**
 * `npm run doctor` as a process on a CPU-only machine: versions, one line per provider with the reason, and the
 * contract of the models found (here an optimised copy of the real-architecture graphs).
 */
import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { optimizeExport } from '../../src/optimize/optimize-export.js';
import { generateTinyModels } from '../../tools/tiny-models/generate.js';
import { realArchModelDir } from '../engine/real-arch.js';

const root = path.resolve(import.meta.dirname, '../..');

describe('npm run doctor', () => {
  it('reports versions, providers with reasons, and the optimised copy’s contract', async () => {
    const models = await realArchModelDir({ encoder: 'vae_encoder' });
    await optimizeExport({ modelDir: models });
    const { stdout, stderr } = await promisify(execFile)(
      path.join(root, 'node_modules/.bin/tsx'),
      [path.join(root, 'src/cli/doctor.ts'), '--models', models],
      {
        env: { PATH: process.env['PATH'] ?? '' },
      },
    );
    expect(stderr).toBe('');
    const lines = stdout.split('\n');
    expect(lines[0]).toMatch(/^Node v\d+/);
    expect(lines).toContain('onnxruntime-node 1.30.0');
    expect(lines).toContain('  cpu: available');
    expect(lines.find((l) => l.startsWith('  cuda: '))).toMatch(/^ {2}cuda: (available|unavailable: \S.*)$/);
    expect(lines.find((l) => l.startsWith('  webgpu: '))).toMatch(/^ {2}webgpu: (available|unavailable: \S.*)$/);
    expect(
      lines.find((l) => l.startsWith('Models: '))?.startsWith(`Models: ${path.join(models, 'optimized')} (optimised): optimised copy of ${models} (`),
    ).toBe(true);
    expect(lines).toContain('  unet: sample float32, 4 channels, timestep float32 rank 1, out_sample float32');
    expect(lines).toContain('  vae_encoder: latent_sample (a sample, or the mean after npm run optimize)');
  });

  it('names an SDXL export’s family, size, both text encoders and the UNet’s added conditions', async () => {
    const models = await mkdtemp(path.join(os.tmpdir(), 'diffedit-doctor-xl-'));
    await generateTinyModels(models, { family: 'sdxl', unetFrom: path.join(root, 'test/fixtures/sd-real-arch-xl/sdxl-xs-int64/unet') });
    const { stdout } = await promisify(execFile)(
      path.join(root, 'node_modules/.bin/tsx'),
      [path.join(root, 'src/cli/doctor.ts'), '--models', models],
      {
        env: { PATH: process.env['PATH'] ?? '' },
      },
    );
    const lines = stdout.split('\n');
    expect(lines).toContain(
      '  family: Stable Diffusion XL (epsilon prediction); model size 256 px (unet sample_size 32 x VAE factor 8); MODEL_SIZE overrides it',
    );
    expect(lines).toContain('  text_encoder_2: input_ids int64, hidden_states.2 float32 x 32, pooled text_embeds');
    expect(lines).toContain('  unet: sample float32, 4 channels, timestep int64 rank 1, out_sample float32, text_embeds + time_ids');
  }, 120_000);
});

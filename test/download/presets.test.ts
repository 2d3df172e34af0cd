/**
 * Every named source, served by the fake hub in the layout the preset says its revision has (built from the tiny
 * models), downloads into a folder the engine loads with the right contract; a missing source names the others.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readHubConfig } from '../../src/config/hub.js';
import { EnvReader } from '../../src/config/env.js';
import { downloadModel } from '../../src/download/download-model.js';
import { componentsFor, findPreset, MODEL_PRESETS, withPresetHint, type ModelPreset, type PresetLayout } from '../../src/download/presets.js';
import { STATE_FILE } from '../../src/download/transfer/download-state.js';
import { DiffEditEngine } from '../../src/engine/engine.js';
import { ErrorCode, type DiffEditError } from '../../src/errors.js';
import { silentLogger } from '../../src/logger.js';
import { unetExternalDataFile, type TinyModelOptions } from '../../tools/tiny-models/generate.js';
import { FakeHub } from './fake-hub.js';
import { readTree, tinyExport, withUnneeded } from './tiny-repo.js';
import { errorCode, rejection } from '../engine/image/fixtures.js';

/** What each layout's exporter writes besides the file names (see test/engine/models/variants.test.ts). */
const EXPORTER: Record<PresetLayout, TinyModelOptions> = {
  // The legacy diffusers ONNX branches: int32 ids, latent_sample, a [batch] timestep, symbolic channels.
  'diffusers-onnx': {
    layout: 'diffusers-onnx',
    inputIdsType: 'int32',
    vaeEncoderOutput: 'latent_sample',
    timestep: { dtype: 'int64', rank: 1 },
    symbolicChannels: true,
  },
  optimum: { layout: 'optimum', externalData: true },
};

const PRESETS = Object.entries(MODEL_PRESETS) as [string, ModelPreset][];

let hub: FakeHub;
/** A standard export to pair an inpainting UNet with. */
let baseModelDir: string;
const sources = new Map<string, Map<string, Buffer>>();
const dirs: string[] = [];

beforeAll(async () => {
  hub = await FakeHub.start({});
  const base = await tinyExport({ layout: 'optimum' });
  baseModelDir = base.dir;
  dirs.push(base.dir);
  for (const [name, preset] of PRESETS) {
    const tiny = await tinyExport({ ...EXPORTER[preset.layout], unetInChannels: preset.role === 'inpainting' ? 9 : 4 });
    dirs.push(tiny.dir);
    sources.set(name, tiny.files);
    hub.commit(preset.repo, withUnneeded(tiny.files), preset.revision);
  }
});

afterAll(async () => {
  await hub.close();
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

afterEach(() => hub.reset());

async function freshOut(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'diffedit-preset-'));
  dirs.push(dir);
  return dir;
}

describe('model presets', () => {
  it.each(PRESETS)('%s: its layout downloads and the engine loads it with the right contract', async (name, preset) => {
    const outDir = await freshOut();
    const summary = await downloadModel({
      endpoint: hub.endpoint,
      repo: preset.repo,
      revision: preset.revision,
      components: componentsFor(preset.role),
      outDir,
      logger: silentLogger,
    });

    const source = sources.get(name) as Map<string, Buffer>;
    const files = await readTree(outDir);
    files.delete(STATE_FILE);
    const external = `unet/${unetExternalDataFile(preset.layout)}`;
    const expected = preset.role === 'inpainting' ? ['model_index.json', 'unet/model.onnx', external] : [...source.keys()];
    expect([...files.keys()].sort()).toEqual(expected.sort());
    for (const [file, bytes] of files) expect(bytes.equals(source.get(file) as Buffer), file).toBe(true);
    expect(summary.commit).toBe(hub.head(preset.repo, preset.revision));

    const engine = await DiffEditEngine.create({
      modelDir: preset.role === 'inpainting' ? baseModelDir : outDir,
      ...(preset.role === 'inpainting' ? { inpaintModelDir: outDir } : {}),
      providers: ['cpu'],
      size: 128,
      logger: silentLogger,
      cpuThreads: 1,
    });
    try {
      const contract = engine.models.contract;
      if (preset.role === 'inpainting') {
        expect(contract.inpaintUnet?.inChannels).toBe(9);
      } else {
        expect(contract.unet.inChannels).toBe(4);
        if (preset.layout === 'diffusers-onnx') {
          expect([contract.textEncoder.inputIds.type, contract.vaeEncoder.output.kind]).toEqual(['int32', 'latent_sample']);
        }
      }
    } finally {
      await engine.close();
    }
  });

  it('a missing repository or revision names the presets for the same use, leaving out the one that failed', async () => {
    const sd15 = MODEL_PRESETS.sd15;
    const noRepo = await rejection(downloadModel({ endpoint: hub.endpoint, repo: 'nobody/nothing', revision: 'onnx', outDir: await freshOut() }));
    const noBranch = await rejection(downloadModel({ endpoint: hub.endpoint, repo: sd15.repo, revision: 'gone', outDir: await freshOut() }));

    const repoHint = withPresetHint(noRepo, 'standard', { repo: 'nobody/nothing', revision: 'onnx' }) as DiffEditError;
    expect(repoHint.message).toContain('nobody/nothing');
    expect(repoHint.message).toContain(`--preset sd15 (${sd15.repo}@${sd15.revision})`);
    expect(repoHint.message).toContain(`--preset sd15-community (${MODEL_PRESETS['sd15-community'].repo}@main)`);
    expect(repoHint.details).toMatchObject({ reason: 'not-found', alternatives: ['sd15', 'sd15-community', 'sdxl'] });

    // The failing source is sd15 itself: only the other one is worth naming.
    const branchHint = withPresetHint(noBranch, 'standard', { repo: sd15.repo, revision: 'onnx' }) as DiffEditError;
    expect(branchHint.details['alternatives']).toEqual(['sd15-community', 'sdxl']);
    const inpaintHint = withPresetHint(noRepo, 'inpainting', { repo: 'nobody/nothing', revision: 'onnx' }) as DiffEditError;
    expect(inpaintHint.message).toContain(`--inpaint-preset sd15-inpainting (${MODEL_PRESETS['sd15-inpainting'].repo}@onnx)`);
  });

  it('a revision without an ONNX export names them too', async () => {
    hub.commit('tiny/pytorch-only', new Map([['unet/diffusion_pytorch_model.safetensors', Buffer.from('weights')]]), 'main');
    const notOnnx = await rejection(downloadModel({ endpoint: hub.endpoint, repo: 'tiny/pytorch-only', revision: 'main', outDir: await freshOut() }));

    const hint = withPresetHint(notOnnx, 'standard', { repo: 'tiny/pytorch-only', revision: 'main' }) as DiffEditError;
    expect(hint.message).toMatch(/is not a Stable Diffusion ONNX export: .* Known sources: --preset sd15 \(/);
  });

  it('other failures keep their message', async () => {
    hub.behaviour.status = 401;
    const refused = await rejection(downloadModel({ endpoint: hub.endpoint, repo: 'nobody/nothing', revision: 'onnx', outDir: await freshOut() }));
    expect(withPresetHint(refused, 'standard', { repo: 'nobody/nothing', revision: 'onnx' })).toBe(refused);
  });

  it('refuses an unknown name or a preset of the other use, listing the right ones', () => {
    expect(() => findPreset('sd99', 'standard', '--preset')).toThrow('--preset "sd99" is not a preset; use one of sd15, sd15-community, sdxl.');
    expect(() => findPreset('sd15-inpainting', 'standard', '--preset')).toThrow(/is an inpainting preset; use one of sd15, sd15-community, sdxl/);
    expect(() => findPreset('sd15', 'inpainting', '--inpaint-preset')).toThrow(/is a standard preset; use one of sd15-inpainting/);
    expect(errorCode(() => findPreset('sd99', 'standard', '--preset'))).toBe(ErrorCode.InvalidOption);
  });

  it('MODELS_PRESET takes a standard preset and MODELS_INPAINT_PRESET an inpainting one', () => {
    const good = new EnvReader({ MODELS_PRESET: 'sd15-community', MODELS_INPAINT_PRESET: 'sd15-inpainting', MODELS_MIN_RATE_WINDOW_S: '0.5' });
    expect(readHubConfig(good)).toMatchObject({ preset: 'sd15-community', inpaintPreset: 'sd15-inpainting', minRate: { windowMs: 500 } });
    expect(good.problems).toEqual([]);

    const swapped = new EnvReader({ MODELS_PRESET: 'sd15-inpainting', MODELS_INPAINT_PRESET: 'sd15' });
    readHubConfig(swapped);
    expect(swapped.problems.map((p) => p.variable)).toEqual(['MODELS_PRESET', 'MODELS_INPAINT_PRESET']);
  });
});

/**
 * Quiet provider probing: the reason picked out of onnxruntime's and the drivers' noise, the real verdicts on
 * this machine, and a CLI run on a CPU-only machine whose stderr holds only the engine's own JSON lines.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { failureReason, probeProviders } from '../../../src/engine/models/provider-probe.js';
import { tinyModelDir } from '../tiny-engine.js';

const ORT_CUDA_ERROR =
  '\u001b[1;31m2026-11-25 14:00:00.000 [E:onnxruntime:, provider_bridge_ort.cc:2167 TryGetProviderInfo_CUDA] ' +
  '/onnxruntime/core/session/provider_bridge_ort.cc:1778 onnxruntime::Provider& onnxruntime::ProviderLibrary::Get() ' +
  '[ONNXRuntimeError] : 1 : FAIL : Failed to load library libonnxruntime_providers_shared.so with error: ' +
  'libonnxruntime_providers_shared.so: cannot open shared object file: No such file or directory\u001b[m';

describe('failureReason', () => {
  const CASES: [string, string, string, string][] = [
    ['the missing library named in onnxruntime’s red line', 'Failed to create CUDA execution provider', ORT_CUDA_ERROR, 'libonnxruntime_providers_shared.so: cannot open shared object file: No such file or directory'],
    ['a missing CUDA 12 library', 'error', 'libcublasLt.so.12: cannot open shared object file: No such file or directory', 'libcublasLt.so.12: cannot open shared object file: No such file or directory'],
    ['no GPU adapter', 'Failed to get a WebGPU adapter', 'error: XDG_RUNTIME_DIR is invalid or not set in the environment.\nNo suitable adapter found', 'No suitable adapter found'],
    ['only XDG_RUNTIME_DIR', 'something failed', 'error: XDG_RUNTIME_DIR is invalid or not set in the environment.', 'XDG_RUNTIME_DIR is invalid or not set in the environment.'],
    ['nothing on stderr: onnxruntime’s first line', 'first line\nsecond line', '', 'first line'],
  ];
  it.each(CASES)('%s', (_name, error, stderr, expected) => {
    expect(failureReason(error, stderr)).toBe(expected);
  });
});

describe('probeProviders on this machine', () => {
  it('finds the CPU EP, and says why CUDA is not usable without a CUDA install', async () => {
    const results = await probeProviders(['cuda', 'cpu']);
    expect(results.find((r) => r.provider === 'cpu')).toEqual({ provider: 'cpu', available: true, reason: '' });
    const cuda = results.find((r) => r.provider === 'cuda');
    // This machine has no CUDA: if one ever does, the probe must say available with no reason.
    expect(cuda?.available === true ? cuda.reason : cuda?.reason.length).toBeTruthy();
  });
});

describe('a CLI run with the default provider order on a CPU-only machine', () => {
  it('writes only JSON log lines on stderr: no onnxruntime, Dawn or Vulkan noise', async () => {
    const root = path.resolve(import.meta.dirname, '../../..');
    const cwd = await mkdtemp(path.join(os.tmpdir(), 'diffedit-quiet-'));
    const image = path.join(cwd, 'in.png');
    await writeFile(image, await sharp({ create: { width: 128, height: 128, channels: 3, background: '#8040c0' } }).png().toBuffer());
    const args = [path.join(root, 'src/cli/diffedit.ts'), '--image', image, '--ref', 'a cat', '--query', 'a dog', '--steps', '5', '--draws', '2', '--mask-only'];
    const env = { PATH: process.env['PATH'] ?? '', MODEL_DIR: await tinyModelDir(), MODEL_SIZE: '128', LOG_LEVEL: 'info' };
    const { stdout, stderr } = await promisify(execFile)(path.join(root, 'node_modules/.bin/tsx'), args, { cwd, env });
    expect(JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}')).toMatchObject({ provider: 'cpu' });
    const lines = stderr.split('\n').filter((l) => l.trim() !== '');
    for (const line of lines) expect(() => JSON.parse(line) as unknown, line).not.toThrow();
    expect(stderr.includes('\u001b['), 'ANSI colour codes on stderr').toBe(false);
    const providerLines = lines.map((l) => JSON.parse(l) as { msg: string }).filter((l) => l.msg.startsWith('provider '));
    expect(providerLines.map((l) => l.msg.split(':')[0])).toEqual(['provider cuda', 'provider webgpu']);
  });
});

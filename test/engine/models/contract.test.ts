import { describe, expect, it } from 'vitest';
import {
  readTextEncoderContract,
  readUnetContract,
  readVaeDecoderContract,
  readVaeEncoderContract,
  type ModelSignature,
  type TensorInfo,
} from '../../../src/engine/models/contract.js';
import { isDiffEditError } from '../../../src/errors.js';

const t = (name: string, type: string, shape: (number | string)[]): TensorInfo => ({ name, type, shape });
const sig = (inputs: TensorInfo[], outputs: TensorInfo[]): ModelSignature => ({ file: 'm/unet/model.onnx', inputs, outputs });

function unet(opts: { channels?: number; timestep?: TensorInfo; float?: string }): ModelSignature {
  const fl = opts.float ?? 'float32';
  return sig(
    [
      t('sample', fl, ['batch', opts.channels ?? 4, 'height', 'width']),
      opts.timestep ?? t('timestep', 'float32', []),
      t('encoder_hidden_states', fl, ['batch', 'sequence', 768]),
    ],
    [t('out_sample', fl, ['batch', 4, 'height', 'width'])],
  );
}

function expectMismatch(fn: () => unknown, message: RegExp): void {
  try {
    fn();
    expect.unreachable('should have thrown');
  } catch (error) {
    expect(isDiffEditError(error, 'ModelContractMismatch')).toBe(true);
    expect((error as Error).message).toMatch(/m\/unet\/model\.onnx/);
    expect((error as Error).message).toMatch(message);
  }
}

describe('UNet contract', () => {
  it.each([
    ['optimum >= 1.24: float32 scalar', t('timestep', 'float32', []), { type: 'float32', rank: 0 }],
    ['older optimum: int64 [batch]', t('timestep', 'int64', ['batch']), { type: 'int64', rank: 1 }],
    ['fp16 export: float16 [1]', t('timestep', 'float16', [1]), { type: 'float16', rank: 1 }],
    ['float32 [batch]', t('timestep', 'float32', ['batch']), { type: 'float32', rank: 1 }],
  ])('reads the timestep of %s', (_name, timestep, expected) => {
    expect(readUnetContract(unet({ timestep }), 'standard').timestep).toMatchObject(expected);
  });

  it.each([['float32'], ['float16']])('reads %s sample/hidden/output types', (float) => {
    const c = readUnetContract(unet({ float }), 'standard');
    expect([c.sample.type, c.encoderHiddenStates.type, c.output.type]).toEqual([float, float, float]);
    expect(c.inChannels).toBe(4);
  });

  it.each([
    ['standard', 4],
    ['inpainting', 9],
  ] as const)('takes a symbolic channel count (old diffusers exports) as the %s role says: %i', (role, channels) => {
    const symbolic = sig([t('sample', 'float32', ['batch', 'channels', 'height', 'width']), t('timestep', 'int64', ['batch']), t('encoder_hidden_states', 'float32', ['batch', 'sequence', 768])], [t('out_sample', 'float32', ['batch', 4, 'height', 'width'])]);
    expect(readUnetContract(symbolic, role).inChannels).toBe(channels);
  });

  it('accepts 9 channels as the inpainting UNet', () => {
    expect(readUnetContract(unet({ channels: 9 }), 'inpainting').inChannels).toBe(9);
  });

  it.each<[string, () => unknown, RegExp]>([
    ['an inpainting UNet where the standard one belongs', () => readUnetContract(unet({ channels: 9 }), 'standard'), /9 input channels.*INPAINT_MODEL_DIR/],
    ['a standard UNet as the inpainting one', () => readUnetContract(unet({}), 'inpainting'), /must have 9 input channels/],
    ['7 channels', () => readUnetContract(unet({ channels: 7 }), 'standard'), /4 \(standard\) or 9/],
    ['a double timestep', () => readUnetContract(unet({ timestep: t('timestep', 'double', []) }), 'standard'), /"timestep".*found "timestep" double/],
    ['a rank-2 timestep', () => readUnetContract(unet({ timestep: t('timestep', 'int64', [1, 1]) }), 'standard'), /rank 0 or 1/],
    ['no timestep', () => readUnetContract(sig([t('sample', 'float32', [1, 4, 64, 64])], []), 'standard'), /"timestep"/],
    ['an int sample', () => readUnetContract(unet({ float: 'int32' }), 'standard'), /"sample".*float32 or float16/],
  ])('refuses %s with one clear error naming the file', (_name, fn, message) => {
    expectMismatch(fn, message);
  });
});

describe('text encoder contract', () => {
  it.each([['int64'], ['int32']])('reads input_ids as %s', (type) => {
    const c = readTextEncoderContract(
      sig([t('input_ids', type, ['batch', 'sequence'])], [t('last_hidden_state', 'float32', ['batch', 'sequence', 768]), t('pooler_output', 'float32', ['batch', 768])]),
    );
    expect(c.inputIds.type).toBe(type);
    expect(c.hiddenSize).toBe(768);
  });
  it('refuses float input_ids', () => {
    expectMismatch(() => readTextEncoderContract(sig([t('input_ids', 'float32', [1, 77])], [])), /input_ids/);
  });
});

describe('VAE contracts', () => {
  it.each([
    ['latent_parameters', 8, 'latent_parameters'],
    ['latent_sample', 4, 'latent_sample'],
  ])('reads the encoder output %s', (name, channels, kind) => {
    const c = readVaeEncoderContract(sig([t('sample', 'float32', ['batch', 3, 'h', 'w'])], [t(name, 'float32', ['batch', channels, 'h', 'w'])]));
    expect(c.output.kind).toBe(kind);
  });
  it('refuses an encoder with neither output', () => {
    expectMismatch(
      () => readVaeEncoderContract(sig([t('sample', 'float32', [1, 3, 512, 512])], [t('latent_dist', 'float32', [1, 8, 64, 64])])),
      /latent_parameters.*latent_sample.*found "latent_dist"/,
    );
  });
  it('refuses a decoder with other than 4 latent channels', () => {
    expectMismatch(
      () => readVaeDecoderContract(sig([t('latent_sample', 'float32', ['batch', 16, 'h', 'w'])], [t('sample', 'float32', ['batch', 3, 'H', 'W'])])),
      /4 latent channels.*found "latent_sample" float32 \[batch, 16, h, w\]/,
    );
  });
  it('reads an fp16 decoder', () => {
    const c = readVaeDecoderContract(sig([t('latent_sample', 'float16', ['batch', 4, 'h', 'w'])], [t('sample', 'float16', ['batch', 3, 'H', 'W'])]));
    expect([c.input.type, c.output.type]).toEqual(['float16', 'float16']);
  });
});

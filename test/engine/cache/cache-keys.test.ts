import { describe, expect, it } from 'vitest';
import { digest, imageDigest, inversionKey, maskKey, type StageInputs } from '../../../src/engine/cache/cache-keys.js';
import { DEFAULT_PARAMETERS, type EditParameters } from '../../../src/engine/parameters.js';

const INPUTS: StageInputs = { model: 'm1', size: 512, outputSide: 2048, image: imageDigest(new Uint8Array([1, 2, 3])), ref: 'a cat', query: 'a dog' };
const PARAMETERS: EditParameters = { ...DEFAULT_PARAMETERS, seed: 1, maskSeed: 2, inversion: 'ref' };

type Change = [string, Partial<StageInputs>, Partial<EditParameters>];

/** Each row: a change of one dependency, and whether the mask key / the inversion key must change. */
const CASES: [...Change, boolean, boolean][] = [
  ['the models', { model: 'm2' }, {}, true, true],
  ['the model size', { size: 768 }, {}, true, true],
  ['the photo cap (the model picture is resized from the capped photo)', { outputSide: 1024 }, {}, true, true],
  ['the picture', { image: imageDigest(new Uint8Array([1, 2, 4])) }, {}, true, true],
  ['the ref prompt', { ref: 'a lion' }, {}, true, true],
  ['the query prompt', { query: 'a wolf' }, {}, true, false],
  ['the mask seed', {}, { maskSeed: 3 }, true, false],
  ['the mask draws', {}, { maskDraws: 4 }, true, false],
  ['the mask strength', {}, { maskStrength: 0.6 }, true, false],
  ['the thresholding', {}, { thresholding: { mode: 'zscore' } }, true, false],
  ['the dilation', {}, { dilate: 1 }, true, false],
  ['the steps (the mask has its own grid)', {}, { steps: 30 }, false, true],
  ['the strength', {}, { strength: 0.5 }, false, true],
  ['the inversion conditioning', {}, { inversion: 'uncond' }, false, true],
  ['the edit seed', {}, { seed: 9 }, false, false],
  ['the guidance', {}, { guidance: 3 }, false, false],
  ['the eta', {}, { eta: 0 }, false, false],
  ['the decoder', {}, { decoder: 'inpaint' }, false, false],
];

describe('stage cache keys', () => {
  it.each(CASES)('changing %s: mask key changes %s, inversion key changes %s', (_name, inputs, parameters, maskChanges, inversionChanges) => {
    const changedInputs = { ...INPUTS, ...inputs };
    const changedParameters: EditParameters = { ...PARAMETERS, ...parameters };
    expect(maskKey(changedInputs, changedParameters) !== maskKey(INPUTS, PARAMETERS)).toBe(maskChanges);
    expect(inversionKey(changedInputs, changedParameters) !== inversionKey(INPUTS, PARAMETERS)).toBe(inversionChanges);
  });

  it('an unconditional inversion does not read ref: its key ignores it', () => {
    const uncond: EditParameters = { ...PARAMETERS, inversion: 'uncond' };
    expect(inversionKey({ ...INPUTS, ref: 'a lion' }, uncond)).toBe(inversionKey(INPUTS, uncond));
  });

  it('the two stages never share a key, and keys are 64 hex digits (they name files)', () => {
    expect(maskKey(INPUTS, PARAMETERS)).not.toBe(inversionKey(INPUTS, PARAMETERS));
    expect(maskKey(INPUTS, PARAMETERS)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('object key order does not change a digest', () => {
    expect(digest([{ a: 1, b: { c: 2, d: 3 } }])).toBe(digest([{ b: { d: 3, c: 2 }, a: 1 }]));
  });
});

/** An edit output with every field set (both seeds, a packed mask, a full-size photo, a warning), for wire-form tests. */
import type { EditOutput } from '../../../src/bot/edit-backend.js';
import { packMask } from '../../../src/engine/diffedit/packed-mask.js';
import { DEFAULT_PARAMETERS } from '../../../src/engine/parameters.js';

const PHOTO = { data: Buffer.from([0xff, 0xd8, 0xff, 7, 0, 200]), format: 'jpeg', width: 1600, height: 1200 } as const;

export const SAMPLE_OUTPUT: EditOutput = {
  parameters: { ...DEFAULT_PARAMETERS, seed: 5, maskSeed: 6 },
  ref: 'a cat',
  query: 'a dog',
  coverage: 0.25,
  packedMask: packMask(Float32Array.of(1, 0, 0, 1), 2, 2),
  png: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 255]),
  photo: PHOTO,
  candidates: [{ seed: 5, photo: PHOTO }],
  timings: { prepare: 1, mask: 2, invert: 3, decode: 4, render: 5, output: 6, total: 21 },
  warnings: ['a warning'],
};

/** The same job with three candidates, each with its own photo, and none beside the panel. */
export const SAMPLE_CANDIDATES_OUTPUT: EditOutput = {
  ...SAMPLE_OUTPUT,
  photo: undefined,
  candidates: [5, 6, 7].map((seed) => ({ seed, photo: { ...PHOTO, data: Buffer.from([0xff, 0xd8, seed]) } })),
};

import { describe, expect, it } from 'vitest';
import { packMask } from '../../src/engine/diffedit/packed-mask.js';
import { DEFAULT_PARAMETERS } from '../../src/engine/parameters.js';
import { decodeOutcome, decodeRequest, encodeOutput, encodeRequest } from '../../src/queue/protocol.js';

/** What Redis does to a value: JSON there and back. */
const throughRedis = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

describe('the queue protocol carries the masks of "Edit with this mask"', () => {
  const mask = packMask(
    Float32Array.from({ length: 256 }, (_, i) => (i % 3 === 0 ? 1 : 0)),
    16,
    16,
  );

  it('a request with a stored mask and both seeds arrives whole', () => {
    const request = { image: new Uint8Array([1, 2, 3]), ref: 'a cat', query: 'a dog', seed: 1, maskSeed: 2, latentMask: mask };
    const decoded = decodeRequest(throughRedis(encodeRequest('slot', 'alice', request)));
    expect({ ...decoded, image: Array.from(decoded.image) }).toEqual({ ...request, image: [1, 2, 3] });
  });

  it("a result's packed mask comes back for the job store", () => {
    const output = {
      parameters: { ...DEFAULT_PARAMETERS, seed: 1, maskSeed: 2 },
      ref: 'a cat',
      query: 'a dog',
      coverage: 0.33,
      packedMask: mask,
      png: Buffer.from([9, 9]),
      timings: { prepare: 1, mask: 2, invert: 3, decode: 4, render: 5, total: 15 },
      warnings: [],
    };
    expect(decodeOutcome(throughRedis(encodeOutput(output)))).toEqual(output);
  });
});

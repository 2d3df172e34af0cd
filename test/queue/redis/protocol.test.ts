/**
 * The Redis wire format: an output goes through JSON (as BullMQ stores it) and comes back whole, the panel PNG and the
 * full-size photo byte for byte; an output without a photo stays without one; the masks of "Edit with this mask" travel
 * both ways.
 */
import { describe, expect, it } from 'vitest';
import type { EditOutput } from '../../../src/bot/edit-backend.js';
import { DEFAULT_PARAMETERS } from '../../../src/engine/parameters.js';
import { packMask } from '../../../src/engine/diffedit/packed-mask.js';
import { decodeOutcome, decodeRequest, encodeOutput, encodeRequest, type EditOutcome } from '../../../src/queue/redis/protocol.js';
import { SAMPLE_CANDIDATES_OUTPUT, SAMPLE_OUTPUT } from './sample-output.js';

const output = SAMPLE_OUTPUT;

/** Through JSON, as the job's return value is stored in Redis. */
function overTheWire(value: EditOutput): EditOutput {
  return decodeOutcome(JSON.parse(JSON.stringify(encodeOutput(value))) as EditOutcome);
}

describe('the output on the wire', () => {
  it('carries the panel and the full-size photo byte for byte, with the photo as base64', () => {
    const wire = encodeOutput(output);
    expect(wire.ok && wire.output.photo).toEqual({ data: output.photo?.data.toString('base64'), format: 'jpeg', width: 1600, height: 1200 });
    const back = overTheWire(output);
    expect(back).toEqual(output);
    expect(back.photo?.data.equals(output.photo?.data as Buffer)).toBe(true);
    expect(back.png.equals(output.png)).toBe(true);
  });

  it('several candidates travel with their seeds and photos byte for byte; one candidate is the photo', () => {
    expect(overTheWire(SAMPLE_CANDIDATES_OUTPUT)).toEqual(SAMPLE_CANDIDATES_OUTPUT);
    const wire = encodeOutput(output);
    expect(wire.ok && wire.output.candidates).toBeUndefined();
  });

  it('an output without a photo comes back without one', () => {
    const back = overTheWire({ ...output, photo: undefined });
    expect(back.photo).toBeUndefined();
    expect(back.png.equals(output.png)).toBe(true);
  });
});

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
      photo: undefined,
      candidates: [{ seed: 1, photo: undefined }],
      timings: { prepare: 1, mask: 2, invert: 3, decode: 4, render: 5, output: 0, total: 15 },
      warnings: [],
    };
    expect(decodeOutcome(throughRedis(encodeOutput(output)))).toEqual(output);
  });
});

/**
 * The Redis wire format: an output goes through JSON (as BullMQ stores it) and comes back whole, the panel PNG and the
 * full-size photo byte for byte; an output without a photo stays without one.
 */
import { describe, expect, it } from 'vitest';
import type { EditOutput } from '../../src/bot/edit-backend.js';
import { DEFAULT_PARAMETERS } from '../../src/engine/parameters.js';
import { decodeOutcome, encodeOutput, type EditOutcome } from '../../src/queue/protocol.js';

const output: EditOutput = {
  parameters: { ...DEFAULT_PARAMETERS, seed: 5 },
  ref: 'a cat',
  query: 'a dog',
  coverage: 0.25,
  png: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 255]),
  photo: { data: Buffer.from([0xff, 0xd8, 0xff, 7, 0, 200]), format: 'jpeg', width: 1600, height: 1200 },
  timings: { prepare: 1, mask: 2, invert: 3, decode: 4, render: 5, output: 6, total: 21 },
  warnings: ['a warning'],
};

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

  it('an output without a photo comes back without one', () => {
    const back = overTheWire({ ...output, photo: undefined });
    expect(back.photo).toBeUndefined();
    expect(back.png.equals(output.png)).toBe(true);
  });
});

/**
 * What the job store keeps of a result no route reached: the whole output, read back byte for byte; a bare panel PNG
 * kept by an earlier version still reads back as a panel; anything else is refused rather than posted.
 */
import { describe, expect, it } from 'vitest';
import { decodeUndelivered, encodeUndelivered } from '../../src/bot/undelivered-result.js';
import { SAMPLE_OUTPUT } from '../queue/redis/sample-output.js';

const PNG_START = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

const output = SAMPLE_OUTPUT;

describe('an undelivered result as kept', () => {
  it('is the whole output, read back equal: both pictures byte for byte, both seeds, the warnings', () => {
    const kept = encodeUndelivered(output);
    expect(kept.subarray(0, 4).equals(Buffer.from(PNG_START.slice(0, 4)))).toBe(false);
    const back = decodeUndelivered(new Uint8Array(kept));
    expect(back).toEqual({ kind: 'output', output });
    expect(back?.kind === 'output' && back.output.photo?.data.equals(output.photo?.data as Buffer)).toBe(true);
  });

  it('keeps an output without a full-size photo as such', () => {
    const back = decodeUndelivered(encodeUndelivered({ ...output, photo: undefined }));
    expect(back?.kind === 'output' && back.output.photo).toBeUndefined();
  });

  it('reads a bare panel PNG, as earlier versions kept it, as the panel alone', () => {
    const legacy = Buffer.from([...PNG_START, 0, 0, 0, 13, 73, 72, 68, 82]);
    expect(decodeUndelivered(legacy)).toEqual({ kind: 'panel', png: legacy });
  });

  it.each([
    ['empty', Buffer.alloc(0)],
    ['not JSON', Buffer.from('\u0000garbage')],
    ['JSON of something else', Buffer.from('{"hello":1}')],
    ['an error outcome', Buffer.from(JSON.stringify({ ok: false, code: 'X', message: 'm', details: {} }))],
    ['a truncated output', encodeUndelivered(output).subarray(0, 50)],
  ])('refuses %s', (_name, bytes) => {
    expect(decodeUndelivered(bytes)).toBeUndefined();
  });
});

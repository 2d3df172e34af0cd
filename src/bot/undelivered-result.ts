/**
 * The bytes the job store keeps for a result no delivery route reached. The whole output is kept, in its queue wire
 * form (JSON, the panel and full-size photo as base64), so that a late delivery posts what a live one would have:
 * both pictures, both seeds, the warnings. The stores stay opaque about these bytes.
 *
 * Bot versions before this one kept the bare panel PNG: such results are still read back, as a panel alone.
 */
import { decodeOutcome, encodeOutput, type EditOutcome } from '../queue/redis/protocol.js';
import type { EditOutput } from './edit-backend.js';

/** A kept result read back: the whole output, or the panel alone as kept by earlier versions. */
export type KeptResult = { readonly kind: 'output'; readonly output: EditOutput } | { readonly kind: 'panel'; readonly png: Buffer };

/** The first bytes of every PNG file; JSON never starts with them. */
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** The bytes to keep for an undelivered output. */
export function encodeUndelivered(output: EditOutput): Buffer {
  return Buffer.from(JSON.stringify(encodeOutput(output)));
}

/** The kept result, or undefined when the bytes are neither form (corrupt). */
export function decodeUndelivered(bytes: Uint8Array): KeptResult | undefined {
  const data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (data.subarray(0, PNG_SIGNATURE.length).equals(PNG_SIGNATURE)) return { kind: 'panel', png: data };
  try {
    const outcome = JSON.parse(data.toString('utf8')) as EditOutcome;
    if (outcome.ok !== true || typeof outcome.output.png !== 'string') return undefined;
    return { kind: 'output', output: decodeOutcome(outcome) };
  } catch {
    return undefined;
  }
}

/**
 * A latent mask in a compact, JSON-safe form: what a /mask job keeps in the job store and what "Edit with this
 * mask" hands back to the engine (through Redis too), so that the edit uses exactly that mask. One bit per latent
 * cell: a 64 x 64 mask is 512 bytes, 684 characters of base64.
 */

/** A 0/1 latent mask, packed. */
export interface PackedMask {
  /** Latent cells per row. */
  readonly width: number;
  /** Latent rows. */
  readonly height: number;
  /** One bit per cell, row-major, most significant bit first, base64. */
  readonly bits: string;
}

/** Packs a latent mask of `width` x `height` cells; a cell counts as set above 0.5. */
export function packMask(mask: ArrayLike<number>, width: number, height: number): PackedMask {
  if (mask.length !== width * height) throw new RangeError(`mask has ${mask.length} cells, expected ${width} x ${height}`);
  const bytes = new Uint8Array(Math.ceil(mask.length / 8));
  for (let i = 0; i < mask.length; i++) if ((mask[i] as number) > 0.5) bytes[i >> 3] = (bytes[i >> 3] as number) | (0x80 >> (i & 7));
  return { width, height, bits: Buffer.from(bytes).toString('base64') };
}

/** The 0/1 cells of a packed mask; undefined when it is malformed (wrong length, not base64, bad sizes). */
export function unpackMask(packed: PackedMask): Float32Array | undefined {
  const { width, height, bits } = packed;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) return undefined;
  if (typeof bits !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(bits)) return undefined;
  const bytes = Buffer.from(bits, 'base64');
  const cells = width * height;
  if (bytes.length !== Math.ceil(cells / 8)) return undefined;
  const mask = new Float32Array(cells);
  for (let i = 0; i < cells; i++) mask[i] = ((bytes[i >> 3] as number) >> (7 - (i & 7))) & 1;
  return mask;
}

/** True when `value` has the shape of a {@link PackedMask} (stored JSON is checked before use). */
export function isPackedMask(value: unknown): value is PackedMask {
  if (typeof value !== 'object' || value === null) return false;
  const { width, height, bits } = value as Record<string, unknown>;
  return typeof width === 'number' && typeof height === 'number' && typeof bits === 'string';
}

/**
 * Where `npm run optimize` puts an export's optimised copy and the record it leaves there, shared by the
 * optimiser (which writes them) and the engine (which prefers the copy when it is complete and still matches
 * the export it was made from).
 */

/** The copy's folder inside the export, by default. */
export const OPTIMIZED_SUBDIR = 'optimized';

/** Written last, so a copy without it is incomplete. */
export const RECORD_FILE = 'optimized.json';

/** A source model file as it was when the copy was made: a re-downloaded export no longer matches. */
export interface SourceStamp {
  readonly size: number;
  readonly mtimeMs: number;
}

/** The contents of optimized.json. */
export interface OptimizedRecord {
  readonly version: 1;
  /** The export the copy was made from (absolute). */
  readonly source: string;
  readonly createdAt: string;
  readonly fp16: boolean;
  /** Per model part (unet, vae_encoder, ...): the source file's stamp and what was done. */
  readonly parts: Readonly<Record<string, { readonly source: SourceStamp; readonly summary: string }>>;
}

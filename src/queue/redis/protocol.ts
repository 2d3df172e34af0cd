/**
 * What travels through Redis between bot processes and GPU workers (QUEUE_BACKEND=redis): the request with the
 * picture inline (base64), and back an outcome, either the output with its PNG and full-size photo (base64) or the
 * typed error the user reads.
 * Errors travel as outcomes, not as failed jobs, so a DiffEditError keeps its code and message across processes and
 * BullMQ never retries an edit that failed for a reason of its own.
 */
import type { Progress } from '../../engine/diffedit/progress.js';
import type { Candidate, EditRequest } from '../../engine/engine.js';
import type { EncodedPhoto } from '../../engine/image/index.js';
import { DiffEditError, ErrorCode, isDiffEditError } from '../../errors.js';
import type { EditOutput } from '../../bot/edit-backend.js';

/** The BullMQ queue both sides use. */
export const EDIT_QUEUE = 'diffedit-edits';

/** Where our own keys (the caps) live, beside BullMQ's `bull:` ones. */
export const KEY_PREFIX = 'diffedit:';

/** One job's data. */
export interface EditJobData {
  /** The reservation the job holds in the caps: the worker gives it back when the job starts. */
  readonly slotId: string;
  readonly userId: string;
  /** The request without its picture, as JSON. */
  readonly request: Omit<EditRequest, 'image'>;
  /** The picture, base64. */
  readonly image: string;
}

/** The full-size photo on the wire: its bytes as base64. */
export type WirePhoto = Omit<EncodedPhoto, 'data'> & { readonly data: string };

/** A candidate on the wire: its photo as {@link WirePhoto} (absent when it has none). */
export interface WireCandidate {
  readonly seed: number;
  readonly photo?: WirePhoto;
}

/**
 * An output on the wire: the PNG as base64, the photo as {@link WirePhoto} (absent when the result has none), and
 * the candidates only when there are several (one candidate's photo is the photo).
 */
export type WireOutput = Omit<EditOutput, 'png' | 'photo' | 'candidates'> & {
  readonly png: string;
  readonly photo?: WirePhoto;
  readonly candidates?: readonly WireCandidate[];
};

/** A job's return value. */
export type EditOutcome =
  | { readonly ok: true; readonly output: WireOutput }
  | { readonly ok: false; readonly code: ErrorCode; readonly message: string; readonly details: Record<string, unknown> };

/** What a worker reports through job.updateProgress. */
export type EditProgress = Progress;

export function encodeRequest(slotId: string, userId: string, request: EditRequest): EditJobData {
  const { image, ...rest } = request;
  return { slotId, userId, request: rest, image: Buffer.from(image.buffer, image.byteOffset, image.byteLength).toString('base64') };
}

export function decodeRequest(data: EditJobData): EditRequest {
  return { ...data.request, image: Buffer.from(data.image, 'base64') };
}

/** A photo as it travels and is stored: its bytes as base64. */
export function wirePhoto(photo: EncodedPhoto): WirePhoto {
  return { ...photo, data: photo.data.toString('base64') };
}

/** A photo back from the wire. */
export function photoFromWire(photo: WirePhoto): EncodedPhoto {
  return { ...photo, data: Buffer.from(photo.data, 'base64') };
}

/** A candidate as it travels and is stored. */
export function wireCandidate(candidate: Candidate): WireCandidate {
  return { seed: candidate.seed, ...(candidate.photo !== undefined ? { photo: wirePhoto(candidate.photo) } : {}) };
}

export function encodeOutput(output: EditOutput): EditOutcome {
  const { parameters, ref, query, coverage, packedMask, timings, warnings, png, photo, candidates } = output;
  return {
    ok: true,
    output: {
      parameters,
      ref,
      query,
      coverage,
      packedMask,
      timings,
      warnings,
      png: png.toString('base64'),
      ...(photo !== undefined ? { photo: wirePhoto(photo) } : {}),
      ...(candidates.length > 1 ? { candidates: candidates.map(wireCandidate) } : {}),
    },
  };
}

/** A DiffEditError travels whole; anything else is a bug the worker logged, told as a plain error. */
export function encodeError(error: unknown): EditOutcome {
  if (isDiffEditError(error)) return { ok: false, code: error.code, message: error.message, details: { ...error.details } };
  throw error;
}

/** The output, or throws the error the worker sent. */
export function decodeOutcome(outcome: EditOutcome): EditOutput {
  if (!outcome.ok) throw new DiffEditError(outcome.code, outcome.message, outcome.details);
  const { png, photo, candidates, ...rest } = outcome.output;
  const decodedPhoto = photo === undefined ? undefined : photoFromWire(photo);
  return {
    ...rest,
    png: Buffer.from(png, 'base64'),
    photo: decodedPhoto,
    // One candidate (or an output from before candidates): the job's own seed and photo.
    candidates:
      candidates === undefined
        ? [{ seed: rest.parameters.seed, photo: decodedPhoto }]
        : candidates.map((c) => ({ seed: c.seed, photo: c.photo === undefined ? undefined : photoFromWire(c.photo) })),
  };
}

/** A progress report, or undefined for anything else (BullMQ progress may be any JSON). */
export function asProgress(value: unknown): EditProgress | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { phase, step, total } = value as Record<string, unknown>;
  if (typeof phase !== 'string' || typeof step !== 'number' || typeof total !== 'number') return undefined;
  return { phase: phase as EditProgress['phase'], step, total };
}

/** Too large to send inline: refused before it is queued. */
export function checkInlineSize(bytes: number, maxBytes: number): void {
  if (bytes > maxBytes) {
    throw new DiffEditError(
      ErrorCode.ImageTooLarge,
      `This picture is too large for the queue (${(bytes / 2 ** 20).toFixed(1)} MiB, at most ${(maxBytes / 2 ** 20).toFixed(1)} MiB); send a smaller one.`,
      { bytes, maxBytes },
    );
  }
}

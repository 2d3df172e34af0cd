/**
 * What travels through Redis between bot processes and GPU workers (QUEUE_BACKEND=redis): the request with the
 * picture inline (base64), and back an outcome, either the output with its PNG and full-size photo (base64) or the
 * typed error the user reads.
 * Errors travel as outcomes, not as failed jobs, so a DiffEditError keeps its code and message across processes and
 * BullMQ never retries an edit that failed for a reason of its own.
 */
import type { Progress } from '../../engine/diffedit/progress.js';
import type { EditRequest } from '../../engine/engine.js';
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

/** An output on the wire: the PNG as base64, the photo as {@link WirePhoto} (absent when the result has none). */
export type WireOutput = Omit<EditOutput, 'png' | 'photo'> & { readonly png: string; readonly photo?: WirePhoto };

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

export function encodeOutput(output: EditOutput): EditOutcome {
  const { parameters, ref, query, coverage, packedMask, timings, warnings, png, photo } = output;
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
      ...(photo !== undefined ? { photo: { ...photo, data: photo.data.toString('base64') } } : {}),
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
  const { png, photo, ...rest } = outcome.output;
  return {
    ...rest,
    png: Buffer.from(png, 'base64'),
    photo: photo === undefined ? undefined : { ...photo, data: Buffer.from(photo.data, 'base64') },
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

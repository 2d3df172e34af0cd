/**
 * The candidates of a job of several, as the job store keeps them for "Use k": each one's edit seed and full-size
 * photo (base64, as on the queue's wire), so that a click after a restart posts exactly the photo that was made.
 */
import { wireCandidate, type WireCandidate } from '../queue/redis/protocol.js';
import type { Candidate } from '../engine/engine.js';

/** A kept candidate. */
export type StoredCandidate = WireCandidate;

/** What the store keeps of a candidate. */
export function storedCandidate(candidate: Candidate): StoredCandidate {
  return wireCandidate(candidate);
}

/** True when `value` is a list of kept candidates (stored JSON is checked before use). */
export function isStoredCandidates(value: unknown): value is readonly StoredCandidate[] {
  return (
    Array.isArray(value) &&
    value.every((item: unknown) => {
      if (typeof item !== 'object' || item === null) return false;
      const { seed, photo } = item as Record<string, unknown>;
      return (
        typeof seed === 'number' &&
        (photo === undefined || (typeof photo === 'object' && photo !== null && typeof (photo as { data?: unknown }).data === 'string'))
      );
    })
  );
}

/**
 * The slowest transfer worth waiting for. undici's idle timeout only catches a transfer that stops; one that
 * trickles a byte a second never ends. Averaged over a window, a rate below the minimum fails the attempt with
 * a retryable error: the retry resumes from the partial file, often on a faster connection or CDN node.
 */
import { HUB_DEFAULTS, type MinRate } from '../../config/hub.js';
import { DiffEditError, ErrorCode } from '../../errors.js';
import { formatBytes } from '../../util/format.js';

// Declared beside its settings (config/hub.ts), which this file reads: one way, no import circle.
export type { MinRate } from '../../config/hub.js';

/** The default from HUB_DEFAULTS. */
export const DEFAULT_MIN_RATE: MinRate = {
  bytesPerSecond: HUB_DEFAULTS.MODELS_MIN_RATE_BYTES_PER_S,
  windowMs: HUB_DEFAULTS.MODELS_MIN_RATE_WINDOW_S * 1000,
};

// The settings that set it, named in the error (typed so a rename cannot leave the message behind).
const RATE_SETTING: keyof typeof HUB_DEFAULTS = 'MODELS_MIN_RATE_BYTES_PER_S';
const WINDOW_SETTING: keyof typeof HUB_DEFAULTS = 'MODELS_MIN_RATE_WINDOW_S';

// Checks per window: the failure comes between one window and 1.25 windows after the rate drops.
const CHECKS_PER_WINDOW = 4;

/** A response body: iterable, and destroyable with an error the iteration then throws. */
export interface Body extends AsyncIterable<Uint8Array> {
  destroy(error?: Error): unknown;
}

/** Yields `body`'s chunks; destroys it with a too-slow error when the average rate over a window falls below `minRate`. */
export async function* enforceMinRate(
  body: Body,
  minRate: MinRate,
  file: string,
  now: () => number = () => performance.now(),
): AsyncGenerator<Uint8Array, void, undefined> {
  if (minRate.bytesPerSecond <= 0) {
    yield* body;
    return;
  }
  let received = 0;
  const samples = [{ t: now(), bytes: 0 }];
  const timer = setInterval(
    () => {
      const t = now();
      samples.push({ t, bytes: received });
      // Keep the newest sample that is at least a window old: the rate since it covers one whole window.
      while (samples.length > 1 && t - (samples[1] as { t: number }).t >= minRate.windowMs) samples.shift();
      const base = samples[0] as { t: number; bytes: number };
      if (t - base.t < minRate.windowMs) return;
      const rate = ((received - base.bytes) * 1000) / (t - base.t);
      if (rate < minRate.bytesPerSecond) body.destroy(tooSlow(file, rate, minRate));
    },
    Math.max(10, minRate.windowMs / CHECKS_PER_WINDOW),
  );
  timer.unref();
  try {
    for await (const chunk of body) {
      received += chunk.byteLength;
      yield chunk;
    }
  } finally {
    clearInterval(timer);
  }
}

function tooSlow(file: string, rate: number, minRate: MinRate): DiffEditError {
  const seconds = minRate.windowMs / 1000;
  return new DiffEditError(
    ErrorCode.DownloadFailed,
    `The transfer of ${file} ran at ${formatBytes(Math.floor(rate))}/s over ${seconds} s, below the minimum of ` +
      `${formatBytes(minRate.bytesPerSecond)}/s (${RATE_SETTING}=${minRate.bytesPerSecond}, over ${WINDOW_SETTING}=${seconds}). ` +
      'Run again to resume where it stopped, or lower the minimum for a slow connection.',
    { file, rate, minBytesPerSecond: minRate.bytesPerSecond, windowMs: minRate.windowMs, reason: 'too-slow', retryable: true },
  );
}

/** `npm run models`' settings from the environment: where the hub is, the token, what to fetch and where it goes. */
import { DEFAULT_ENDPOINT } from '../download/hub/url.js';
import { presetNames, type PresetName } from '../download/presets.js';
import type { LogLevel } from '../logger.js';
import { readLogLevel } from './engine.js';
import type { EnvReader } from './env.js';

/** Every hub setting that has a default, by variable name. */
export const HUB_DEFAULTS = {
  HF_ENDPOINT: DEFAULT_ENDPOINT,
  MODELS_PRESET: 'sd15',
  MODELS_INPAINT_PRESET: 'sd15-inpainting',
  // A transfer slower than 10 KiB/s for a whole minute is stuck, not slow: retried (resuming), then failed.
  MODELS_MIN_RATE_BYTES_PER_S: 10_240,
  MODELS_MIN_RATE_WINDOW_S: 60,
} as const satisfies Record<string, string | number>;

/** Fewer than `bytesPerSecond` on average over `windowMs` fails a transfer; 0 turns the check off. */
export interface MinRate {
  readonly bytesPerSecond: number;
  readonly windowMs: number;
}

/** Hub settings. */
export interface HubConfig {
  /** HF_TOKEN: read token for gated or private repositories; sent to the hub only, never to its CDN. */
  readonly token: string | undefined;
  /** HF_ENDPOINT: the hub (a mirror, or a local one in tests). */
  readonly endpoint: string;
  /** MODELS_PRESET: the source of the standard models when --preset and --repo are not given. */
  readonly preset: PresetName;
  /** MODELS_INPAINT_PRESET: the source of the inpainting UNet when --inpaint-preset and --inpaint-repo are not given. */
  readonly inpaintPreset: PresetName;
  /** MODELS_MIN_RATE_BYTES_PER_S over MODELS_MIN_RATE_WINDOW_S: slower transfers are retried, then fail. */
  readonly minRate: MinRate;
  /** MODEL_DIR as set (undefined when unset: the tool then suggests setting it). */
  readonly modelDir: string | undefined;
  /** INPAINT_MODEL_DIR as set. */
  readonly inpaintModelDir: string | undefined;
  /** LOG_LEVEL; progress lines already say what happens, so the tool logs warnings only when it is unset. */
  readonly logLevel: LogLevel;
}

/** Reads the hub settings; problems are collected in `env`. */
export function readHubConfig(env: EnvReader): HubConfig {
  const endpoint = env.string('HF_ENDPOINT') ?? HUB_DEFAULTS.HF_ENDPOINT;
  if (!/^https?:\/\/[^/]+/.test(endpoint)) env.problems.push({ variable: 'HF_ENDPOINT', message: `"${endpoint}" is not an http(s) URL` });
  return {
    token: env.string('HF_TOKEN'),
    endpoint,
    preset: env.oneOf('MODELS_PRESET', presetNames('standard'), HUB_DEFAULTS.MODELS_PRESET),
    inpaintPreset: env.oneOf('MODELS_INPAINT_PRESET', presetNames('inpainting'), HUB_DEFAULTS.MODELS_INPAINT_PRESET),
    minRate: {
      bytesPerSecond: env.number('MODELS_MIN_RATE_BYTES_PER_S', HUB_DEFAULTS.MODELS_MIN_RATE_BYTES_PER_S, { min: 0, max: 1e12, integer: true }),
      windowMs: env.number('MODELS_MIN_RATE_WINDOW_S', HUB_DEFAULTS.MODELS_MIN_RATE_WINDOW_S, { min: 0.1, max: 86_400 }) * 1000,
    },
    modelDir: env.string('MODEL_DIR'),
    inpaintModelDir: env.string('INPAINT_MODEL_DIR'),
    logLevel: env.string('LOG_LEVEL') === undefined ? 'warn' : readLogLevel(env),
  };
}

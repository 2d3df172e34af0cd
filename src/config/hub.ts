/** `npm run models`' settings from the environment: where the hub is, the token, and where models go. */
import { DEFAULT_ENDPOINT } from '../download/hub/url.js';
import type { LogLevel } from '../logger.js';
import { readLogLevel } from './engine.js';
import type { EnvReader } from './env.js';

/** Every hub setting that has a default, by variable name. */
export const HUB_DEFAULTS = {
  HF_ENDPOINT: DEFAULT_ENDPOINT,
} as const satisfies Record<string, string | number>;

/** Hub settings. */
export interface HubConfig {
  /** HF_TOKEN: read token for gated or private repositories; sent to the hub only, never to its CDN. */
  readonly token: string | undefined;
  /** HF_ENDPOINT: the hub (a mirror, or a local one in tests). */
  readonly endpoint: string;
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
    modelDir: env.string('MODEL_DIR'),
    inpaintModelDir: env.string('INPAINT_MODEL_DIR'),
    logLevel: env.string('LOG_LEVEL') === undefined ? 'warn' : readLogLevel(env),
  };
}

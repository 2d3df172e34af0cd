/**
 * The bot's settings from the environment. Every variable is documented in .env.example.
 */
import path from 'node:path';
import { DEFAULT_ATTACHMENT_HOSTS } from '../bot/attachments.js';
import type { EnvReader } from './env.js';

const MIB = 1024 * 1024;

/** Bot settings. */
export interface BotConfig {
  /** DISCORD_TOKEN: the bot token (required to start). */
  readonly token: string | undefined;
  /** DISCORD_API_URL: REST base override (tests point it at a local fake Discord); Discord's own when unset. */
  readonly apiUrl: string | undefined;
  /** DATA_DIR: where jobs (parameters and input pictures) are kept for the buttons. */
  readonly dataDir: string;
  /** JOB_STORE_MAX_MB: size cap of DATA_DIR's job store; least recently used jobs go first. */
  readonly jobStoreMaxBytes: number;
  /** MAX_UPLOAD_MB: largest attachment accepted (never above the interaction's own upload limit). */
  readonly maxUploadBytes: number;
  /** MAX_INPUT_MEGAPIXELS: largest declared picture size. */
  readonly maxInputPixels: number;
  /** DOWNLOAD_TIMEOUT_MS: deadline for downloading one attachment. */
  readonly downloadTimeoutMs: number;
  /** Discord's CDN hosts plus EXTRA_ATTACHMENT_HOSTS. */
  readonly attachmentHosts: readonly string[];
  /** QUEUE_PER_USER: waiting jobs one user may have. */
  readonly perUserQueueLimit: number;
  /** QUEUE_MAX: waiting jobs in all. */
  readonly queueLimit: number;
  /** PROGRESS_INTERVAL_MS: least time between two progress edits of a message. */
  readonly progressIntervalMs: number;
  /** SHUTDOWN_GRACE_MS: how long SIGINT/SIGTERM waits for the running job before cancelling it. */
  readonly shutdownGraceMs: number;
}

/** Reads the bot settings; problems are collected in `env`. */
export function readBotConfig(env: EnvReader): BotConfig {
  const extraHosts = (env.string('EXTRA_ATTACHMENT_HOSTS') ?? '')
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter((h) => h !== '');
  const apiUrl = env.string('DISCORD_API_URL');
  if (apiUrl !== undefined && !/^https?:\/\/[^/]+/.test(apiUrl)) {
    env.problems.push({ variable: 'DISCORD_API_URL', message: `"${apiUrl}" is not an http(s) URL` });
  }
  return {
    token: env.string('DISCORD_TOKEN'),
    apiUrl,
    dataDir: path.resolve(env.string('DATA_DIR') ?? 'data'),
    jobStoreMaxBytes: env.number('JOB_STORE_MAX_MB', 512, { min: 1, max: 1024 * 1024 }) * MIB,
    maxUploadBytes: env.number('MAX_UPLOAD_MB', 10, { min: 0.01, max: 500 }) * MIB,
    maxInputPixels: env.number('MAX_INPUT_MEGAPIXELS', 50, { min: 0.01, max: 1000 }) * 1_000_000,
    downloadTimeoutMs: env.number('DOWNLOAD_TIMEOUT_MS', 30_000, { min: 100, max: 600_000, integer: true }),
    attachmentHosts: [...DEFAULT_ATTACHMENT_HOSTS, ...extraHosts],
    perUserQueueLimit: env.number('QUEUE_PER_USER', 2, { min: 1, max: 100, integer: true }),
    queueLimit: env.number('QUEUE_MAX', 20, { min: 1, max: 10_000, integer: true }),
    progressIntervalMs: env.number('PROGRESS_INTERVAL_MS', 2000, { min: 0, max: 60_000, integer: true }),
    shutdownGraceMs: env.number('SHUTDOWN_GRACE_MS', 60_000, { min: 0, max: 3_600_000, integer: true }),
  };
}

/**
 * The bot's settings from the environment. {@link BOT_DEFAULTS} is the single source of every default: the reader
 * uses it, and a test checks that .env.example and docs/settings.md say the same.
 */
import path from 'node:path';
import { DEFAULT_ATTACHMENT_HOSTS } from '../bot/attachments.js';
import { readDiscordConfig, type DiscordConfig } from './discord.js';
import type { EnvReader } from './env.js';

const MIB = 1024 * 1024;

/** Every bot setting that has a default, by variable name. */
export const BOT_DEFAULTS = {
  DATA_DIR: 'data',
  JOB_STORE_MAX_MB: 512,
  // A 512-px job's mask and inverted latents take about 2.7 MB: 256 MB keeps about 90 jobs' in memory, 2 GB about
  // 750 on disk.
  EDIT_CACHE_MEMORY_MB: 256,
  EDIT_CACHE_DISK_MB: 2048,
  MAX_UPLOAD_MB: 10,
  MAX_INPUT_MEGAPIXELS: 50,
  DOWNLOAD_TIMEOUT_MS: 30_000,
  DOWNLOAD_CONCURRENCY: 4,
  QUEUE_PER_USER: 2,
  QUEUE_MAX: 20,
  PROGRESS_INTERVAL_MS: 2000,
  // A 50-step edit takes well under a minute on a GPU and a few minutes on a fast CPU: 10 minutes only stops hangs.
  JOB_TIMEOUT_MS: 600_000,
  DELIVERY_RETRY_MS: 60_000,
  SHUTDOWN_GRACE_MS: 60_000,
  METRICS_HOST: '127.0.0.1',
  QUEUE_BACKEND: 'memory',
  REDIS_URL: 'redis://127.0.0.1:6379',
  // Pictures travel inline in the job: 10 MiB is MAX_UPLOAD_MB's default, about 13.3 MiB of Redis memory as base64.
  REDIS_MAX_PICTURE_MB: 10,
  // BullMQ's default: a killed worker's job goes to another worker within about this long.
  WORKER_LOCK_MS: 30_000,
  // QUEUE_BACKEND=redis: with QUEUE_MAX 20 jobs of under a minute each on one GPU, a real queue clears in well under
  // 15 minutes; a job still unstarted after that has no worker to run it, and its user should hear so.
  QUEUE_WAIT_MS: 900_000,
} as const satisfies Record<string, string | number>;

/** Bot settings. */
export interface BotConfig extends Omit<DiscordConfig, 'guildId'> {
  /** DATA_DIR: where jobs (parameters and input pictures) are kept for the buttons. */
  readonly dataDir: string;
  /** JOB_STORE_MAX_MB: size cap of DATA_DIR's job store; least recently used jobs go first. */
  readonly jobStoreMaxBytes: number;
  /** EDIT_CACHE_MEMORY_MB: cap of the in-memory cache of masks and inverted latents (0: off). */
  readonly editCacheMemoryBytes: number;
  /** EDIT_CACHE_DISK_MB: cap of the same cache in DATA_DIR/cache, kept across restarts (0: off). */
  readonly editCacheDiskBytes: number;
  /** MAX_UPLOAD_MB: largest attachment accepted (never above the interaction's own upload limit). */
  readonly maxUploadBytes: number;
  /** MAX_INPUT_MEGAPIXELS: largest declared picture size. */
  readonly maxInputPixels: number;
  /** DOWNLOAD_TIMEOUT_MS: deadline for downloading one attachment. */
  readonly downloadTimeoutMs: number;
  /** DOWNLOAD_CONCURRENCY: attachments downloaded at once (downloads happen outside the engine's slot). */
  readonly downloadConcurrency: number;
  /** Discord's CDN hosts plus EXTRA_ATTACHMENT_HOSTS. */
  readonly attachmentHosts: readonly string[];
  /** QUEUE_PER_USER: jobs one user may have waiting (downloading or queued). */
  readonly perUserQueueLimit: number;
  /** QUEUE_MAX: jobs waiting in all. */
  readonly queueLimit: number;
  /** PROGRESS_INTERVAL_MS: least time between two progress edits of a message. */
  readonly progressIntervalMs: number;
  /** JOB_TIMEOUT_MS: a running job is stopped after this long and the queue moves on. */
  readonly jobTimeoutMs: number;
  /** DELIVERY_RETRY_MS: how long a result delivery keeps retrying Discord's 5xx and network errors. */
  readonly deliveryRetryMs: number;
  /** SHUTDOWN_GRACE_MS: how long SIGINT/SIGTERM waits for the running job before cancelling it. */
  readonly shutdownGraceMs: number;
  /** METRICS_PORT: serve /healthz and Prometheus /metrics on this port; off when unset. */
  readonly metricsPort: number | undefined;
  /** METRICS_HOST: the address the metrics server listens on. */
  readonly metricsHost: string;
  /** QUEUE_BACKEND: memory (the engine in this process) or redis (GPU workers behind Redis, `npm run worker`). */
  readonly queueBackend: QueueBackendName;
  /** REDIS_URL: the Redis that bot processes and workers share (QUEUE_BACKEND=redis). */
  readonly redisUrl: string;
  /** REDIS_MAX_PICTURE_MB: largest picture sent inline through Redis; larger ones are refused. */
  readonly maxInlinePictureBytes: number;
  /** WORKER_LOCK_MS: a worker's lock on its job; a dead worker's job is taken again once it expires. */
  readonly workerLockMs: number;
  /** QUEUE_WAIT_MS: a job no worker has started after this long is withdrawn and its user told (QUEUE_BACKEND=redis). */
  readonly queueWaitMs: number;
}

/** Where edits run. */
export const QUEUE_BACKENDS = ['memory', 'redis'] as const;
export type QueueBackendName = (typeof QUEUE_BACKENDS)[number];

/** Reads the bot settings; problems are collected in `env`. */
export function readBotConfig(env: EnvReader): BotConfig {
  const d = BOT_DEFAULTS;
  const extraHosts = (env.string('EXTRA_ATTACHMENT_HOSTS') ?? '')
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter((h) => h !== '');
  const { token, apiUrl } = readDiscordConfig(env);
  const whole = (max: number, min = 1) => ({ min, max, integer: true });
  return {
    token,
    apiUrl,
    dataDir: path.resolve(env.string('DATA_DIR') ?? d.DATA_DIR),
    jobStoreMaxBytes: env.number('JOB_STORE_MAX_MB', d.JOB_STORE_MAX_MB, { min: 1, max: 1024 * 1024 }) * MIB,
    editCacheMemoryBytes: env.number('EDIT_CACHE_MEMORY_MB', d.EDIT_CACHE_MEMORY_MB, { min: 0, max: 1024 * 1024 }) * MIB,
    editCacheDiskBytes: env.number('EDIT_CACHE_DISK_MB', d.EDIT_CACHE_DISK_MB, { min: 0, max: 1024 * 1024 }) * MIB,
    maxUploadBytes: env.number('MAX_UPLOAD_MB', d.MAX_UPLOAD_MB, { min: 0.01, max: 500 }) * MIB,
    maxInputPixels: env.number('MAX_INPUT_MEGAPIXELS', d.MAX_INPUT_MEGAPIXELS, { min: 0.01, max: 1000 }) * 1_000_000,
    downloadTimeoutMs: env.number('DOWNLOAD_TIMEOUT_MS', d.DOWNLOAD_TIMEOUT_MS, whole(600_000, 100)),
    downloadConcurrency: env.number('DOWNLOAD_CONCURRENCY', d.DOWNLOAD_CONCURRENCY, whole(64)),
    attachmentHosts: [...DEFAULT_ATTACHMENT_HOSTS, ...extraHosts],
    perUserQueueLimit: env.number('QUEUE_PER_USER', d.QUEUE_PER_USER, whole(100)),
    queueLimit: env.number('QUEUE_MAX', d.QUEUE_MAX, whole(10_000)),
    progressIntervalMs: env.number('PROGRESS_INTERVAL_MS', d.PROGRESS_INTERVAL_MS, whole(60_000, 0)),
    jobTimeoutMs: env.number('JOB_TIMEOUT_MS', d.JOB_TIMEOUT_MS, whole(24 * 3_600_000, 1000)),
    deliveryRetryMs: env.number('DELIVERY_RETRY_MS', d.DELIVERY_RETRY_MS, whole(3_600_000, 0)),
    shutdownGraceMs: env.number('SHUTDOWN_GRACE_MS', d.SHUTDOWN_GRACE_MS, whole(3_600_000, 0)),
    metricsPort: env.string('METRICS_PORT') === undefined ? undefined : env.number('METRICS_PORT', 0, whole(65_535, 0)),
    metricsHost: env.string('METRICS_HOST') ?? d.METRICS_HOST,
    queueBackend: env.oneOf('QUEUE_BACKEND', QUEUE_BACKENDS, d.QUEUE_BACKEND),
    redisUrl: env.string('REDIS_URL') ?? d.REDIS_URL,
    maxInlinePictureBytes: env.number('REDIS_MAX_PICTURE_MB', d.REDIS_MAX_PICTURE_MB, { min: 0.01, max: 500 }) * MIB,
    workerLockMs: env.number('WORKER_LOCK_MS', d.WORKER_LOCK_MS, whole(3_600_000, 1000)),
    queueWaitMs: env.number('QUEUE_WAIT_MS', d.QUEUE_WAIT_MS, whole(24 * 3_600_000, 100)),
  };
}

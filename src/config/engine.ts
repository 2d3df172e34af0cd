/**
 * The engine's settings from the environment (MODEL_DIR, EXECUTION_PROVIDERS, ...), shared by the CLI,
 * the benchmark and the bot.
 */
import path from 'node:path';
import type { EngineOptions } from '../engine/engine.js';
import { DEFAULT_MAX_OUTPUT_SIDE, DEFAULT_MAX_RESULT_BYTES } from '../engine/image/index.js';
import type { LogLevel, Logger } from '../logger.js';
import { GRAPH_OPTIMIZATIONS, PROVIDERS, type GraphOptimization, type ProviderName } from '../engine/models/sessions.js';
import { VARIATIONS_RANGE } from '../engine/parameters.js';
import type { EnvReader } from './env.js';

const MIB = 1024 * 1024;

/** Every engine setting that has a default, by variable name (the single source: .env.example and docs/settings.md agree). */
export const ENGINE_DEFAULTS = {
  MODEL_DIR: 'models',
  EXECUTION_PROVIDERS: PROVIDERS.join(','),
  MAX_OUTPUT_SIDE: DEFAULT_MAX_OUTPUT_SIDE,
  MAX_RESULT_MB: DEFAULT_MAX_RESULT_BYTES / MIB,
  GRAPH_OPTIMIZATION: 'all',
  LOG_LEVEL: 'info',
} as const satisfies Record<string, string | number>;

const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'silent'];

/** Engine settings. */
export interface EngineConfig {
  /** Stable Diffusion v1.x ONNX export (MODEL_DIR, default ./models). */
  readonly modelDir: string;
  /** Optional inpainting export whose 9-channel UNet can decode (INPAINT_MODEL_DIR). */
  readonly inpaintModelDir: string | undefined;
  /** Execution providers in order of preference (EXECUTION_PROVIDERS, default cuda,webgpu,cpu). */
  readonly providers: readonly ProviderName[];
  /** Model resolution, the longer side (MODEL_SIZE, a multiple of 64); unset: the model's own (see EngineOptions.size). */
  readonly size: number | undefined;
  /** The full-size photo's longer side in pixels (MAX_OUTPUT_SIDE, default 2048). */
  readonly maxOutputSide: number;
  /** Bytes a result's files may take together, panel and photo (MAX_RESULT_MB, default 10: Discord's upload limit). */
  readonly maxResultBytes: number;
  /** Most UNet batch items per call (MAX_BATCH; unset: 20 on GPU providers, 2 on the CPU). */
  readonly maxBatch: number | undefined;
  /** Candidates a job decodes when the user does not say (VARIATIONS_DEFAULT, 1-4; unset: 4 on GPU providers, 1 on the CPU). */
  readonly variations: number | undefined;
  /** onnxruntime graph optimisation level (GRAPH_OPTIMIZATION, default all). */
  readonly graphOptimization: GraphOptimization;
  /** CPU threads per session (CPU_THREADS; onnxruntime picks when unset). */
  readonly cpuThreads: number | undefined;
  /** LOG_LEVEL, default info. */
  readonly logLevel: LogLevel;
}

/** Reads the engine settings; problems are collected in `env`. */
export function readEngineConfig(env: EnvReader): EngineConfig {
  const d = ENGINE_DEFAULTS;
  const size = env.string('MODEL_SIZE') === undefined ? undefined : env.number('MODEL_SIZE', 0, { min: 64, max: 2048, integer: true });
  if (size !== undefined && size % 64 !== 0) env.problems.push({ variable: 'MODEL_SIZE', message: `${size} is not a multiple of 64` });
  const threads = env.string('CPU_THREADS') === undefined ? undefined : env.number('CPU_THREADS', 0, { min: 1, max: 1024, integer: true });
  const inpaint = env.string('INPAINT_MODEL_DIR');
  return {
    modelDir: path.resolve(env.string('MODEL_DIR') ?? d.MODEL_DIR),
    inpaintModelDir: inpaint === undefined ? undefined : path.resolve(inpaint),
    providers: env.list('EXECUTION_PROVIDERS', PROVIDERS, PROVIDERS),
    size,
    maxOutputSide: env.number('MAX_OUTPUT_SIDE', d.MAX_OUTPUT_SIDE, { min: 64, max: 16_384, integer: true }),
    maxResultBytes: Math.floor(env.number('MAX_RESULT_MB', d.MAX_RESULT_MB, { min: 0.1, max: 500 }) * MIB),
    maxBatch: env.string('MAX_BATCH') === undefined ? undefined : env.number('MAX_BATCH', 20, { min: 1, max: 256, integer: true }),
    variations:
      env.string('VARIATIONS_DEFAULT') === undefined ? undefined : env.number('VARIATIONS_DEFAULT', VARIATIONS_RANGE.min, { ...VARIATIONS_RANGE }),
    graphOptimization: env.oneOf('GRAPH_OPTIMIZATION', GRAPH_OPTIMIZATIONS, d.GRAPH_OPTIMIZATION),
    cpuThreads: threads,
    logLevel: readLogLevel(env),
  };
}

/** The engine options these settings describe (the caller adds what is not an engine setting, e.g. input limits). */
export function engineOptionsFrom(config: EngineConfig, logger: Logger): EngineOptions {
  return {
    modelDir: config.modelDir,
    inpaintModelDir: config.inpaintModelDir,
    providers: config.providers,
    size: config.size,
    maxOutputSide: config.maxOutputSide,
    maxResultBytes: config.maxResultBytes,
    maxBatch: config.maxBatch,
    variations: config.variations,
    graphOptimization: config.graphOptimization,
    logger,
    ...(config.cpuThreads !== undefined ? { cpuThreads: config.cpuThreads } : {}),
  };
}

/** LOG_LEVEL alone: tools that load no engine (npm run models) log at this level too. */
export function readLogLevel(env: EnvReader): LogLevel {
  return env.oneOf('LOG_LEVEL', LOG_LEVELS, ENGINE_DEFAULTS.LOG_LEVEL);
}

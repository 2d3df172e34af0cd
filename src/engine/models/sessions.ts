/**
 * Creates onnxruntime sessions on the first execution provider that works, in the configured order, and
 * says in one log line which provider runs each model and why the earlier ones were skipped.
 */
import * as ort from 'onnxruntime-node';
import { DiffEditError, ErrorCode } from '../../errors.js';
import { silentLogger, type Logger } from '../../logger.js';
import type { ModelSignature, TensorInfo } from './contract.js';

/** Execution providers the engine knows, in the order it prefers them. */
export const PROVIDERS = ['cuda', 'webgpu', 'cpu'] as const;

/** One execution provider. */
export type ProviderName = (typeof PROVIDERS)[number];

/** onnxruntime's graph optimisation levels. */
export const GRAPH_OPTIMIZATIONS = ['disabled', 'basic', 'extended', 'all'] as const;

/** One graph optimisation level. */
export type GraphOptimization = (typeof GRAPH_OPTIMIZATIONS)[number];

/** A session with the provider it runs on and its input/output signature. */
export interface OpenedSession {
  readonly session: ort.InferenceSession;
  readonly provider: ProviderName;
  readonly signature: ModelSignature;
}

/** How to open sessions. */
export interface SessionOptions {
  /** Providers to try, in order. */
  readonly providers: readonly ProviderName[];
  /** Where the one line per model saying which provider runs it goes (default: nowhere). */
  readonly logger?: Logger | undefined;
  /** CPU threads per session; onnxruntime's default (all cores) when absent. */
  readonly cpuThreads?: number;
  /** onnxruntime's graph optimisation level (default 'all': measured 1.5x faster than 'disabled' on SD-like blocks). */
  readonly graphOptimization?: GraphOptimization;
  /**
   * Providers found unusable so far, with why: filled in by the quiet probe before loading (provider-probe.ts)
   * and by {@link openSession}, and shared across the models of one load, so an unusable provider is skipped.
   */
  readonly unavailable?: Map<ProviderName, string>;
}

/** Failures that concern the provider itself rather than this model: no library, no device. */
const PROVIDER_LEVEL_FAILURE = /shared library|load library|adapter|no cuda|cuda.*(driver|device)|vulkan|not (available|supported|compiled)/i;

/** Opens `file` on the first provider in `options.providers` that can run it. */
export async function openSession(label: string, file: string, options: SessionOptions): Promise<OpenedSession> {
  const skipped: string[] = [];
  for (const provider of options.providers) {
    const known = options.unavailable?.get(provider);
    if (known !== undefined) {
      skipped.push(`${provider}: ${known}`);
      continue;
    }
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(file, sessionOptions(provider, options));
    } catch (error) {
      const reason = firstLine(error);
      if (provider !== 'cpu' && PROVIDER_LEVEL_FAILURE.test(reason)) options.unavailable?.set(provider, reason);
      skipped.push(`${provider}: ${reason}`);
      continue;
    }
    (options.logger ?? silentLogger).info(`${label} runs on ${provider}`, {
      model: label,
      provider,
      ...(skipped.length > 0 ? { skipped } : {}),
    });
    return { session, provider, signature: signatureOf(file, session) };
  }
  const missingExternal = skipped.some((s) => /external|\.onnx_data|weights\.pb|No such file/i.test(s));
  throw new DiffEditError(
    missingExternal ? ErrorCode.ModelFileMissing : ErrorCode.ProviderUnavailable,
    `Could not load ${file} on any of ${options.providers.join(', ')}: ${skipped.join('; ')}`,
    { file, providers: [...options.providers], skipped },
  );
}

function sessionOptions(provider: ProviderName, options: SessionOptions): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: [provider],
    graphOptimizationLevel: options.graphOptimization ?? 'all',
    ...(provider === 'cpu' && options.cpuThreads !== undefined ? { intraOpNumThreads: options.cpuThreads } : {}),
    // Idle intra-op threads otherwise spin for a while after each run, stealing the cores the JS thread needs
    // for the scheduler maths between UNet calls (and each of the four sessions has its own pool).
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  };
}

/** The session's inputs and outputs as plain tensor descriptions (non-tensor values are left out). */
export function signatureOf(file: string, session: ort.InferenceSession): ModelSignature {
  const tensors = (list: readonly ort.InferenceSession.ValueMetadata[]): TensorInfo[] =>
    list.flatMap((m) => (m.isTensor ? [{ name: m.name, type: m.type, shape: [...m.shape] }] : []));
  return { file, inputs: tensors(session.inputMetadata), outputs: tensors(session.outputMetadata) };
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return (text.split('\n')[0] ?? text).slice(0, 300);
}

/**
 * Which execution providers work here, and why the others don't, found without noise: each one is tried on a
 * one-node model in a child process whose stderr is captured, so onnxruntime's red "libonnxruntime_providers_shared.so"
 * error, Dawn's XDG_RUNTIME_DIR complaint and Vulkan's warnings never reach the terminal. The reason kept is the
 * line that says what is missing.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { encodeModel, DataType } from '../../onnx/proto.js';
import type { ProviderName } from './sessions.js';

/** One provider's verdict. */
export interface ProbeResult {
  readonly provider: ProviderName;
  readonly available: boolean;
  /** Why not (empty when available). */
  readonly reason: string;
}

const CHILD = fileURLToPath(new URL('./probe-child.js', import.meta.url));
const PROBE_TIMEOUT_MS = 60_000;

/** Lines that name the cause, in the order they are preferred over onnxruntime's generic message. */
const CAUSES = [/lib[\w.-]+\.so[\w.]*: cannot open shared object file[^\n]*/i, /libcudnn[^\n]*|libcublas[^\n]*|libcudart[^\n]*/i, /no (suitable )?(gpu )?adapter[^\n]*/i, /XDG_RUNTIME_DIR[^\n]*/, /vulkan[^\n]*/i];

/** A one-node model (y = Relu(x), x float32 [2]) as base64. */
function probeModel(): string {
  const tensorType = { tensor_type: { elem_type: DataType.FLOAT, shape: { dim: [{ dim_value: 2 }] } } };
  const bytes = encodeModel({
    ir_version: 8,
    producer_name: 'diffedit-bot provider probe',
    producer_version: '1',
    graph: {
      name: 'probe',
      node: [{ name: 'relu', op_type: 'Relu', input: ['x'], output: ['y'], attribute: [] }],
      initializer: [],
      input: [{ name: 'x', type: tensorType }],
      output: [{ name: 'y', type: tensorType }],
    },
    opset_import: [{ domain: '', version: 17 }],
  });
  return Buffer.from(bytes).toString('base64');
}

/** The most telling line of a failure: a named missing library or device first, onnxruntime's message last. */
export function failureReason(error: string, stderr: string): string {
  const text = `${stderr}\n${error}`;
  for (const cause of CAUSES) {
    const found = cause.exec(text)?.[0];
    if (found !== undefined) return clean(found);
  }
  return clean(error.split('\n').find((l) => l.trim() !== '') ?? 'unknown error');
}

function clean(line: string): string {
  // Drop ANSI colours and onnxruntime's "[E:onnxruntime:..., file.cc:123 Function]" prefixes.
  return (
    line
      // eslint-disable-next-line no-control-regex -- the ESC of ANSI colour codes is exactly what this removes
      .replace(/\u001b\[[0-9;]*m/g, '')
      .replace(/^.*?\]\s*/, (prefix) => (prefix.includes('onnxruntime') ? '' : prefix))
      .trim()
      .slice(0, 240)
  );
}

/** Tries one provider quietly. The CPU EP is always there. */
export async function probeProvider(provider: ProviderName): Promise<ProbeResult> {
  if (provider === 'cpu') return { provider, available: true, reason: '' };
  return new Promise((resolve) => {
    execFile(process.execPath, [CHILD, provider, probeModel()], { timeout: PROBE_TIMEOUT_MS, maxBuffer: 1 << 20 }, (error, stdout, stderr) => {
      const line = stdout.split('\n').find((l) => l.startsWith('{'));
      const verdict = line === undefined ? undefined : (JSON.parse(line) as { ok: boolean; error?: string });
      if (verdict?.ok === true) resolve({ provider, available: true, reason: '' });
      else resolve({ provider, available: false, reason: failureReason(verdict?.error ?? error?.message ?? 'the probe gave no answer', stderr) });
    });
  });
}

/** Probes every provider in order (one child at a time: GPU drivers dislike concurrent initialisation). */
export async function probeProviders(providers: readonly ProviderName[]): Promise<ProbeResult[]> {
  const results: ProbeResult[] = [];
  for (const provider of providers) results.push(await probeProvider(provider));
  return results;
}

/**
 * `npm run optimize`: writes an optimised copy of a Stable Diffusion ONNX export in the same layout (the original
 * is only read): attention fused in the UNet and the VAE, a sampling VAE encoder made to return the mean,
 * optionally float16 compute in the UNet and the VAE.
 * The tokenizer, scheduler and config files are copied as they are; optimized.json is written last.
 */
import { copyFile, mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DiffEditError, ErrorCode } from '../errors.js';
import { readOptionalConfig } from '../engine/models/layout.js';
import { OPTIMIZED_SUBDIR, RECORD_FILE, type OptimizedRecord } from '../engine/models/optimized-copy.js';
import { optimizeModelFile, type ModelPasses, type ModelReport } from './optimize-model.js';
import { sampleToMean } from './vae-mean.js';

/**
 * The model parts, and what is done to each. The text encoder is copied as it is: its causal attention over 77
 * tokens costs nothing, and in fp16 its mask (float32's lowest value) would overflow.
 */
const PART_PASSES: Readonly<Record<string, ModelPasses>> = {
  text_encoder: { fuseAttention: false },
  text_encoder_2: { fuseAttention: false },
  unet: { fuseAttention: true },
  vae_encoder: { fuseAttention: true, rewrites: [sampleToMean] },
  vae_decoder: { fuseAttention: true },
};

/** Side files copied unchanged when present. */
const SIDE_DIRS = ['tokenizer', 'tokenizer_2', 'scheduler'];
const SIDE_FILES = ['model_index.json', ...Object.keys(PART_PASSES).map((part) => `${part}/config.json`)];

export interface OptimizeOptions {
  /** The export to read. */
  readonly modelDir: string;
  /** Where the copy goes (default `<modelDir>/optimized`, which the engine picks up by itself). */
  readonly outDir?: string | undefined;
  /** Also convert the UNet and the VAE to float16 compute (inputs and outputs stay float32). */
  readonly fp16?: boolean | undefined;
  /** One line per step (default: nowhere). */
  readonly say?: (line: string) => void;
}

export interface OptimizeResult {
  readonly outDir: string;
  readonly parts: Readonly<Record<string, ModelReport>>;
}

/** Optimises every model part found in `options.modelDir`. */
export async function optimizeExport(options: OptimizeOptions): Promise<OptimizeResult> {
  const source = path.resolve(options.modelDir);
  const outDir = path.resolve(options.outDir ?? path.join(source, OPTIMIZED_SUBDIR));
  if (outDir === source) {
    throw new DiffEditError(ErrorCode.InvalidOption, 'The optimised copy must go to another folder than the export itself.', { option: 'out' });
  }
  const say = options.say ?? (() => undefined);
  // SDXL's VAE overflows in float16 (its config says force_upcast, diffusers then decodes in float32): keep it float32.
  const vaeUpcast = (await readOptionalConfig(path.join(source, 'vae_decoder', 'config.json')))?.['force_upcast'] === true;
  if (options.fp16 === true && vaeUpcast) say('vae_encoder, vae_decoder: kept float32 (the VAE config says force_upcast)');
  const parts: Record<string, ModelReport> = {};
  const recorded: Record<string, OptimizedRecord['parts'][string]> = {};
  for (const [part, passes] of Object.entries(PART_PASSES)) {
    const file = path.join(source, part, 'model.onnx');
    const stamp = await stat(file).catch(() => undefined);
    if (stamp === undefined) continue;
    const fp16 = options.fp16 === true && passes.fuseAttention && !(vaeUpcast && part.startsWith('vae_'));
    const report = await optimizeModelFile(file, path.join(outDir, part, 'model.onnx'), { ...passes, fp16 });
    const summary = summarise(report);
    say(`${part}: ${summary}`);
    parts[part] = report;
    recorded[part] = { source: { size: stamp.size, mtimeMs: stamp.mtimeMs }, summary };
  }
  if (Object.keys(parts).length === 0) {
    throw new DiffEditError(ErrorCode.ModelFileMissing, `${source} holds no <part>/model.onnx to optimise.`, { file: source });
  }
  await copySideFiles(source, outDir);
  const written: OptimizedRecord = {
    version: 1,
    source,
    createdAt: new Date().toISOString(),
    fp16: options.fp16 === true,
    parts: recorded,
  };
  await writeFile(path.join(outDir, RECORD_FILE), `${JSON.stringify(written, null, 2)}\n`);
  return { outDir, parts };
}

/** One line: attention fused out of how many Softmax nodes, what was left and why, nodes and weights. */
export function summarise(report: ModelReport): string {
  const pieces: string[] = [];
  const a = report.attention;
  if (a !== undefined) {
    pieces.push(`${a.fused} of ${a.softmax} Softmax nodes fused into MultiHeadAttention`);
    for (const left of a.unrecognised) pieces.push(`left as is: ${left.node} (${left.reason})`);
  }
  pieces.push(...report.rewrites);
  pieces.push(`${report.nodesBefore} -> ${report.nodesAfter} nodes`);
  if (report.weights.location !== undefined)
    pieces.push(`${report.weights.tensors} external tensors, ${report.weights.bytes} bytes -> ${report.weights.location}`);
  return pieces.join('; ');
}

async function copySideFiles(source: string, outDir: string): Promise<void> {
  for (const dir of SIDE_DIRS) {
    const entries = await readdir(path.join(source, dir), { withFileTypes: true }).catch(() => []);
    if (entries.length > 0) await mkdir(path.join(outDir, dir), { recursive: true });
    for (const e of entries) if (e.isFile()) await copyFile(path.join(source, dir, e.name), path.join(outDir, dir, e.name));
  }
  for (const file of SIDE_FILES) {
    await mkdir(path.dirname(path.join(outDir, file)), { recursive: true });
    await copyFile(path.join(source, file), path.join(outDir, file)).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
  }
}

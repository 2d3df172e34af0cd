/**
 * One model file through the optimiser: decode, rewrite the graph, drop what became dead, stream the external
 * weights into the new folder, encode. The source is only read.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DataType, decodeModel, encodeModel, type ModelMessage } from '../onnx/proto.js';
import { fuseAttention, type FusionReport } from './attention-fusion.js';
import { copyExternalData, type ExternalCopy, type TensorTransform } from './external-data.js';
import { convertToFloat16, halfBytes } from './float16.js';
import { pruneGraph } from './prune.js';

/** Graph rewrites to apply to one model. */
export interface ModelPasses {
  /** Fuse attention blocks into com.microsoft.MultiHeadAttention. */
  readonly fuseAttention: boolean;
  /** Further rewrites of the decoded model (the VAE encoder's sample -> mean), in order. */
  readonly rewrites?: readonly ((model: ModelMessage) => string | undefined)[];
  /** Weights and compute in float16 (inputs and outputs stay float32). */
  readonly fp16?: boolean;
}

/** What happened to one model. */
export interface ModelReport {
  readonly nodesBefore: number;
  readonly nodesAfter: number;
  readonly attention: FusionReport | undefined;
  /** One line per rewrite that changed something. */
  readonly rewrites: readonly string[];
  readonly weights: ExternalCopy;
}

/** Writes the optimised copy of `source` (a model.onnx) to `target`, external data next to it. */
export async function optimizeModelFile(source: string, target: string, passes: ModelPasses): Promise<ModelReport> {
  const model = decodeModel(await readFile(source));
  const nodesBefore = model.graph.node.length;
  const attention = passes.fuseAttention ? fuseAttention(model) : undefined;
  const rewrites = (passes.rewrites ?? []).flatMap((rewrite) => rewrite(model) ?? []);
  pruneGraph(model.graph);
  let transform: TensorTransform | undefined;
  if (passes.fp16 === true) {
    const conversion = convertToFloat16(model);
    rewrites.push(conversion.line);
    // External float32 weights are halved on their way into the new file, one tensor at a time.
    transform = (tensor, bytes) =>
      conversion.externalToConvert.has(tensor.name)
        ? { bytes: halfBytes(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4)), dataType: DataType.FLOAT16 }
        : undefined;
  }
  await mkdir(path.dirname(target), { recursive: true });
  const weights = await copyExternalData(model.graph, path.dirname(source), path.dirname(target), transform);
  await writeFile(target, encodeModel(model));
  return { nodesBefore, nodesAfter: model.graph.node.length, attention, rewrites, weights };
}

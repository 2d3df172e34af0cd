/**
 * One model file through the optimiser: decode, rewrite the graph, drop what became dead, stream the external
 * weights into the new folder, encode. The source is only read.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { decodeModel, encodeModel, type ModelMessage } from '../onnx/proto.js';
import { fuseAttention, type FusionReport } from './attention-fusion.js';
import { copyExternalData, type ExternalCopy, type TensorTransform } from './external-data.js';
import { pruneGraph } from './prune.js';

/** Graph rewrites to apply to one model. */
export interface ModelPasses {
  /** Fuse attention blocks into com.microsoft.MultiHeadAttention. */
  readonly fuseAttention: boolean;
  /** Further rewrites of the decoded model (the VAE encoder's sample -> mean, fp16), in order. */
  readonly rewrites?: readonly ((model: ModelMessage) => string | undefined)[];
  /** Converts weights while they are copied (fp16). */
  readonly transform?: TensorTransform;
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
  await mkdir(path.dirname(target), { recursive: true });
  const weights = await copyExternalData(model.graph, path.dirname(source), path.dirname(target), passes.transform);
  await writeFile(target, encodeModel(model));
  return { nodesBefore, nodesAfter: model.graph.node.length, attention, rewrites, weights };
}

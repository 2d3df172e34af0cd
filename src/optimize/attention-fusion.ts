/**
 * Replaces every recognised attention block by one com.microsoft.MultiHeadAttention node with separate 3-D query,
 * key and value (the WebGPU EP refuses packed QKV/KV inputs). The CPU EP runs it with flash attention, so the
 * [B·h, N, M] score matrices are never materialised. Unrecognised blocks are left as they are and reported.
 * The replaced nodes are left dead: run `pruneGraph` afterwards.
 */
import { indexGraph } from '../onnx/graph-index.js';
import { AttributeType, type GraphMessage, type ModelMessage, type NodeMessage } from '../onnx/proto.js';
import { matchAttention, type AttentionMatch } from './attention-pattern.js';

/** onnxruntime's contrib-op domain; MultiHeadAttention is in its version 1. */
export const MS_DOMAIN = 'com.microsoft';

/** What the pass did. */
export interface FusionReport {
  /** Softmax nodes in the graph before the pass. */
  readonly softmax: number;
  /** Attention blocks replaced. */
  readonly fused: number;
  /** Softmax nodes left as they were, and why. */
  readonly unrecognised: readonly { readonly node: string; readonly reason: string }[];
}

/** Fuses the attention blocks of `model`'s graph in place. */
export function fuseAttention(model: ModelMessage): FusionReport {
  const graph = model.graph;
  const index = indexGraph(graph);
  const softmaxes = graph.node.filter((n) => n.op_type === 'Softmax');
  const unrecognised: { node: string; reason: string }[] = [];
  const replacements = new Map<NodeMessage, NodeMessage>();
  for (const softmax of softmaxes) {
    const result = matchAttention(index, softmax);
    if (result.ok) replacements.set(result.match.output, multiHeadAttention(result.match, softmax));
    else unrecognised.push({ node: softmax.name, reason: result.reason });
  }
  // In place of the head merge's last Reshape: its inputs come earlier, so the graph stays topologically sorted.
  graph.node = graph.node.map((node) => replacements.get(node) ?? node);
  if (replacements.size > 0) importMsDomain(model);
  return { softmax: softmaxes.length, fused: replacements.size, unrecognised };
}

function multiHeadAttention(match: AttentionMatch, softmax: NodeMessage): NodeMessage {
  // '/…/attn1/Softmax' -> '/…/attn1/MultiHeadAttention'; other names get a suffix (node names must stay unique).
  const name = softmax.name.endsWith('/Softmax') ? softmax.name.replace(/Softmax$/, 'MultiHeadAttention') : `${softmax.name}/MultiHeadAttention`;
  return {
    name,
    op_type: 'MultiHeadAttention',
    domain: MS_DOMAIN,
    input: [match.query, match.key, match.value],
    output: [...match.output.output],
    attribute: [
      { name: 'num_heads', type: AttributeType.INT, i: match.heads },
      { name: 'scale', type: AttributeType.FLOAT, f: match.scale },
    ],
  };
}

function importMsDomain(model: ModelMessage): void {
  if (!model.opset_import.some((o) => o.domain === MS_DOMAIN)) model.opset_import.push({ domain: MS_DOMAIN, version: 1 });
}

/** Softmax nodes anywhere in the graph (after fusion, those MultiHeadAttention did not absorb). */
export function countOps(graph: GraphMessage, opType: string): number {
  return graph.node.filter((n) => n.op_type === opType).length;
}

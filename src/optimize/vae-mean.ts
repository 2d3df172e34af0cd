/**
 * Older VAE encoder exports (diffusers' conversion script, optimum <= 1.22) bake `latent_dist.sample()` into the
 * graph: `latent_sample` = mean + std · RandomNormalLike, different at every call, so the same edit never
 * comes out twice. This rewrite makes `latent_sample` the mean (what the pipeline takes from
 * `latent_parameters` exports); the noise branch is then dead and pruned.
 */
import { indexGraph, type GraphIndex } from '../onnx/graph-index.js';
import type { ModelMessage, NodeMessage } from '../onnx/proto.js';

const RANDOM_OPS = new Set(['RandomNormalLike', 'RandomNormal', 'RandomUniformLike', 'RandomUniform']);

/** Rewrites `model` in place; returns what it did, or undefined when the graph does not sample. */
export function sampleToMean(model: ModelMessage): string | undefined {
  const graph = model.graph;
  if (!graph.node.some((n) => RANDOM_OPS.has(n.op_type))) return undefined;
  const index = indexGraph(graph);
  const random = randomness(index);
  const rewritten: string[] = [];
  for (const output of graph.output) {
    const add = index.producer(output.name);
    if (add === undefined || !random(output.name)) continue;
    const [a = '', b = ''] = add.input;
    // mean + std·noise: the Add's one deterministic side is the mean.
    const mean = add.op_type === 'Add' && random(a) !== random(b) ? (random(a) ? b : a) : undefined;
    if (mean === undefined) return `VAE encoder: "${output.name}" is random but not mean + noise (${add.op_type}): sampling left as is`;
    replaceNode(graph.node, add, { name: `${add.name}/mean`, op_type: 'Identity', input: [mean], output: [output.name], attribute: [] });
    rewritten.push(output.name);
  }
  return rewritten.length === 0 ? undefined : `VAE encoder: "${rewritten.join('", "')}" now returns the mean (the sampling was in the graph)`;
}

/** Whether a value depends on a random node (memoised). */
function randomness(index: GraphIndex): (value: string) => boolean {
  const seen = new Map<string, boolean>();
  const visit = (value: string): boolean => {
    const known = seen.get(value);
    if (known !== undefined) return known;
    seen.set(value, false); // graphs are acyclic; this only guards the recursion
    const node = index.producer(value);
    const result = node !== undefined && (RANDOM_OPS.has(node.op_type) || node.input.some((i) => i !== '' && visit(i)));
    seen.set(value, result);
    return result;
  };
  return visit;
}

function replaceNode(nodes: NodeMessage[], old: NodeMessage, replacement: NodeMessage): void {
  nodes[nodes.indexOf(old)] = replacement;
}

/**
 * Removes what no graph output depends on: nodes left dead by a rewrite, then initializers no node reads any more
 * (so their bytes are not copied into the optimised weights file).
 */
import type { GraphMessage } from '../onnx/proto.js';

/** Prunes `graph` in place; returns how many nodes and initializers went. */
export function pruneGraph(graph: GraphMessage): { nodes: number; initializers: number } {
  const needed = new Set(graph.output.map((o) => o.name));
  const kept = [];
  // Nodes are topologically sorted: walking backwards, a node's readers have all been seen.
  for (let i = graph.node.length - 1; i >= 0; i--) {
    const node = graph.node[i];
    if (node === undefined || !node.output.some((o) => needed.has(o))) continue;
    kept.push(node);
    for (const input of node.input) if (input !== '') needed.add(input);
  }
  const nodes = graph.node.length - kept.length;
  graph.node = kept.reverse();
  const removed = new Set(graph.initializer.filter((t) => !needed.has(t.name)).map((t) => t.name));
  graph.initializer = graph.initializer.filter((t) => !removed.has(t.name));
  // Old exports list initializers among the inputs too: drop the entries of the removed ones (never a real input).
  graph.input = graph.input.filter((i) => !removed.has(i.name));
  if (graph.value_info !== undefined) graph.value_info = graph.value_info.filter((v) => needed.has(v.name));
  return { nodes, initializers: removed.size };
}

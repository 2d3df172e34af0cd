/**
 * Read-only lookups over a decoded ONNX graph for pattern matching: who produces a value, who reads it, which
 * values are constants (initializers held inline or Constant nodes) and what numbers they hold.
 */
import {
  AttributeType,
  DATA_LOCATION_EXTERNAL,
  DataType,
  type AttributeMessage,
  type GraphMessage,
  type NodeMessage,
  type TensorMessage,
} from './proto.js';

/** Lookups over one graph; rebuild it after the graph changes. */
export interface GraphIndex {
  producer(value: string): NodeMessage | undefined;
  consumers(value: string): readonly NodeMessage[];
  /** The tensor behind a constant value, or undefined when the value is computed or a graph input. */
  constant(value: string): TensorMessage | undefined;
}

export function indexGraph(graph: GraphMessage): GraphIndex {
  const producers = new Map<string, NodeMessage>();
  const consumers = new Map<string, NodeMessage[]>();
  for (const node of graph.node) {
    for (const out of node.output) producers.set(out, node);
    for (const input of node.input) {
      if (input === '') continue;
      const list = consumers.get(input);
      if (list === undefined) consumers.set(input, [node]);
      else list.push(node);
    }
  }
  const initializers = new Map(graph.initializer.map((t) => [t.name, t]));
  return {
    producer: (value) => producers.get(value),
    consumers: (value) => consumers.get(value) ?? [],
    constant(value) {
      const init = initializers.get(value);
      if (init !== undefined) return init;
      const node = producers.get(value);
      return node?.op_type === 'Constant' ? constantNodeTensor(node) : undefined;
    },
  };
}

function constantNodeTensor(node: NodeMessage): TensorMessage | undefined {
  const [attr] = node.attribute;
  if (attr === undefined) return undefined;
  if (attr.name === 'value' && attr.t !== undefined) return attr.t;
  // Decoded messages leave out zero scalars (proto3 defaults), hence the `?? 0`.
  if (attr.name === 'value_float') return { name: '', dims: [], data_type: DataType.FLOAT, float_data: [attr.f ?? 0] };
  if (attr.name === 'value_floats') return { name: '', dims: [attr.floats?.length ?? 0], data_type: DataType.FLOAT, float_data: attr.floats ?? [] };
  if (attr.name === 'value_int') return { name: '', dims: [], data_type: DataType.INT64, int64_data: [attr.i ?? 0] };
  if (attr.name === 'value_ints') return { name: '', dims: [attr.ints?.length ?? 0], data_type: DataType.INT64, int64_data: attr.ints ?? [] };
  return undefined;
}

/** The numbers a tensor holds inline (float, double, int32, int64), or undefined (external data, other types). */
export function tensorNumbers(tensor: TensorMessage): number[] | undefined {
  if (tensor.data_location === DATA_LOCATION_EXTERNAL) return undefined;
  const raw = tensor.raw_data;
  if (raw !== undefined && raw.byteLength > 0) {
    const bytes = new Uint8Array(raw); // a copy: aligned for the typed views below
    switch (tensor.data_type) {
      case DataType.FLOAT:
        return Array.from(new Float32Array(bytes.buffer));
      case DataType.DOUBLE:
        return Array.from(new Float64Array(bytes.buffer));
      case DataType.INT32:
        return Array.from(new Int32Array(bytes.buffer));
      case DataType.INT64:
        return Array.from(new BigInt64Array(bytes.buffer), Number);
      default:
        return undefined;
    }
  }
  const typed = tensor.data_type === DataType.INT64 ? tensor.int64_data : tensor.data_type === DataType.INT32 ? tensor.int32_data : tensor.float_data;
  return typed?.map(Number);
}

/** The numbers of a constant value, or undefined when it is not a constant with inline numbers. */
export function constantNumbers(index: GraphIndex, value: string): number[] | undefined {
  const tensor = index.constant(value);
  return tensor === undefined ? undefined : tensorNumbers(tensor);
}

/** A node attribute by name. */
export function attribute(node: NodeMessage, name: string): AttributeMessage | undefined {
  return node.attribute.find((a) => a.name === name);
}

/** An INT attribute's value, or `fallback` when absent (a present one with no `i` is 0: proto3 leaves zeros out). */
export function intAttribute(node: NodeMessage, name: string, fallback: number): number {
  const attr = attribute(node, name);
  return attr?.type === AttributeType.INT ? Number(attr.i ?? 0) : fallback;
}

/** An INTS attribute's values, or undefined when absent. */
export function intsAttribute(node: NodeMessage, name: string): number[] | undefined {
  const attr = attribute(node, name);
  return attr?.type === AttributeType.INTS ? (attr.ints ?? []).map(Number) : undefined;
}

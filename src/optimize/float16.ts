/**
 * `npm run optimize -- --fp16`: weights and compute in float16, graph inputs and outputs still float32 (Casts at
 * the boundary, so the engine's contract does not change). Numerically sensitive ops stay float32
 * (FLOAT32_OPS, each with its reason), and so does elementwise arithmetic whose inputs are all float32 (the
 * rest of a LayerNorm's variance), with Casts wherever a value meets a consumer of the other type.
 * Element types are propagated through the graph from its inputs and constants, op by op.
 */
import { float32ToFloat16 } from '../engine/models/float16.js';
import { intAttribute } from '../onnx/graph-index.js';
import { AttributeType, DataType, type GraphMessage, type ModelMessage, type NodeMessage, type TensorMessage } from '../onnx/proto.js';

/** Ops kept in float32, and why. */
export const FLOAT32_OPS: Readonly<Record<string, string>> = {
  InstanceNormalization:
    "GroupNorm (exported as InstanceNormalization over each group) sums up to 40,960 values per group at 64x64: fp16's 11-bit mantissa loses the mean and variance",
  ReduceMean: "LayerNorm's mean and variance are sums over the channels (up to 1280): same loss",
  Pow: "LayerNorm squares the deviations: anything above 256 overflows fp16's largest value, 65504",
  Sqrt: "LayerNorm's sqrt(variance + 1e-5): 1e-5 is below fp16's smallest normal number",
  Softmax: 'exp() of unfused attention scores overflows in fp16 (fused MultiHeadAttention computes its softmax in float32 itself)',
  Exp: 'exp() overflows fp16 above 11',
  Sin: "the timestep embedding's arguments reach 999 rad, where fp16's spacing is 0.5",
  Cos: "the timestep embedding's arguments reach 999 rad, where fp16's spacing is 0.5",
  ConstantOfShape: 'its value attribute fixes its output type; consumers get a Cast',
  RandomNormalLike: 'its dtype attribute fixes its output type',
};

/**
 * Elementwise and data-movement ops that stay float32 when all their computed float inputs are float32: the
 * tail of a norm, and the float32 timestep on its way to Sin/Cos.
 */
const FOLLOW_FLOAT32 = new Set(['Add', 'Sub', 'Mul', 'Div', 'Expand', 'Unsqueeze', 'Squeeze', 'Reshape', 'Concat', 'Slice', 'Cast', 'Where']);

/** Inputs whose type the op fixes whatever its data type (Resize's roi and scales). */
const FIXED_FLOAT32_INPUTS: Readonly<Record<string, readonly number[]>> = { Resize: [1, 2] };

/** Ops whose output type is not their first input's. */
const OUTPUT_TYPE: Readonly<Record<string, (node: NodeMessage, input: (i: number) => number | undefined) => number | undefined>> = {
  Shape: () => DataType.INT64,
  Size: () => DataType.INT64,
  NonZero: () => DataType.INT64,
  Equal: () => DataType.BOOL,
  Less: () => DataType.BOOL,
  Greater: () => DataType.BOOL,
  LessOrEqual: () => DataType.BOOL,
  GreaterOrEqual: () => DataType.BOOL,
  And: () => DataType.BOOL,
  Or: () => DataType.BOOL,
  Not: () => DataType.BOOL,
  Cast: (node) => intAttribute(node, 'to', 0),
  ConstantOfShape: (node) => node.attribute.find((a) => a.name === 'value')?.t?.data_type ?? DataType.FLOAT,
  Constant: (node) =>
    node.attribute.find((a) => a.name === 'value')?.t?.data_type ?? (node.attribute[0]?.name.includes('int') ? DataType.INT64 : DataType.FLOAT),
  Where: (_node, input) => input(1),
  RandomNormalLike: (node) => intAttribute(node, 'dtype', DataType.FLOAT),
};

/** What the pass did: a line for the report, and the external initializers whose bytes must be converted. */
export interface Float16Conversion {
  readonly line: string;
  readonly externalToConvert: ReadonlySet<string>;
}

const FLOAT = DataType.FLOAT;
const HALF = DataType.FLOAT16;

/** Converts `model` in place. */
export function convertToFloat16(model: ModelMessage): Float16Conversion {
  const graph = model.graph;
  const original = elementTypes(graph);
  const initializers = new Map(graph.initializer.map((t) => [t.name, t]));
  const type = new Map<string, number>(); // types after conversion
  for (const input of graph.input) type.set(input.name, input.type.tensor_type.elem_type);
  const externalToConvert = new Set<string>();
  const weights = graph.initializer.filter((t) => t.data_type === FLOAT).length;
  for (const t of graph.initializer) {
    if (t.data_type !== FLOAT) continue;
    type.set(t.name, HALF);
    if (t.data_location === 1) externalToConvert.add(t.name);
    else halveInline(t);
  }

  const casts = new Map<string, string>(); // `${value}->${type}` -> cast output
  const nodes: NodeMessage[] = [];
  let kept = 0;
  const castTo = (value: string, to: number): string => {
    const key = `${value}->${to}`;
    let name = casts.get(key);
    if (name === undefined) {
      name = `${value}/fp16_cast_${to === HALF ? 'down' : 'up'}`;
      nodes.push(castNode(value, name, to));
      casts.set(key, name);
      type.set(name, to);
    }
    return name;
  };

  const constants = new Set(graph.node.filter((n) => n.op_type === 'Constant').flatMap((n) => n.output));
  for (const node of graph.node) {
    const computed = node.input.filter((i) => i !== '' && isFloat(type.get(i)) && !initializers.has(i) && !constants.has(i));
    const stays32 =
      node.op_type in FLOAT32_OPS ||
      (FOLLOW_FLOAT32.has(node.op_type) && computed.length > 0 && computed.every((i) => type.get(i) === FLOAT)) ||
      // Integers made floats are shape arithmetic or timesteps: exact in float32, not in fp16.
      (node.op_type === 'Cast' && !isFloat(type.get(node.input[0] ?? '')));
    if (stays32 && node.op_type in FLOAT32_OPS) kept++;
    const fixed = FIXED_FLOAT32_INPUTS[node.op_type] ?? [];
    const passThrough = node.op_type === 'Cast' || node.op_type === 'Shape';
    node.input = node.input.map((input, k) => {
      const t = type.get(input);
      if (input === '' || passThrough || !isFloat(t)) return input;
      const wanted = stays32 || fixed.includes(k) ? FLOAT : HALF;
      return t === wanted ? input : castTo(input, wanted);
    });
    if (!stays32) halveNode(node);
    nodes.push(node);
    const outputType = outputTypeOf(node, (i) => type.get(node.input[i] ?? ''));
    for (const out of node.output) type.set(out, outputType ?? original.get(out) ?? FLOAT);
  }

  // Graph outputs stay float32: the value gets another name and a Cast gives it back its own.
  for (const output of graph.output) {
    if (type.get(output.name) !== HALF) continue;
    const inner = `${output.name}/fp16`;
    for (const node of nodes) node.output = node.output.map((o) => (o === output.name ? inner : o));
    for (const node of nodes) node.input = node.input.map((i) => (i === output.name ? inner : i));
    nodes.push(castNode(inner, output.name, FLOAT));
  }
  graph.node = nodes;
  // Intermediate shapes/types recorded by the exporter are stale now; onnxruntime infers them again.
  graph.value_info = [];
  const blocked = Object.keys(FLOAT32_OPS).filter((op) => graph.node.some((n) => n.op_type === op));
  return {
    line: `fp16: ${weights} weights converted; ${kept} nodes kept in float32 (${blocked.join(', ') || 'none'}); ${casts.size} Casts inserted; inputs and outputs float32`,
    externalToConvert,
  };
}

function isFloat(type: number | undefined): boolean {
  return type === FLOAT || type === HALF;
}

function castNode(input: string, output: string, to: number): NodeMessage {
  return { name: `${output}/Cast`, op_type: 'Cast', input: [input], output: [output], attribute: [{ name: 'to', type: AttributeType.INT, i: to }] };
}

/** A node computing in fp16: its float constants, float Casts and typed attributes follow. */
function halveNode(node: NodeMessage): void {
  if (node.op_type === 'Cast' && intAttribute(node, 'to', 0) === FLOAT) {
    for (const a of node.attribute) if (a.name === 'to') a.i = HALF;
  }
  if (node.op_type === 'Constant') {
    for (const a of node.attribute) {
      if (a.t !== undefined && a.t.data_type === FLOAT) halveInline(a.t);
      if (a.name === 'value_float' || a.name === 'value_floats') {
        const scalar = a.name === 'value_float';
        const values = scalar ? [a.f ?? 0] : (a.floats ?? []);
        a.name = 'value';
        a.type = AttributeType.TENSOR;
        a.t = { name: '', dims: scalar ? [] : [values.length], data_type: HALF, raw_data: halfBytes(Float32Array.from(values)) };
        delete a.f;
        delete a.floats;
      }
    }
  }
}

/** float32 -> float16 for an inline tensor (raw_data or float_data). */
function halveInline(tensor: TensorMessage): void {
  const values =
    tensor.raw_data !== undefined && tensor.raw_data.byteLength > 0
      ? new Float32Array(new Uint8Array(tensor.raw_data).buffer)
      : Float32Array.from(tensor.float_data ?? []);
  tensor.raw_data = halfBytes(values);
  delete tensor.float_data;
  tensor.data_type = HALF;
}

/** The bytes of float32 values as float16 (little-endian). */
export function halfBytes(values: Float32Array): Uint8Array {
  const half = float32ToFloat16(values);
  return new Uint8Array(half.buffer, half.byteOffset, half.byteLength);
}

function outputTypeOf(node: NodeMessage, input: (i: number) => number | undefined): number | undefined {
  const rule = OUTPUT_TYPE[node.op_type];
  return rule !== undefined ? rule(node, input) : input(0);
}

/** Element types of every value before conversion (graph inputs, initializers, then node by node). */
function elementTypes(graph: GraphMessage): Map<string, number> {
  const types = new Map<string, number>();
  for (const input of graph.input) types.set(input.name, input.type.tensor_type.elem_type);
  for (const t of graph.initializer) types.set(t.name, t.data_type);
  for (const node of graph.node) {
    const t = outputTypeOf(node, (i) => types.get(node.input[i] ?? ''));
    for (const out of node.output) if (t !== undefined) types.set(out, t);
  }
  return types;
}

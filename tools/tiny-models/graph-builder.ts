/**
 * A tiny helper to build ONNX graphs: nodes, initializers, inputs and outputs with unique value names, then a model
 * file (optionally with the initializers in an external-data file, the way `onnx.save_model(...,
 * save_as_external_data=True, all_tensors_to_one_file=True)` writes them).
 */
import {
  AttributeType,
  DATA_LOCATION_EXTERNAL,
  DataType,
  encodeModel,
  type AttributeMessage,
  type DataTypeCode,
  type DimensionMessage,
  type NodeMessage,
  type TensorMessage,
  type ValueInfoMessage,
} from '../../src/onnx/proto.js';

/** Element types the generator uses. */
export type ElemType = 'float32' | 'float16' | 'int64' | 'int32' | 'bool';

/** A dimension: a number when fixed, a string when symbolic. */
export type Dim = number | string;

const DATA_TYPE: Record<ElemType, DataTypeCode> = {
  float32: DataType.FLOAT,
  float16: DataType.FLOAT16,
  int64: DataType.INT64,
  int32: DataType.INT32,
  bool: DataType.BOOL,
};

/** ONNX data-type code of an element type (the `to` of a Cast). */
export function dataTypeOf(type: ElemType): DataTypeCode {
  return DATA_TYPE[type];
}

/** Constant tensor data: float16 is given as its bit patterns. */
export type TensorData = Float32Array | Uint16Array | BigInt64Array | Int32Array | Uint8Array;

export interface TensorValue {
  readonly type: ElemType;
  readonly dims: readonly number[];
  readonly data: TensorData;
}

/** A node attribute, tagged with its ONNX kind. */
export type AttrValue =
  | { readonly f: number }
  | { readonly i: number }
  | { readonly s: string }
  | { readonly floats: readonly number[] }
  | { readonly ints: readonly number[] }
  | { readonly t: TensorValue };

export type Attrs = Readonly<Record<string, AttrValue>>;

function bytesOf(data: TensorData): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

function tensorMessage(name: string, value: TensorValue): TensorMessage {
  const count = value.dims.reduce((a, b) => a * b, 1);
  if (count !== value.data.length) {
    throw new Error(`tensor ${name}: dims [${value.dims.join(', ')}] hold ${count} values, data has ${value.data.length}`);
  }
  return { name, dims: [...value.dims], data_type: DATA_TYPE[value.type], raw_data: bytesOf(value.data) };
}

function attribute(name: string, value: AttrValue): AttributeMessage {
  if ('f' in value) return { name, type: AttributeType.FLOAT, f: value.f };
  if ('i' in value) return { name, type: AttributeType.INT, i: value.i };
  if ('s' in value) return { name, type: AttributeType.STRING, s: new TextEncoder().encode(value.s) };
  if ('floats' in value) return { name, type: AttributeType.FLOATS, floats: [...value.floats] };
  if ('ints' in value) return { name, type: AttributeType.INTS, ints: [...value.ints] };
  return { name, type: AttributeType.TENSOR, t: tensorMessage('', value.t) };
}

function valueInfo(name: string, type: ElemType, dims: readonly Dim[]): ValueInfoMessage {
  const dim: DimensionMessage[] = dims.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d }));
  return { name, type: { tensor_type: { elem_type: DATA_TYPE[type], shape: { dim } } } };
}

interface Initializer {
  readonly name: string;
  readonly value: TensorValue;
}

/** Where and how to store initializers outside the .onnx file. */
export interface ExternalDataOptions {
  /** File name relative to the model file, e.g. `model.onnx_data` or `weights.pb`. */
  readonly location: string;
  /**
   * Which initializers go out (default: float tensors of more than one value; scalars such as attention scales
   * stay inline, as in real exports, where onnx.save_model keeps everything under 1024 bytes inline).
   */
  readonly include?: (name: string, value: TensorValue) => boolean;
}

export interface SerializedModel {
  /** The .onnx file's bytes. */
  readonly model: Uint8Array;
  /** The external-data file's bytes in order (chunks, so that files over 2 GB need no single buffer). */
  readonly externalData?: readonly Uint8Array[];
}

export interface ModelInfo {
  readonly docString?: string;
  readonly metadata?: Readonly<Record<string, string>>;
}

/** ONNX IR version 8 goes with opset 17. */
export const IR_VERSION = 8;
export const OPSET = 17;

export class GraphBuilder {
  private readonly used = new Set<string>();
  private readonly nodes: NodeMessage[] = [];
  private readonly initializers: Initializer[] = [];
  private readonly inputs: ValueInfoMessage[] = [];
  private readonly outputs: ValueInfoMessage[] = [];
  private readonly constCache = new Map<string, string>();
  /** Operator sets besides the default domain's (opset 17) that nodes use: domain -> version. */
  private readonly extraOpsets = new Map<string, number>();

  constructor(readonly name: string) {}

  /** A fresh value name based on `hint`. */
  unique(hint: string): string {
    const base = hint.replace(/[^A-Za-z0-9_./:-]/g, '_') || 'v';
    let name = base;
    for (let n = 1; this.used.has(name); n++) name = `${base}_${n}`;
    this.used.add(name);
    return name;
  }

  private claim(name: string): string {
    if (this.used.has(name)) throw new Error(`value name ${name} is already used in graph ${this.name}`);
    this.used.add(name);
    return name;
  }

  /** Declares a graph input with an exact name. */
  input(name: string, type: ElemType, dims: readonly Dim[]): string {
    this.inputs.push(valueInfo(this.claim(name), type, dims));
    return name;
  }

  /** Declares a graph output: `value` is copied (Identity) or cast (Cast) to a value with the exact output name. */
  output(name: string, type: ElemType, dims: readonly Dim[], value: string, valueType: ElemType): void {
    this.claim(name);
    if (valueType === type) this.pushNode('Identity', [value], [name], {});
    else this.pushNode('Cast', [value], [name], { to: { i: DATA_TYPE[type] } });
    this.outputs.push(valueInfo(name, type, dims));
  }

  /** Adds an initializer; returns its (unique) name. */
  initializer(hint: string, value: TensorValue): string {
    const name = this.unique(hint);
    tensorMessage(name, value); // validates dims against data
    this.initializers.push({ name, value });
    return name;
  }

  /** A float32 initializer. */
  f32(hint: string, dims: readonly number[], data: Float32Array | readonly number[]): string {
    return this.initializer(hint, { type: 'float32', dims, data: data instanceof Float32Array ? data : Float32Array.from(data) });
  }

  /** An int64 initializer. */
  i64(hint: string, dims: readonly number[], data: readonly number[]): string {
    return this.initializer(hint, { type: 'int64', dims, data: BigInt64Array.from(data.map((v) => BigInt(v))) });
  }

  /** A shared float32 scalar (or 1-D) constant. */
  constF32(value: number | readonly number[]): string {
    const list = typeof value === 'number' ? [value] : value;
    const key = `f32:${typeof value === 'number' ? 's' : 'v'}:${list.join(',')}`;
    let name = this.constCache.get(key);
    if (name === undefined) {
      name = this.f32('const_f32', typeof value === 'number' ? [] : [list.length], list);
      this.constCache.set(key, name);
    }
    return name;
  }

  /** A shared int64 scalar (or 1-D) constant. */
  constI64(value: number | readonly number[]): string {
    const list = typeof value === 'number' ? [value] : value;
    const key = `i64:${typeof value === 'number' ? 's' : 'v'}:${list.join(',')}`;
    let name = this.constCache.get(key);
    if (name === undefined) {
      name = this.i64('const_i64', typeof value === 'number' ? [] : [list.length], list);
      this.constCache.set(key, name);
    }
    return name;
  }

  private pushNode(opType: string, inputs: readonly string[], outputs: readonly string[], attrs: Attrs, domain = ''): void {
    this.nodes.push({
      name: this.unique(`${opType}_node`),
      op_type: opType,
      input: [...inputs],
      output: [...outputs],
      attribute: Object.entries(attrs).map(([key, value]) => attribute(key, value)),
      ...(domain !== '' ? { domain } : {}),
    });
  }

  /** Adds a node with `outputCount` outputs; returns their names. An input '' means an omitted optional input. */
  op(opType: string, inputs: readonly string[], attrs: Attrs = {}, outputCount = 1, hint = opType): string[] {
    const outputs = Array.from({ length: outputCount }, (_, k) => this.unique(`${hint}_out${outputCount > 1 ? k : ''}`));
    this.pushNode(opType, inputs, outputs, attrs);
    return outputs;
  }

  /** Adds a single-output node; returns its output's name. */
  op1(opType: string, inputs: readonly string[], attrs: Attrs = {}, hint = opType): string {
    const [out] = this.op(opType, inputs, attrs, 1, hint);
    return out as string;
  }

  /**
   * Adds a single-output node of another operator domain (e.g. onnxruntime's contrib ops: 'com.microsoft', version 1)
   * and imports that operator set into the model; returns its output's name.
   */
  domainOp1(domain: string, version: number, opType: string, inputs: readonly string[], attrs: Attrs = {}): string {
    if (domain === '' || domain === 'ai.onnx') throw new Error('domainOp1 is for domains other than the default one');
    const imported = this.extraOpsets.get(domain);
    if (imported !== undefined && imported !== version) {
      throw new Error(`graph ${this.name} already imports ${domain} version ${imported}, not ${version}`);
    }
    this.extraOpsets.set(domain, version);
    const output = this.unique(`${opType}_out`);
    this.pushNode(opType, inputs, [output], attrs, domain);
    return output;
  }

  /** Cast helper: no node when the value already has that type. */
  cast(value: string, from: ElemType, to: ElemType): string {
    return from === to ? value : this.op1('Cast', [value], { to: { i: DATA_TYPE[to] } });
  }

  /** Serialises the graph into a model (opset 17 plus the domains of domainOp1 nodes, IR 8), optionally moving initializers to external data. */
  serialize(info: ModelInfo = {}, external?: ExternalDataOptions): SerializedModel {
    const chunks: Uint8Array[] = [];
    let offset = 0;
    const include =
      external?.include ?? ((_: string, value: TensorValue) => (value.type === 'float32' || value.type === 'float16') && value.data.length > 1);
    const initializer: TensorMessage[] = this.initializers.map(({ name, value }) => {
      if (external === undefined || !include(name, value)) return tensorMessage(name, value);
      const bytes = bytesOf(value.data);
      // onnx aligns large tensors to 4096 bytes (mmap-friendly); small ones to 64.
      const align = bytes.byteLength >= 1 << 20 ? 4096 : 64;
      const pad = (align - (offset % align)) % align;
      if (pad > 0) chunks.push(new Uint8Array(pad));
      offset += pad;
      const entry: TensorMessage = {
        name,
        dims: [...value.dims],
        data_type: DATA_TYPE[value.type],
        data_location: DATA_LOCATION_EXTERNAL,
        external_data: [
          { key: 'location', value: external.location },
          { key: 'offset', value: String(offset) },
          { key: 'length', value: String(bytes.byteLength) },
        ],
      };
      chunks.push(bytes);
      offset += bytes.byteLength;
      return entry;
    });
    const metadata = Object.entries(info.metadata ?? {}).map(([key, value]) => ({ key, value }));
    const model = encodeModel({
      ir_version: IR_VERSION,
      producer_name: 'diffedit-bot tiny-models',
      producer_version: '1',
      ...(info.docString !== undefined ? { doc_string: info.docString } : {}),
      graph: { name: this.name, node: this.nodes, initializer, input: this.inputs, output: this.outputs },
      opset_import: [{ domain: '', version: OPSET }, ...[...this.extraOpsets].map(([domain, version]) => ({ domain, version }))],
      ...(metadata.length > 0 ? { metadata_props: metadata } : {}),
    });
    if (external === undefined) return { model };
    return { model, externalData: chunks };
  }

  /** Total bytes of all initializers (to decide whether a model needs external data). */
  initializerBytes(): number {
    return this.initializers.reduce((sum, { value }) => sum + value.data.byteLength, 0);
  }
}

/**
 * A model file's inputs and outputs read from its protobuf, without creating a session (which for SD's UNet
 * means loading 3.4 GB of weights): what `npm run doctor` shows and checks the contract on.
 */
import { readFile } from 'node:fs/promises';
import type { ModelSignature, TensorInfo } from '../engine/models/contract.js';
import { DataType, decodeModel, type ValueInfoMessage } from './proto.js';

/** onnxruntime's names for the element types exports use. */
const TYPE_NAMES: Readonly<Record<number, string>> = {
  [DataType.FLOAT]: 'float32',
  [DataType.FLOAT16]: 'float16',
  [DataType.DOUBLE]: 'float64',
  [DataType.INT64]: 'int64',
  [DataType.INT32]: 'int32',
  [DataType.INT8]: 'int8',
  [DataType.UINT8]: 'uint8',
  [DataType.BOOL]: 'bool',
};

function tensorInfo(value: ValueInfoMessage): TensorInfo {
  const t = value.type.tensor_type;
  return {
    name: value.name,
    type: TYPE_NAMES[t.elem_type] ?? `type ${t.elem_type}`,
    shape: (t.shape?.dim ?? []).map((d) => (d.dim_value !== undefined ? Number(d.dim_value) : (d.dim_param ?? ''))),
  };
}

/** The signature of `file` as session metadata would give it (initializers listed as inputs left out). */
export async function signatureFromFile(file: string): Promise<ModelSignature> {
  const graph = decodeModel(await readFile(file)).graph;
  const initializers = new Set(graph.initializer.map((t) => t.name));
  return { file, inputs: graph.input.filter((i) => !initializers.has(i.name)).map(tensorInfo), outputs: graph.output.map(tensorInfo) };
}

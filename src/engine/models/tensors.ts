/**
 * Builds input tensors and reads output tensors in whatever element type the model's contract says, so the
 * pipeline only ever handles Float32Arrays.
 */
import * as ort from 'onnxruntime-node';
import { float16ToFloat32, float32ToFloat16 } from './float16.js';
import type { FloatType } from './contract.js';

/** A float tensor of the given element type from float32 values. */
export function floatTensor(type: FloatType, data: Float32Array, dims: readonly number[]): ort.Tensor {
  return type === 'float16' ? new ort.Tensor('float16', float32ToFloat16(data), dims) : new ort.Tensor('float32', data, dims);
}

/** An integer tensor (int32 or int64) from numbers. */
export function intTensor(type: 'int32' | 'int64', data: ArrayLike<number>, dims: readonly number[]): ort.Tensor {
  if (type === 'int32') return new ort.Tensor('int32', Int32Array.from(data), dims);
  const big = new BigInt64Array(data.length);
  for (let i = 0; i < data.length; i++) big[i] = BigInt(data[i] as number);
  return new ort.Tensor('int64', big, dims);
}

/** A float32 copy (or view) of a float output, whether the model produced float32 or float16. */
export function readFloats(tensor: ort.Tensor | undefined, what: string): Float32Array {
  if (tensor === undefined) throw new Error(`${what}: the model returned no such output`);
  const data = tensor.data;
  if (data instanceof Float32Array) return data;
  if (data instanceof Uint16Array) return float16ToFloat32(data);
  throw new Error(`${what}: unexpected output element type ${tensor.type}`);
}

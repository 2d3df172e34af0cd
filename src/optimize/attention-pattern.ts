/**
 * Recognises one attention block around a Softmax node, as torch.onnx writes it, and says what a
 * com.microsoft.MultiHeadAttention node needs to replace it: the 3-D query, key and value projections [B, N, C],
 * the head count and the scale. Two exporter patterns (see test/fixtures/sd-real-arch/README.md):
 *
 * - torch 1.13 (diffusers' AttnProcessor): heads folded into the batch, Reshape [B,N,h,d] -> Transpose(0,2,1,3)
 *   -> Reshape [B·h,N,d]; scores = Mul(MatMul(q, Transpose(k, 0,2,1)), scale) + Mul(ConstantOfShape, 0);
 *   Softmax(-1) -> Cast(float) -> MatMul(·, v); merge Reshape [B,h,N,d] -> Transpose(0,2,1,3) -> Reshape [B,N,C].
 * - torch >= 2.1 (scaled_dot_product_attention, opset 14): 4-D heads; Mul(q, Sqrt(s)), Mul(Transpose(k, 0,1,3,2),
 *   Sqrt(s)) with s = 1/sqrt(d) computed from Shape(q); MatMul -> Softmax -> MatMul; Transpose(0,2,1,3) -> Reshape.
 *
 * Anything else gives a reason instead of a match: the block is left as it is.
 */
import { constantNumbers, intAttribute, intsAttribute, tensorNumbers, type GraphIndex } from '../onnx/graph-index.js';
import { DataType, type NodeMessage } from '../onnx/proto.js';

/** What replaces one attention block. */
export interface AttentionMatch {
  /** [B, N, C] query, [B, M, C] key and value: the projections before the head split. */
  readonly query: string;
  readonly key: string;
  readonly value: string;
  readonly heads: number;
  /** The factor applied to q·kᵀ before the Softmax. */
  readonly scale: number;
  /** The node whose output is the merged [B, N, C] result: MultiHeadAttention takes its place. */
  readonly output: NodeMessage;
}

export type AttentionMatchResult = { readonly ok: true; readonly match: AttentionMatch } | { readonly ok: false; readonly reason: string };

class NoMatch extends Error {}

function fail(reason: string): never {
  throw new NoMatch(reason);
}

const sameInts = (a: readonly number[] | undefined, b: readonly number[]): boolean =>
  a !== undefined && a.length === b.length && a.every((v, i) => v === b[i]);

/** Matches the attention block whose Softmax is `softmax`. */
export function matchAttention(index: GraphIndex, softmax: NodeMessage): AttentionMatchResult {
  try {
    return { ok: true, match: new Matcher(index).match(softmax) };
  } catch (error) {
    if (error instanceof NoMatch) return { ok: false, reason: error.message };
    throw error;
  }
}

interface HeadSplit {
  /** The [B, N, C] tensor before the split. */
  readonly input: string;
  readonly heads: number;
  /** Head size when the graph says it (a constant in the Reshape, or C / heads from a projection weight). */
  readonly headSize: number | undefined;
}

class Matcher {
  constructor(private readonly index: GraphIndex) {}

  private producer(value: string, what: string): NodeMessage {
    return this.index.producer(value) ?? fail(`${what} is not computed by a node`);
  }

  match(softmax: NodeMessage): AttentionMatch {
    if (intAttribute(softmax, 'axis', 1) !== -1) fail('Softmax is not over the last axis (axis = -1)');
    const scores = this.scoresMatMul(softmax.input[0] ?? '');
    const probsMatMul = this.probsMatMul(softmax.output[0] ?? '');
    const qSide = this.stripScale(scores.node.input[0] ?? '');
    const kSide = this.stripScale(scores.node.input[1] ?? '');
    const query = this.headSplit(qSide.value, 'query');
    const key = this.transposedKey(kSide.value);
    const value = this.headSplit(probsMatMul.input[1] ?? '', 'value');
    if (query.heads !== key.heads || query.heads !== value.heads) fail(`head counts differ: q ${query.heads}, k ${key.heads}, v ${value.heads}`);
    const headSize = query.headSize ?? key.headSize ?? value.headSize;
    const scale = scores.scale * this.scaleValue(qSide.factors, headSize) * this.scaleValue(kSide.factors, headSize);
    return {
      query: query.input,
      key: key.input,
      value: value.input,
      heads: query.heads,
      scale,
      output: this.headMerge(probsMatMul.output[0] ?? ''),
    };
  }

  /** Walks from the Softmax input back to the q·kᵀ MatMul over no-op casts, a zero Add and constant scalings. */
  private scoresMatMul(start: string): { node: NodeMessage; scale: number } {
    let value = start;
    let scale = 1;
    for (;;) {
      const node = this.producer(value, 'the Softmax input');
      const [a = '', b = ''] = node.input;
      if (node.op_type === 'MatMul') return { node, scale };
      if (node.op_type === 'Cast' && intAttribute(node, 'to', 0) === DataType.FLOAT) value = a;
      else if (node.op_type === 'Add' && this.isZeros(b)) value = a;
      else if (node.op_type === 'Add' && this.isZeros(a)) value = b;
      else if (node.op_type === 'Mul' && (this.scalar(a) ?? this.scalar(b)) !== undefined) {
        const aIsFactor = this.scalar(a) !== undefined;
        scale *= (aIsFactor ? this.scalar(a) : this.scalar(b)) as number;
        value = aIsFactor ? b : a;
      } else if (node.op_type === 'Div' && this.scalar(b) !== undefined) {
        scale /= this.scalar(b) as number;
        value = a;
      } else fail(`unexpected ${node.op_type} between the scores MatMul and the Softmax`);
    }
  }

  /** The MatMul(probabilities, v) after the Softmax, over no-op casts. */
  private probsMatMul(start: string): NodeMessage {
    let value = start;
    for (;;) {
      const readers = this.index.consumers(value);
      const [node] = readers;
      if (readers.length !== 1 || node === undefined) fail('the attention probabilities have other readers than one MatMul');
      if (node.op_type === 'MatMul' && node.input[0] === value) return node;
      if (node.op_type !== 'Cast' || intAttribute(node, 'to', 0) !== DataType.FLOAT) fail(`unexpected ${node.op_type} after the Softmax`);
      value = node.output[0] ?? '';
    }
  }

  /** Strips Mul nodes (by constants, or by SDPA's shape-derived sqrt(scale)) off q or kᵀ; returns what they multiply. */
  private stripScale(start: string): { value: string; factors: string[] } {
    let value = start;
    const factors: string[] = [];
    for (let node = this.index.producer(value); node?.op_type === 'Mul'; node = this.index.producer(value)) {
      const [a = '', b = ''] = node.input;
      // The scaled operand is the one with a head split behind it; the factor is a scalar-valued expression.
      const aIsFactor = this.isScalarExpression(a);
      factors.push(aIsFactor ? a : b);
      value = aIsFactor ? b : a;
    }
    return { value, factors };
  }

  private transposedKey(value: string): HeadSplit {
    const node = this.producer(value, 'the key');
    if (node.op_type !== 'Transpose') fail(`the key reaches the scores through ${node.op_type}, not a Transpose`);
    const perm = intsAttribute(node, 'perm');
    // [0,2,3,1] transposes straight from the [B, N, h, d] reshape (heads first, key last).
    if (sameInts(perm, [0, 2, 3, 1])) return this.reshapeToHeads(node.input[0] ?? '', 'key');
    if (!sameInts(perm, [0, 2, 1]) && !sameInts(perm, [0, 1, 3, 2])) fail(`the key's Transpose has perm [${perm?.join(',') ?? ''}]`);
    return this.headSplit(this.stripScale(node.input[0] ?? '').value, 'key');
  }

  /** [Reshape to [B·h, N, d]] <- Transpose(0,2,1,3) <- Reshape(x, [B, N, h, d]). */
  private headSplit(value: string, what: string): HeadSplit {
    let node = this.producer(value, what);
    if (node.op_type === 'Reshape') node = this.producer(node.input[0] ?? '', what);
    if (node.op_type !== 'Transpose' || !sameInts(intsAttribute(node, 'perm'), [0, 2, 1, 3])) {
      fail(`the ${what} head split has ${node.op_type} where Transpose(0,2,1,3) was expected`);
    }
    return this.reshapeToHeads(node.input[0] ?? '', what);
  }

  private reshapeToHeads(value: string, what: string): HeadSplit {
    const reshape = this.producer(value, what);
    if (reshape.op_type !== 'Reshape') fail(`the ${what} head split starts with ${reshape.op_type}, not Reshape`);
    const shape = this.shapeEntries(reshape.input[1] ?? '');
    const heads = shape?.[2];
    if (shape?.length !== 4 || heads === undefined || !(heads > 0)) fail(`the ${what} head count is not a constant in its Reshape`);
    const input = reshape.input[0] ?? '';
    const width = this.projectionWidth(input);
    const headSize = shape[3] !== undefined && shape[3] > 0 ? shape[3] : width === undefined ? undefined : width / heads;
    return { input, heads, headSize };
  }

  /** A Reshape's target shape: known constants, undefined where computed at run time. */
  private shapeEntries(value: string): (number | undefined)[] | undefined {
    const constant = constantNumbers(this.index, value);
    if (constant !== undefined) return constant;
    const node = this.index.producer(value);
    if (node?.op_type !== 'Concat') return undefined;
    const parts = node.input.map((input) => {
      const numbers = constantNumbers(this.index, input);
      if (numbers !== undefined) return numbers;
      const unsqueeze = this.index.producer(input);
      // A scalar made 1-D: a constant one if its input is constant, else one unknown entry.
      if (unsqueeze?.op_type === 'Unsqueeze') return constantNumbers(this.index, unsqueeze.input[0] ?? '') ?? [undefined];
      return undefined;
    });
    return parts.some((p) => p === undefined) ? undefined : parts.flatMap((p) => p ?? []);
  }

  /** C of a projection output: the last dimension of its MatMul weight or of its bias. */
  private projectionWidth(value: string): number | undefined {
    const node = this.index.producer(value);
    if (node === undefined || (node.op_type !== 'MatMul' && node.op_type !== 'Add')) return undefined;
    for (const input of node.input) {
      const dims = this.index.constant(input)?.dims;
      const last = dims?.[dims.length - 1];
      // A MatMul's [C_in, C] weight, or an Add's [C] bias.
      if (last !== undefined && (node.op_type === 'Add' || dims?.length === 2)) return Number(last);
      if (node.op_type === 'Add') {
        const inner = this.projectionWidth(input);
        if (inner !== undefined) return inner;
      }
    }
    return undefined;
  }

  /** [B, h, N, d] -> [Reshape] -> Transpose(0,2,1,3) -> Reshape [B, N, C]: the final Reshape. */
  private headMerge(start: string): NodeMessage {
    const next = (value: string): NodeMessage => {
      // Shape nodes read the intermediate values to compute the merge's own target shapes.
      const readers = this.index.consumers(value).filter((n) => n.op_type !== 'Shape');
      const [node] = readers;
      if (readers.length !== 1 || node === undefined) fail('the attention result has more than one reader');
      return node;
    };
    let node = next(start);
    if (node.op_type === 'Reshape') node = next(node.output[0] ?? '');
    if (node.op_type !== 'Transpose' || !sameInts(intsAttribute(node, 'perm'), [0, 2, 1, 3]))
      fail(`the head merge has ${node.op_type} where Transpose(0,2,1,3) was expected`);
    const reshape = next(node.output[0] ?? '');
    if (reshape.op_type !== 'Reshape') fail(`the head merge ends with ${reshape.op_type}, not Reshape`);
    const shape = this.shapeEntries(reshape.input[1] ?? '');
    if (shape !== undefined && shape.length !== 3) fail('the head merge does not reshape to 3-D [B, N, C]');
    return reshape;
  }

  private isZeros(value: string): boolean {
    const node = this.index.producer(value);
    if (node?.op_type === 'ConstantOfShape') {
      const fill = node.attribute.find((a) => a.name === 'value')?.t;
      return fill === undefined || (tensorNumbers(fill) ?? [1]).every((v) => v === 0);
    }
    if (node?.op_type === 'Mul') return node.input.some((input) => this.scalar(input) === 0);
    const numbers = constantNumbers(this.index, value);
    return numbers !== undefined && numbers.every((v) => v === 0);
  }

  /** A constant holding one number. */
  private scalar(value: string): number | undefined {
    const numbers = constantNumbers(this.index, value);
    return numbers?.length === 1 ? numbers[0] : undefined;
  }

  /** True for a constant scalar or an expression computed only from constants and shapes. */
  private isScalarExpression(value: string): boolean {
    if (this.scalar(value) !== undefined) return true;
    const node = this.index.producer(value);
    if (node === undefined) return false;
    if (node.op_type === 'Shape') return true;
    return (
      ['Sqrt', 'Cast', 'Div', 'Mul', 'Reciprocal', 'Slice', 'Gather'].includes(node.op_type) &&
      node.input.every((i) => i === '' || this.isScalarExpression(i))
    );
  }

  /** The product of the factors' values; a shape-derived one reads the head size for the last dimension. */
  private scaleValue(factors: readonly string[], headSize: number | undefined): number {
    return factors.reduce((product, factor) => product * this.evaluate(factor, headSize), 1);
  }

  private evaluate(value: string, headSize: number | undefined): number {
    const constant = this.scalar(value);
    if (constant !== undefined) return constant;
    const node = this.producer(value, 'a scale factor');
    const [a = '', b = ''] = node.input;
    switch (node.op_type) {
      case 'Cast':
        return this.evaluate(a, headSize);
      case 'Sqrt':
        return Math.sqrt(this.evaluate(a, headSize));
      case 'Reciprocal':
        return 1 / this.evaluate(a, headSize);
      case 'Div':
        return this.evaluate(a, headSize) / this.evaluate(b, headSize);
      case 'Mul':
        return this.evaluate(a, headSize) * this.evaluate(b, headSize);
      case 'Slice':
      case 'Gather': {
        // SDPA's scale reads the last dimension of q's shape: the head size.
        const source = this.index.producer(a);
        const start = node.op_type === 'Slice' ? constantNumbers(this.index, b)?.[0] : this.scalar(b);
        if (source?.op_type !== 'Shape' || start !== -1 || headSize === undefined)
          fail('a scale factor reads a shape entry other than the head size');
        return headSize;
      }
      default:
        return fail(`a scale factor is computed by ${node.op_type}`);
    }
  }
}

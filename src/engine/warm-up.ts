/**
 * The UNet batch sizes a job will use, so the warm-up runs exactly those: onnxruntime plans memory per input
 * shape, and the first call at each new shape pays for it (seconds for an unfused SD UNet on the CPU).
 */
import { decodeCallSizes } from './diffedit/edit.js';
import { maskCallSizes } from './diffedit/mask.js';

/**
 * Inversion (1 item), guided decoding (2, and the calls of the default number of candidates) and the sizes of the
 * mask's calls, each once, smallest first.
 */
export function unetBatchSizes(maskDraws: number, maxBatch: number, variations = 1): number[] {
  return [...new Set([1, 2, ...decodeCallSizes(variations, maxBatch), ...maskCallSizes(maskDraws, maxBatch)])].sort((a, b) => a - b);
}

/**
 * The UNet batch sizes a job will use, so the warm-up runs exactly those: onnxruntime plans memory per input
 * shape, and the first call at each new shape pays for it (seconds for an unfused SD UNet on the CPU).
 */
import { maskCallSizes } from './diffedit/mask.js';

/** Inversion (1 item), guided decoding (2) and the sizes of the mask's calls, each once, smallest first. */
export function unetBatchSizes(maskDraws: number, maxBatch: number): number[] {
  return [...new Set([1, 2, ...maskCallSizes(maskDraws, maxBatch)])].sort((a, b) => a - b);
}

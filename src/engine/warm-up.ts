/**
 * The UNet batch sizes a job will use, so the warm-up runs exactly those: onnxruntime plans memory per input
 * shape, and the first call at each new shape pays for it (seconds for an unfused SD UNet on the CPU).
 */

/** Inversion (1 item), guided decoding (2) and the mask's calls: 2 x draws items cut into chunks of maxBatch. */
export function unetBatchSizes(maskDraws: number, maxBatch: number): number[] {
  const items = 2 * maskDraws;
  const perCall = Math.max(1, Math.floor(maxBatch));
  const sizes = [1, 2, Math.min(perCall, items), items % perCall];
  return [...new Set(sizes.filter((n) => n > 0))].sort((a, b) => a - b);
}

/**
 * What the demo model must achieve at the engine's defaults on held-out scenes: the quality tests assert these and
 * `npm run bench:quality` prints them beside its measurements. Each is the measured median (docs/quality.md) with
 * a margin for other machines' floating-point differences; each fails when the engine's maths is broken (the
 * breakages tried are listed in docs/quality.md).
 */
export const QUALITY_THRESHOLDS = {
  /** Median mask IoU with the changed object's ground truth (colour edits, 16 scenes, one or two objects). */
  maskIou: 0.3,
  /** Median share of the changed object's mask that falls on the other object of two-object scenes (at most). */
  otherObjectShare: 0.4,
  /** Median share of the object's pixels nearer the query colour than the ref colour after a colour edit. */
  colourSuccess: 0.5,
  /** Inversion round trip (query = ref, whole picture, eta 0, guidance 1): pixel MSE (0..255) vs the VAE round trip. */
  roundTripMse: 6,
  /** Without compositing: mean |decoded - VAE round trip| outside the mask dilated by 2 latent cells, at most. */
  uncompositedBackgroundError: 0.18,
  /** Masks of the optimised copies (fp32, fp16) vs the original's: median IoU, at least. */
  variantMaskIou: 0.95,
} as const satisfies Record<string, number>;

/**
 * How many pixels one latent cell spans per side (the VAE's spatial factor). SD v1's VAE has 8, but a VAE with
 * fewer blocks (the tiny real-architecture ones have 2) is just as valid, so the factor is read, never assumed:
 * from the VAE config when the export has one (diffusers: 2 ** (len(block_out_channels) - 1)), else from what the
 * decoder graph does to a small latent.
 */
import { DiffEditError, ErrorCode } from '../../errors.js';

/** Side of the latent the decoder is probed with: small (cheap even for SD's decoder) and divisible by 8. */
export const PROBE_LATENT_SIDE = 8;

/** Picture sides are multiples of 64 (see image/dimensions.ts): up to 8 they stay whole, even numbers of latent cells. */
const MAX_FACTOR = 8;

function isAcceptedFactor(factor: number): boolean {
  return Number.isInteger(factor) && factor >= 1 && factor <= MAX_FACTOR && (factor & (factor - 1)) === 0;
}

/** The factor a diffusers VAE config (`file`) implies, or undefined when the config does not say. */
export function scaleFactorFromConfig(file: string, config: Readonly<Record<string, unknown>>): number | undefined {
  const blocks = config['block_out_channels'];
  if (!Array.isArray(blocks) || blocks.length === 0) return undefined;
  const factor = 2 ** (blocks.length - 1);
  if (!isAcceptedFactor(factor)) throw refusal(file, `block_out_channels has ${blocks.length} entries (factor ${factor})`, { factor });
  return factor;
}

/**
 * The factor seen when the decoder turned a [1, 4, PROBE_LATENT_SIDE, PROBE_LATENT_SIDE] latent into `outputDims`.
 * Refuses anything that is not an RGB picture grown by the same power of two on both sides.
 */
export function scaleFactorFromProbe(file: string, outputDims: readonly number[]): number {
  const [batch, channels, height, width] = outputDims;
  const factor = (height ?? 0) / PROBE_LATENT_SIDE;
  if (outputDims.length !== 4 || batch !== 1 || channels !== 3 || height !== width || !isAcceptedFactor(factor)) {
    const side = PROBE_LATENT_SIDE;
    throw refusal(file, `a [1, 4, ${side}, ${side}] latent decoded to [${outputDims.join(', ')}], not [1, 3, ${side}·f, ${side}·f]`, {
      dims: [...outputDims],
    });
  }
  return factor;
}

function refusal(file: string, found: string, details: Record<string, unknown>): DiffEditError {
  return new DiffEditError(
    ErrorCode.ModelContractMismatch,
    `${file}: the VAE's spatial factor must be 1, 2, 4 or 8 (a power of two up to SD's 8); ${found}.`,
    { file, ...details },
  );
}

/** The model size when neither MODEL_SIZE nor the export's unet/config.json says: SD v1's 512. */
export const SD_V1_MODEL_SIZE = 512;

/**
 * The model's own working size (the picture's longer side): the UNet's trained `sample_size` in latent cells times
 * the VAE's factor (SD 1.5: 64 x 8 = 512, SD 2.1: 96 x 8 = 768, SD 2.1-base 512, SDXL: 128 x 8 = 1024), rounded to
 * the nearest multiple of 64 the picture sides need (never below 64); `fallback` when the export has no UNet config.
 */
export function modelSizeFromConfig(sampleSize: number | undefined, vaeScaleFactor: number, fallback: number = SD_V1_MODEL_SIZE): number {
  if (sampleSize === undefined) return fallback;
  return Math.max(64, Math.round((sampleSize * vaeScaleFactor) / 64) * 64);
}

/**
 * Region size ("Smaller area" / "Larger area"): the same difference map, thresholded tighter or wider. Step 0 is the
 * automatic threshold (mask-stats.ts); each step up keeps the 1.4x as many highest cells of the map (each step down
 * 0.7x), and at least {@link MIN_AREA_STEP_CELLS} more (fewer), so that a step always changes the region. Keeping the
 * k highest cells, ties broken by position, makes the regions nested: a smaller area lies strictly inside a larger
 * one, and step 0's region is exactly the automatic mask (which keeps every cell above a value, so the highest ones).
 */
import { blurDilate, thresholdMap, type MaskThresholding } from './mask-stats.js';

/** Coverage factor of one step up. */
export const AREA_GROWTH = 1.4;
/** Coverage factor of one step down. */
export const AREA_SHRINK = 0.7;
/** The least change of one step, in latent cells (64 x 64 cells at 512 px: 0.1% of the picture each). */
export const MIN_AREA_STEP_CELLS = 4;

/** Cells the region has `step` steps away from `baseCells`, the automatic threshold's; may leave 1..cells. */
export function areaCells(baseCells: number, step: number): number {
  let cells = baseCells;
  for (let i = 0; i < step; i++) cells = Math.max(cells + MIN_AREA_STEP_CELLS, Math.round(cells * AREA_GROWTH));
  for (let i = 0; i > step; i--) cells = Math.min(cells - MIN_AREA_STEP_CELLS, Math.round(cells * AREA_SHRINK));
  return cells;
}

/** 1 on the `count` highest cells of `map` (equal values: the earlier cell first), 0 elsewhere. */
export function highestCells(map: Float32Array, count: number): Float32Array {
  const order = Array.from(map.keys()).sort((a, b) => (map[b] as number) - (map[a] as number) || a - b);
  const mask = new Float32Array(map.length);
  for (const index of order.slice(0, Math.max(0, count))) mask[index] = 1;
  return mask;
}

/** How the difference map becomes the mask at a step. */
export interface AreaOptions {
  readonly thresholding: MaskThresholding;
  /** Blur-dilation passes applied after the selection (as for the automatic mask). */
  readonly dilate: number;
  readonly width: number;
  readonly height: number;
}

/** The region at one step, and the sizes a caller checks before using it. */
export interface AreaMask {
  /** 0/1 per latent cell. */
  readonly mask: Float32Array;
  /** Cells the automatic threshold selects (before dilation). */
  readonly baseCells: number;
  /** Cells this step asks for (before dilation): at most 0 empties the region, all cells take the whole picture. */
  readonly cells: number;
}

/** The mask `step` steps from the automatic threshold of `map`. */
export function maskAtArea(map: Float32Array, step: number, options: AreaOptions): AreaMask {
  const automatic = thresholdMap(map, options.thresholding);
  const baseCells = automatic.reduce((n, v) => n + v, 0);
  const cells = step === 0 ? baseCells : areaCells(baseCells, step);
  const selected = step === 0 ? automatic : highestCells(map, cells);
  const mask = options.dilate > 0 ? blurDilate(selected, options.width, options.height, options.dilate) : selected;
  return { mask, baseCells, cells };
}

/**
 * The pictures the bot posts: the input / mask / output triptych, the mask overlay alone, and plain PNGs.
 * Panels are laid out in a raw buffer (exact pixels, no resampling), then captions are composited on top.
 */
import sharp from 'sharp';
import { CAPTION_HEIGHT, renderCaptionStrip, type CaptionSlot } from './caption.js';
import { maskOverlay } from './overlay.js';
import { assertRgbImage, type GrayMask, type RgbImage } from './types.js';

/** Pixels of background between two panels. */
export const PANEL_GUTTER = 8;

/** Background of gutters and the caption strip: Discord's dark theme, so the picture sits flush in chat. */
export const PANEL_BACKGROUND: readonly [number, number, number] = [0x1e, 0x1f, 0x22];

/** Captions under the three panels of {@link renderPanel}; each falls back to its panel's name. */
export interface PanelCaptions {
  /** Under the input (default "input"). */
  readonly input?: string;
  /** Under the mask overlay (default "mask"). */
  readonly mask?: string;
  /** Under the output (default "output"). */
  readonly output?: string;
}

/**
 * One PNG with three panels side by side, each the size of `input`: the input, the mask drawn over the input
 * (see {@link maskOverlay}), and the output; {@link PANEL_GUTTER} pixels between panels and a
 * {@link CAPTION_HEIGHT}-pixel caption strip underneath. Its size is therefore
 * `(3 * width + 2 * PANEL_GUTTER) x (height + CAPTION_HEIGHT)`. Captions are plain text (escaped, ellipsized).
 *
 * @throws RangeError when the mask or the output does not have the input's dimensions.
 */
export async function renderPanel(input: RgbImage, mask: GrayMask, output: RgbImage, captions: PanelCaptions = {}): Promise<Buffer> {
  assertRgbImage(input, 'input');
  assertRgbImage(output, 'output');
  if (output.width !== input.width || output.height !== input.height) {
    throw new RangeError(`output is ${output.width}x${output.height}, input is ${input.width}x${input.height}`);
  }
  const overlay = maskOverlay(input, mask);
  const { width } = input;
  const panels = [input, overlay, output];
  const texts = [captions.input ?? 'input', captions.mask ?? 'mask', captions.output ?? 'output'];
  const slots = texts.map((text, i): CaptionSlot => ({ text, left: i * (width + PANEL_GUTTER), width }));
  return compose(panels, slots);
}

/**
 * The panel of a job with several candidates: the input, the mask overlay, then each candidate, side by side (the
 * same layout as {@link renderPanel}, with one output panel per candidate), captioned by `captions.outputs[i]`.
 *
 * @throws RangeError when the mask or an output does not have the input's dimensions.
 */
export async function renderCandidates(
  input: RgbImage,
  mask: GrayMask,
  outputs: readonly RgbImage[],
  captions: { readonly input: string; readonly mask: string; readonly outputs: readonly string[] },
): Promise<Buffer> {
  assertRgbImage(input, 'input');
  for (const output of outputs) {
    assertRgbImage(output, 'output');
    if (output.width !== input.width || output.height !== input.height) {
      throw new RangeError(`output is ${output.width}x${output.height}, input is ${input.width}x${input.height}`);
    }
  }
  const { width } = input;
  const texts = [captions.input, captions.mask, ...outputs.map((_, i) => captions.outputs[i] ?? `${i + 1}`)];
  const slots = texts.map((text, i): CaptionSlot => ({ text, left: i * (width + PANEL_GUTTER), width }));
  return compose([input, maskOverlay(input, mask), ...outputs], slots);
}

/**
 * `png` scaled down by halves until it takes at most `maxBytes` (a wide panel of several candidates must fit within
 * the upload limit); itself when it already fits, undefined when even a 64-px-wide version does not.
 */
export async function pngWithin(png: Buffer, maxBytes: number): Promise<Buffer | undefined> {
  let current = png;
  let { width = 0 } = await sharp(png).metadata();
  while (current.length > maxBytes) {
    width = Math.floor(width / 2);
    if (width < 64) return undefined;
    current = await sharp(png).resize({ width }).png().toBuffer();
  }
  return current;
}

/**
 * A PNG of the mask drawn over the input (see {@link maskOverlay}) at the input's size; with a `caption`, a
 * {@link CAPTION_HEIGHT}-pixel strip holding it is added underneath.
 *
 * @throws RangeError when the mask does not have the input's dimensions.
 */
export async function renderMaskImage(input: RgbImage, mask: GrayMask, caption?: string): Promise<Buffer> {
  const overlay = maskOverlay(input, mask);
  if (caption === undefined) return encodePng(overlay);
  return compose([overlay], [{ text: caption, left: 0, width: input.width }]);
}

/** The picture as a PNG. */
export async function encodePng(img: RgbImage): Promise<Buffer> {
  assertRgbImage(img);
  return sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
    .png()
    .toBuffer();
}

/** Same-sized panels side by side over the background, a caption strip below, encoded as PNG. */
async function compose(panels: readonly RgbImage[], slots: readonly CaptionSlot[]): Promise<Buffer> {
  const first = panels[0];
  if (first === undefined) throw new RangeError('compose: no panels');
  const { width: panelWidth, height: panelHeight } = first;
  const width = panels.length * panelWidth + (panels.length - 1) * PANEL_GUTTER;
  const height = panelHeight + CAPTION_HEIGHT;

  const canvas = new Uint8Array(3 * width * height);
  const [br, bg, bb] = PANEL_BACKGROUND;
  for (let p = 0; p < canvas.length; p += 3) {
    canvas[p] = br;
    canvas[p + 1] = bg;
    canvas[p + 2] = bb;
  }
  panels.forEach((panel, i) => {
    const left = i * (panelWidth + PANEL_GUTTER);
    const rowBytes = 3 * panelWidth;
    for (let y = 0; y < panelHeight; y++) {
      canvas.set(panel.data.subarray(y * rowBytes, (y + 1) * rowBytes), 3 * (y * width + left));
    }
  });

  const strip = await renderCaptionStrip(width, slots);
  const image = sharp(canvas, { raw: { width, height, channels: 3 } });
  if (strip !== undefined) image.composite([{ input: strip, left: 0, top: panelHeight }]);
  // composite() may add an alpha channel; the posted picture is opaque.
  return image.removeAlpha().png().toBuffer();
}

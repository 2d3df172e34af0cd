import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { CAPTION_HEIGHT } from '../../../src/engine/image/caption.js';
import { OVERLAY_COLOUR, OVERLAY_DIM, OVERLAY_TINT } from '../../../src/engine/image/overlay.js';
import { encodePng, PANEL_BACKGROUND, PANEL_GUTTER, renderMaskImage, renderPanel } from '../../../src/engine/image/render.js';
import type { GrayMask, RgbImage } from '../../../src/engine/image/types.js';
import { pixel, rawRgb } from './fixtures.js';

const SIDE = 64;
const input: RgbImage = { width: SIDE, height: SIDE, data: rawRgb(SIDE, SIDE, (x, y) => [x * 4, y * 4, 100]) };
const output: RgbImage = { width: SIDE, height: SIDE, data: rawRgb(SIDE, SIDE, (x, y) => [255 - x * 4, 30, y * 4]) };
// On inside the square [16, 48) x [16, 48).
const mask: GrayMask = {
  width: SIDE,
  height: SIDE,
  data: Uint8Array.from({ length: SIDE * SIDE }, (_v, i) => {
    const x = i % SIDE;
    const y = Math.floor(i / SIDE);
    return x >= 16 && x < 48 && y >= 16 && y < 48 ? 255 : 0;
  }),
};

async function decode(png: Buffer): Promise<{ data: Uint8Array; width: number; height: number; channels: number }> {
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels };
}

const tinted = (x: number, y: number): number[] =>
  pixel(input.data, SIDE, x, y).map((v, c) => Math.round(v * (1 - OVERLAY_TINT) + OVERLAY_COLOUR[c]! * OVERLAY_TINT));
const dimmed = (x: number, y: number): number[] => pixel(input.data, SIDE, x, y).map((v) => Math.round(v * OVERLAY_DIM));

/** True when some pixel of the strip under the panel starting at `left` differs from the background. */
function hasInk(img: { data: Uint8Array; width: number; channels: number }, left: number, top: number): boolean {
  for (let y = top; y < top + CAPTION_HEIGHT; y++) {
    for (let x = left; x < left + SIDE; x++) {
      if (pixel(img.data, img.width, x, y, img.channels).some((v, c) => v !== PANEL_BACKGROUND[c])) return true;
    }
  }
  return false;
}

describe('renderPanel', () => {
  it('lays out input, mask overlay and output side by side with gutters and a caption strip', async () => {
    const img = await decode(await renderPanel(input, mask, output));
    expect(img.width).toBe(3 * SIDE + 2 * PANEL_GUTTER);
    expect(img.height).toBe(SIDE + CAPTION_HEIGHT);
    expect(img.channels).toBe(3);
    const at = (panel: number, x: number, y: number): number[] => pixel(img.data, img.width, panel * (SIDE + PANEL_GUTTER) + x, y);

    // Left panel is the input, right panel the output, pixel for pixel.
    for (const [x, y] of [
      [0, 0],
      [10, 20],
      [40, 30],
      [63, 63],
    ] as const) {
      expect(at(0, x, y)).toEqual(pixel(input.data, SIDE, x, y));
      expect(at(2, x, y)).toEqual(pixel(output.data, SIDE, x, y));
    }
    // Middle panel: tinted inside the mask, dimmed outside, solid contour on the mask's edge.
    expect(at(1, 32, 32)).toEqual(tinted(32, 32));
    expect(at(1, 25, 40)).toEqual(tinted(25, 40));
    expect(at(1, 5, 5)).toEqual(dimmed(5, 5));
    expect(at(1, 60, 30)).toEqual(dimmed(60, 30));
    expect(at(1, 16, 32)).toEqual([...OVERLAY_COLOUR]);
    expect(at(1, 32, 47)).toEqual([...OVERLAY_COLOUR]);
    // Gutters are background.
    expect(pixel(img.data, img.width, SIDE + PANEL_GUTTER / 2, 10)).toEqual([...PANEL_BACKGROUND]);
    expect(pixel(img.data, img.width, 2 * SIDE + PANEL_GUTTER + PANEL_GUTTER / 2, 50)).toEqual([...PANEL_BACKGROUND]);
  });

  it('writes a caption under each panel when fonts are available', async ({ skip }) => {
    const blank = await decode(await renderPanel(input, mask, output, { input: '', mask: '', output: '' }));
    const img = await decode(await renderPanel(input, mask, output));
    if (!hasInk(img, 0, SIDE) && !hasInk(img, 2 * (SIDE + PANEL_GUTTER), SIDE)) skip('no font could render text here');
    for (let panel = 0; panel < 3; panel++) {
      expect(hasInk(img, panel * (SIDE + PANEL_GUTTER), SIDE)).toBe(true);
      expect(hasInk(blank, panel * (SIDE + PANEL_GUTTER), SIDE)).toBe(false);
    }
  });

  it('accepts captions with markup and any length without changing the layout', async () => {
    const long = `<b>"fish" & 'chips'</b> ]]> ${'a very long prompt '.repeat(40)}`;
    const img = await decode(await renderPanel(input, mask, output, { input: long, mask: '\u0000\n', output: '🐟🍟' }));
    expect(img.width).toBe(3 * SIDE + 2 * PANEL_GUTTER);
    expect(img.height).toBe(SIDE + CAPTION_HEIGHT);
    // A long caption is clipped to its panel: the gutter strip next to it stays background.
    for (let y = SIDE; y < SIDE + CAPTION_HEIGHT; y++) {
      expect(pixel(img.data, img.width, SIDE + PANEL_GUTTER / 2, y)).toEqual([...PANEL_BACKGROUND]);
    }
  });

  it('refuses an output or mask of other dimensions', async () => {
    const small: RgbImage = { width: 8, height: 8, data: new Uint8Array(3 * 64) };
    await expect(renderPanel(input, mask, small)).rejects.toThrow(RangeError);
    await expect(renderPanel(input, { width: 8, height: 8, data: new Uint8Array(64) }, output)).rejects.toThrow(RangeError);
  });
});

describe('renderMaskImage', () => {
  it('is the overlay panel alone without a caption', async () => {
    const img = await decode(await renderMaskImage(input, mask));
    expect([img.width, img.height, img.channels]).toEqual([SIDE, SIDE, 3]);
    expect(pixel(img.data, SIDE, 32, 32)).toEqual(tinted(32, 32));
    expect(pixel(img.data, SIDE, 5, 5)).toEqual(dimmed(5, 5));
  });

  it('adds a caption strip under the overlay when given a caption', async () => {
    const img = await decode(await renderMaskImage(input, mask, 'a cat'));
    expect([img.width, img.height]).toEqual([SIDE, SIDE + CAPTION_HEIGHT]);
    expect(pixel(img.data, SIDE, 32, 32)).toEqual(tinted(32, 32));
  });
});

describe('encodePng', () => {
  it('encodes the picture losslessly', async () => {
    const img = await decode(await encodePng(input));
    expect([img.width, img.height, img.channels]).toEqual([SIDE, SIDE, 3]);
    expect(Array.from(img.data)).toEqual(Array.from(input.data));
  });
});

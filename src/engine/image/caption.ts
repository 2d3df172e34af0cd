/**
 * Caption strips: a line of text under each panel, drawn as an SVG that sharp rasterises (librsvg with
 * fontconfig fonts). Captions are decoration: if the text cannot be rendered, the picture goes out without it.
 */
import sharp from 'sharp';

/** Height in pixels of the strip under the panels that holds the captions. */
export const CAPTION_HEIGHT = 28;

/** Font size of caption text, in pixels. */
export const CAPTION_FONT_SIZE = 15;

/** Caption text colour (CSS), light on the dark background of the rendered pictures. */
export const CAPTION_COLOUR = '#f2f3f5';

// DejaVu Sans advances about 0.6 em per character on average; slightly more keeps mixed text within the panel.
const AVERAGE_ADVANCE_EM = 0.62;

/** One caption centred over a horizontal span of the strip. */
export interface CaptionSlot {
  /** The text, shown as-is after whitespace collapsing and ellipsizing. */
  readonly text: string;
  /** Left edge of the span, in pixels. */
  readonly left: number;
  /** Width of the span, in pixels. */
  readonly width: number;
}

/**
 * A transparent `width` x {@link CAPTION_HEIGHT} PNG with each slot's text centred in its span, ellipsized to
 * fit and clipped to the span so a long caption never runs into its neighbour. Resolves to `undefined` when
 * the text cannot be rendered (no usable SVG renderer or fonts), so callers simply leave the strip blank.
 */
export async function renderCaptionStrip(width: number, slots: readonly CaptionSlot[]): Promise<Buffer | undefined> {
  const svg = captionSvg(width, slots);
  try {
    return await sharp(Buffer.from(svg, 'utf8')).png().toBuffer();
  } catch {
    return undefined;
  }
}

/** The SVG source of {@link renderCaptionStrip}'s strip; exposed for tests of escaping and layout. */
export function captionSvg(width: number, slots: readonly CaptionSlot[]): string {
  const baseline = Math.round(CAPTION_HEIGHT / 2 + CAPTION_FONT_SIZE * 0.35);
  const parts = slots.map((slot, i) => {
    const maxChars = Math.max(1, Math.floor((slot.width - 8) / (CAPTION_FONT_SIZE * AVERAGE_ADVANCE_EM)));
    const text = escapeXml(ellipsize(normalizeCaption(slot.text), maxChars));
    const centre = slot.left + slot.width / 2;
    return (
      `<clipPath id="c${i}"><rect x="${slot.left}" y="0" width="${slot.width}" height="${CAPTION_HEIGHT}"/></clipPath>` +
      `<text x="${centre}" y="${baseline}" clip-path="url(#c${i})">${text}</text>`
    );
  });
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${CAPTION_HEIGHT}">` +
    `<style>text{font-family:'DejaVu Sans',sans-serif;font-size:${CAPTION_FONT_SIZE}px;fill:${CAPTION_COLOUR};text-anchor:middle}</style>` +
    parts.join('') +
    `</svg>`
  );
}

/**
 * Collapses whitespace (newlines included) to single spaces and drops characters XML 1.0 forbids (control
 * characters, lone surrogates), which would make the whole SVG unparsable.
 */
export function normalizeCaption(text: string): string {
  return (
    text
      // eslint-disable-next-line no-control-regex -- removing control characters is the point
      .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F\uFFFE\uFFFF]/g, '')
      .replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '')
      .replace(/\s+/g, ' ')
      .trim()
  );
}

/** `text` cut to at most `maxChars` user-perceived characters, ending in "…" when cut. */
export function ellipsize(text: string, maxChars: number): string {
  // Graphemes, not UTF-16 units, so an emoji or accented letter is never split in half.
  const graphemes = Array.from(new Intl.Segmenter(undefined, { granularity: 'grapheme' }).segment(text), (s) => s.segment);
  if (graphemes.length <= maxChars) return text;
  return (
    graphemes
      .slice(0, Math.max(0, maxChars - 1))
      .join('')
      .trimEnd() + '…'
  );
}

/** `text` with the five XML special characters replaced by entities. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => XML_ENTITIES[c] ?? c);
}

const XML_ENTITIES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
};

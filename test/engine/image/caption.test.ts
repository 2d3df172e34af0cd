import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { captionSvg, ellipsize, escapeXml, normalizeCaption, renderCaptionStrip } from '../../../src/engine/image/caption.js';

describe('captions', () => {
  it('escapes the XML special characters', () => {
    expect(escapeXml(`a & b < c > d "e" 'f'`)).toBe('a &amp; b &lt; c &gt; d &quot;e&quot; &apos;f&apos;');
  });

  it('collapses whitespace and drops characters XML forbids', () => {
    expect(normalizeCaption('  a\n\tb \u0000c\u0007 \uD800d ')).toBe('a b c d');
  });

  it('ellipsizes by user-perceived characters', () => {
    expect(ellipsize('short', 10)).toBe('short');
    expect(ellipsize('a rather long caption', 10)).toBe('a rather…');
    expect(ellipsize('👍🏽👍🏽👍🏽👍🏽', 3)).toBe('👍🏽👍🏽…');
  });

  it('produces an SVG that parses whatever the caption holds', async () => {
    const nasty = `</text><script>alert(1)</script> & ]]> \u0001 "q" ${'x'.repeat(500)}`;
    const svg = captionSvg(200, [{ text: nasty, left: 0, width: 200 }]);
    expect(svg).not.toContain('<script>');
    const png = await renderCaptionStrip(200, [{ text: nasty, left: 0, width: 200 }]);
    expect(png).toBeInstanceOf(Buffer);
    const meta = await sharp(png).metadata();
    expect([meta.width, meta.height]).toEqual([200, 28]);
  });
});

import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { decodePicture } from '../../../src/engine/image/decode.js';
import type { RgbImage } from '../../../src/engine/image/types.js';
import { ErrorCode } from '../../../src/errors.js';
import { decodeModelPicture, forgedPng, pixel, rawRgb, rejection, solid } from './fixtures.js';

const RED = [220, 30, 40] as const;

/** Every pixel of `img` within `tolerance` of `colour` (lossy codecs shift colours a little). */
function expectAll(img: RgbImage, colour: readonly number[], tolerance: number): void {
  for (let p = 0; p < img.data.length; p += 3) {
    for (let c = 0; c < 3; c++) {
      if (Math.abs(img.data[p + c]! - colour[c]!) > tolerance) {
        throw new Error(`pixel ${p / 3} is ${Array.from(img.data.subarray(p, p + 3)).join(',')}, expected about ${colour.join(',')}`);
      }
    }
  }
}

describe('decodePicture: the model picture', () => {
  it.each([
    ['JPEG', 300, 200, 256, 192, () => solid(300, 200, RED).jpeg({ quality: 95 })],
    ['PNG', 200, 300, 192, 256, () => solid(200, 300, RED).png()],
    ['WebP', 500, 130, 256, 64, () => solid(500, 130, RED).webp({ quality: 95 })],
  ])('decodes a %s of odd aspect to the model dimensions, keeping its colour', async (_name, _w, _h, outWidth, outHeight, make) => {
    const bytes = await make().toBuffer();
    const img = await decodeModelPicture(bytes, { size: 256 });
    expect(img.width).toBe(outWidth);
    expect(img.height).toBe(outHeight);
    expect(img.data.length).toBe(3 * outWidth * outHeight);
    expectAll(img, RED, 12);
  });

  it('crops the centre when the rounded dimensions change the aspect ratio', async () => {
    // 256x100 -> 256x128 (100 rounds up to 128): cover scales by 1.28 to 328x128 and cuts 36 columns off each
    // side, so the 20-column blue borders (26 columns once scaled) disappear on both sides.
    const raw = rawRgb(256, 100, (x) => (x < 20 || x >= 236 ? [0, 0, 255] : [0, 255, 0]));
    const bytes = await sharp(raw, { raw: { width: 256, height: 100, channels: 3 } })
      .png()
      .toBuffer();
    const img = await decodeModelPicture(bytes, { size: 256 });
    expect([img.width, img.height]).toEqual([256, 128]);
    for (const x of [0, 128, 255]) {
      const [r, g, b] = pixel(img.data, img.width, x, 64);
      expect(r).toBeLessThan(10);
      expect(g).toBeGreaterThan(245);
      expect(b).toBeLessThan(10);
    }
  });

  it('flattens a transparent PNG onto white', async () => {
    // Left half fully transparent black, right half opaque red.
    const rgba = new Uint8Array(4 * 64 * 64);
    for (let y = 0; y < 64; y++) {
      for (let x = 0; x < 64; x++) rgba.set(x < 32 ? [0, 0, 0, 0] : [255, 0, 0, 255], 4 * (y * 64 + x));
    }
    const bytes = await sharp(rgba, { raw: { width: 64, height: 64, channels: 4 } })
      .png()
      .toBuffer();
    const img = await decodeModelPicture(bytes, { size: 64 });
    expect(img.data.length).toBe(3 * 64 * 64);
    expect(pixel(img.data, 64, 5, 30)).toEqual([255, 255, 255]);
    expect(pixel(img.data, 64, 60, 30)).toEqual([255, 0, 0]);
  });

  it('decodes a grayscale PNG to three channels', async () => {
    const bytes = await sharp(new Uint8Array(64 * 64).fill(77), { raw: { width: 64, height: 64, channels: 1 } })
      .png()
      .toBuffer();
    const img = await decodeModelPicture(bytes, { size: 64 });
    expect(img.data.length).toBe(3 * 64 * 64);
    expect(pixel(img.data, 64, 10, 10)).toEqual([77, 77, 77]);
  });

  it('decodes a 16-bit PNG to 8 bits per channel', async () => {
    const bytes = await solid(64, 64, RED).toColourspace('rgb16').png().toBuffer();
    expect((await sharp(bytes).metadata()).depth).toBe('ushort');
    const img = await decodeModelPicture(bytes, { size: 64 });
    expect(img.data.length).toBe(3 * 64 * 64);
    expectAll(img, RED, 1);
  });

  it('converts a CMYK JPEG to sRGB', async () => {
    const bytes = await solid(64, 64, RED).toColourspace('cmyk').jpeg({ quality: 95 }).toBuffer();
    expect((await sharp(bytes).metadata()).space).toBe('cmyk');
    const img = await decodeModelPicture(bytes, { size: 64 });
    expect(img.data.length).toBe(3 * 64 * 64);
    expectAll(img, RED, 40);
  });

  it('applies the EXIF orientation of a JPEG', async () => {
    // Stored landscape 128x64, left half red, right half blue, tagged "rotate 90° clockwise to display" (6):
    // displayed portrait 64x128, red on top, blue at the bottom.
    const raw = rawRgb(128, 64, (x) => (x < 64 ? [255, 0, 0] : [0, 0, 255]));
    const bytes = await sharp(raw, { raw: { width: 128, height: 64, channels: 3 } })
      .jpeg({ quality: 95 })
      .withMetadata({ orientation: 6 })
      .toBuffer();
    expect((await sharp(bytes).metadata()).orientation).toBe(6);
    const img = await decodeModelPicture(bytes, { size: 128 });
    expect([img.width, img.height]).toEqual([64, 128]);
    const top = pixel(img.data, 64, 32, 20);
    const bottom = pixel(img.data, 64, 32, 108);
    expect(top[0]).toBeGreaterThan(200);
    expect(top[2]).toBeLessThan(50);
    expect(bottom[0]).toBeLessThan(50);
    expect(bottom[2]).toBeGreaterThan(200);
  });

  it('keeps the photo upright at its displayed size (EXIF orientation applied to the full-size photo too)', async () => {
    const raw = rawRgb(300, 200, (x) => (x < 150 ? [255, 0, 0] : [0, 0, 255]));
    const bytes = await sharp(raw, { raw: { width: 300, height: 200, channels: 3 } })
      .jpeg({ quality: 95 })
      .withMetadata({ orientation: 6 })
      .toBuffer();
    const { photo } = await decodePicture(bytes, { size: 128 });
    expect([photo.width, photo.height]).toEqual([200, 300]);
    expect(pixel(photo.data, 200, 100, 20)[0]).toBeGreaterThan(200);
    expect(pixel(photo.data, 200, 100, 280)[2]).toBeGreaterThan(200);
  });

  it('refuses empty bytes with EmptyImage', async () => {
    expect((await rejection(decodeModelPicture(new Uint8Array(0), { size: 512 }))).code).toBe(ErrorCode.EmptyImage);
  });

  it('refuses text with UnsupportedImage, naming the accepted formats', async () => {
    const error = await rejection(decodeModelPicture(Buffer.from('this is not a picture, just some text\n'), { size: 512 }));
    expect(error.code).toBe(ErrorCode.UnsupportedImage);
    expect(error.message).toContain('JPEG, PNG or WebP');
  });

  it('refuses a TIFF with UnsupportedImage', async () => {
    const bytes = await solid(32, 32, RED).tiff().toBuffer();
    const error = await rejection(decodeModelPicture(bytes, { size: 512 }));
    expect(error.code).toBe(ErrorCode.UnsupportedImage);
    expect(error.details['format']).toBe('tiff');
  });

  it('decodes a GIF (its first frame)', async () => {
    const bytes = await solid(32, 32, RED).gif().toBuffer();
    const picture = await decodePicture(bytes, { size: 64 });
    expect([picture.format, picture.pages, picture.model.width, picture.photo.width]).toEqual(['gif', 1, 64, 32]);
    expectAll(picture.model, RED, 12);
  });

  it.each([
    [10_000, 10, 512, /10000x10, 1000:1; the model takes at most 4:1/],
    [500, 100, 512, /500x100, 5:1; the model takes at most 4:1/],
    [300, 100, 128, /at the model's 128 pixels its short side would be under 64 pixels/],
  ])('refuses a %sx%s picture at size %s with UnsupportedShape, before decoding', async (width, height, size, message) => {
    const bytes = await solid(width, height, RED).png().toBuffer();
    const error = await rejection(decodeModelPicture(bytes, { size }));
    expect(error.code).toBe(ErrorCode.UnsupportedShape);
    expect(error.message).toMatch(message);
  });

  it('keeps the photo at its own size up to maxOutputSide and says where the model frame lies in it', async () => {
    const bytes = await solid(600, 400, RED).png().toBuffer();
    const full = await decodePicture(bytes, { size: 512 });
    expect([full.photo.width, full.photo.height, full.model.width, full.model.height]).toEqual([600, 400, 512, 320]);
    expect(full.frame).toEqual({ left: 0, top: 12, width: 600, height: 375 });
    const capped = await decodePicture(bytes, { size: 512, maxOutputSide: 300 });
    expect([capped.photo.width, capped.photo.height]).toEqual([300, 200]);
  });

  it('refuses a truncated JPEG with UnsupportedImage, keeping the decoder error as the cause only', async () => {
    const noisy = rawRgb(256, 256, (x, y) => [(x * 37 + y * 11) & 255, (x * y) & 255, (x ^ y) & 255]);
    const full = await sharp(noisy, { raw: { width: 256, height: 256, channels: 3 } })
      .jpeg()
      .toBuffer();
    const truncated = full.subarray(0, Math.floor(full.length / 2));
    expect((await sharp(truncated).metadata()).format).toBe('jpeg'); // the header alone still reads
    const error = await rejection(decodeModelPicture(truncated, { size: 256 }));
    expect(error.code).toBe(ErrorCode.UnsupportedImage);
    expect(error.cause).toBeInstanceOf(Error);
    expect(error.message).not.toContain((error.cause as Error).message);
  });

  it('refuses a forged 20000x20000 PNG header with ImageTooLarge from the metadata alone', async () => {
    const bytes = forgedPng(20000, 20000);
    expect(bytes.length).toBeLessThan(200);
    const error = await rejection(decodeModelPicture(bytes, { size: 512 }));
    expect(error.code).toBe(ErrorCode.ImageTooLarge);
    expect(error.message).toContain('20000x20000');
    expect(error.message).toContain('50 megapixels');
    expect(error.details).toMatchObject({ width: 20000, height: 20000, maxInputPixels: 50_000_000 });
  });

  it('refuses a real picture over maxInputPixels with ImageTooLarge', async () => {
    const bytes = await solid(300, 200, RED).png().toBuffer();
    const error = await rejection(decodeModelPicture(bytes, { size: 256, maxInputPixels: 50_000 }));
    expect(error.code).toBe(ErrorCode.ImageTooLarge);
    expect(error.details).toMatchObject({ pixels: 60_000, maxInputPixels: 50_000 });
  });

  it('refuses bytes over maxInputBytes with ImageTooLarge before looking at them', async () => {
    const bytes = await solid(300, 200, RED).png().toBuffer();
    const error = await rejection(decodeModelPicture(bytes, { size: 256, maxInputBytes: bytes.length - 1 }));
    expect(error.code).toBe(ErrorCode.ImageTooLarge);
    expect(error.details).toMatchObject({ bytes: bytes.length, maxInputBytes: bytes.length - 1 });
    await expect(decodeModelPicture(bytes, { size: 256, maxInputBytes: bytes.length })).resolves.toMatchObject({ width: 256 });
  });

  it.each([0, 100, -512, 512.5])('refuses size %s with InvalidOption', async (size) => {
    const bytes = await solid(8, 8, RED).png().toBuffer();
    expect((await rejection(decodeModelPicture(bytes, { size }))).code).toBe(ErrorCode.InvalidOption);
  });
});

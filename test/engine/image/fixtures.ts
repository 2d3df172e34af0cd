/** Pictures made on the fly for the image tests: real encoded files from sharp, and a forged PNG header. */
import { deflateSync } from 'node:zlib';
import sharp, { type Sharp } from 'sharp';
import { decodePicture, type DecodeOptions } from '../../../src/engine/image/decode.js';
import type { RgbImage } from '../../../src/engine/image/types.js';
import { type DiffEditError, isDiffEditError } from '../../../src/errors.js';

/** An RGB colour. */
export type Rgb = readonly [number, number, number];

/** A `width` x `height` RGB raw buffer whose pixel colour is `colourAt(x, y)`. */
export function rawRgb(width: number, height: number, colourAt: (x: number, y: number) => Rgb): Uint8Array {
  const data = new Uint8Array(3 * width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      data.set(colourAt(x, y), 3 * (y * width + x));
    }
  }
  return data;
}

/** A solid-colour picture as a sharp pipeline, ready to be encoded in any format. */
export function solid(width: number, height: number, colour: Rgb): Sharp {
  const [r, g, b] = colour;
  return sharp({ create: { width, height, channels: 3, background: { r, g, b } } });
}

/** Pixel `(x, y)` of an interleaved RGB buffer of the given width. */
export function pixel(data: Uint8Array, width: number, x: number, y: number, channels = 3): number[] {
  const p = channels * (y * width + x);
  return Array.from(data.subarray(p, p + 3));
}

/**
 * A structurally valid PNG whose IHDR declares `width` x `height` 8-bit RGB but whose IDAT holds a few bytes:
 * what an attacker sends to make a decoder allocate width x height x 3 bytes.
 */
export function forgedPng(width: number, height: number): Uint8Array {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit, truecolour, deflate, adaptive filter, no interlace
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([signature, chunk('IHDR', ihdr), chunk('IDAT', deflateSync(Buffer.alloc(16))), chunk('IEND', Buffer.alloc(0))]);
}

function chunk(type: string, body: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(body.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), body])), 0);
  return Buffer.concat([head, body, crc]);
}

function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/** The DiffEditError code `run` throws (or its promise rejects with); fails the test when it does not throw one. */
export function errorCode(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (isDiffEditError(error)) return error.code;
    throw error;
  }
  throw new Error('expected a DiffEditError, nothing was thrown');
}

/** The DiffEditError `promise` rejects with; fails the test when it resolves or rejects with something else. */
export async function rejection(promise: Promise<unknown>): Promise<DiffEditError> {
  try {
    await promise;
  } catch (error) {
    if (isDiffEditError(error)) return error;
    throw error;
  }
  throw new Error('expected a DiffEditError, the promise resolved');
}

/** An upload decoded into the model's picture only (the engine also keeps the photo and the frame). */
export async function decodeModelPicture(bytes: Uint8Array, options: DecodeOptions): Promise<RgbImage> {
  return (await decodePicture(bytes, options)).model;
}

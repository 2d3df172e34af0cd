/**
 * `npm run bench:output`: what the full-size output adds to a job, without models. For each photo size: decoding the
 * upload into the photo and the model frame (vs decoding straight to model size, as before), then upscaling,
 * compositing and encoding the full-size photo (what the engine's `output` phase times), as JPEG and as PNG.
 * The edit is simulated: the model frame with its colours inverted, the centre quarter of the latent grid masked.
 */
import os from 'node:os';
import sharp from 'sharp';
import { decodePicture } from '../src/engine/image/decode.js';
import { modelDimensions } from '../src/engine/image/dimensions.js';
import { DEFAULT_MAX_RESULT_BYTES } from '../src/engine/image/output-photo.js';
import { fullSizeAttachment } from '../src/engine/image/full-size.js';
import type { RgbImage } from '../src/engine/image/types.js';
import { median } from './stats.js';

const RUNS = 5;
const SIZE = 512;
const CELL = 8;
/** A panel PNG of about the usual size, taken off the budget. */
const PANEL_BYTES = 700 * 1024;

/** A photo-like picture (smooth gradients plus fine noise, so encoders have texture to keep). */
async function photo(width: number, height: number, format: 'jpeg' | 'png'): Promise<Buffer> {
  const data = Buffer.alloc(width * height * 3);
  let seed = 1;
  for (let i = 0; i < width * height; i++) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    const x = i % width;
    const y = Math.floor(i / width);
    const n = (seed >> 16) % 24;
    data[3 * i] = (40 + (180 * x) / width + n) & 255;
    data[3 * i + 1] = (60 + (150 * y) / height + n) & 255;
    data[3 * i + 2] = (200 - (120 * (x + y)) / (width + height) + n) & 255;
  }
  const image = sharp(data, { raw: { width, height, channels: 3 } });
  return format === 'jpeg' ? image.jpeg({ quality: 90 }).toBuffer() : image.png().toBuffer();
}

async function time<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const times: number[] = [];
  let value: T | undefined;
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    value = await fn();
    times.push(performance.now() - started);
  }
  return { ms: median(times), value: value as T };
}

async function bench(width: number, height: number, format: 'jpeg' | 'png'): Promise<void> {
  const bytes = await photo(width, height, format);
  const model = modelDimensions(width, height, SIZE);
  const before = await time(() => sharp(bytes).rotate().removeAlpha().resize(model.width, model.height, { fit: 'cover' }).raw().toBuffer());
  const decoded = await time(() => decodePicture(bytes, { size: SIZE }));
  const picture = decoded.value;
  const edited: RgbImage = { ...picture.model, data: picture.model.data.map((v) => 255 - v) };
  const lw = picture.model.width / CELL;
  const lh = picture.model.height / CELL;
  const mask = new Float32Array(lw * lh);
  for (let y = Math.floor(lh / 4); y < Math.floor((3 * lh) / 4); y++) mask.fill(1, y * lw + Math.floor(lw / 4), y * lw + Math.floor((3 * lw) / 4));
  const output = await time(() =>
    fullSizeAttachment(picture, { data: mask, width: lw, height: lh }, edited, {
      composite: true,
      cell: CELL,
      maxBytes: DEFAULT_MAX_RESULT_BYTES - PANEL_BYTES,
    }),
  );
  const plain = await time(() =>
    fullSizeAttachment(picture, { data: mask, width: lw, height: lh }, edited, {
      composite: false,
      cell: CELL,
      maxBytes: DEFAULT_MAX_RESULT_BYTES - PANEL_BYTES,
    }),
  );
  const out = output.value.photo;
  process.stdout.write(
    `${width}x${height} ${format.padEnd(4)} (${(bytes.length / 2 ** 20).toFixed(1)} MiB): ` +
      `decode to model size ${before.ms.toFixed(0)} ms -> photo + frame ${decoded.ms.toFixed(0)} ms; ` +
      `output (upscale, composite, encode) ${output.ms.toFixed(0)} ms, without compositing ${plain.ms.toFixed(0)} ms; ` +
      `photo ${out?.width}x${out?.height} ${out?.format} ${((out?.data.length ?? 0) / 2 ** 20).toFixed(2)} MiB\n`,
  );
}

process.stdout.write(
  `median of ${RUNS} runs; libvips ${sharp.versions.vips}, ${sharp.concurrency()} thread(s); ${os.cpus().length} cores, load average ${os.loadavg()[0]?.toFixed(1)}\n`,
);
for (const [width, height] of [
  [1600, 1200],
  [6000, 4000],
] as const) {
  for (const format of ['jpeg', 'png'] as const) await bench(width, height, format);
}

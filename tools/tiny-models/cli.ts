/**
 * npm run tiny-models -- --out DIR [--layout optimum|diffusers-onnx] [--timestep int64:1] [--io float16]
 *   [--input-ids int32] [--vae-output latent_sample] [--unet-channels 9] [--hidden 768] [--seed N]
 *   [--external-data | --no-external-data] [--symbolic-channels] [--blocks N --channels C --bench-dtype float16
 *   --attention fused]
 */
import { parseArgs } from 'node:util';
import { generateTinyModels, type TinyModelOptions } from './generate.js';

const USAGE = `Usage: npm run tiny-models -- --out DIR [options]
  --layout optimum|diffusers-onnx   folder/external-data layout (default optimum)
  --family sd1|sd2|sdxl             SD 2.1's v-prediction files, or SDXL's two encoders and files (default sd1)
  --unet-from DIR                   copy DIR/model.onnx (+ config.json) as the UNet (SDXL needs one with
                                    text_embeds and time_ids, e.g. a real-architecture export)
  --timestep DTYPE:RANK             UNet timestep, DTYPE int64|float32|float16, RANK 0|1 (default float32:0)
  --input-ids int64|int32           text encoder input type (default int64)
  --vae-output latent_parameters|latent_sample
  --io float32|float16              type of every float input/output (default float32)
  --unet-channels 4|9               9 = inpainting UNet
  --hidden N                        text embedding width (default 32; SD v1: 768)
  --region x0,y0,x1,y1              where text changes the UNet output, fractions (default 0.25,0.25,0.75,0.75)
  --seed N                          weight seed
  --external-data / --no-external-data
  --symbolic-channels               symbolic channel dims, as the old diffusers exports have
  --blocks N --channels C           SD-sized benchmark blocks in the UNet (default 0, 320)
  --bench-dtype float32|float16     compute type of the benchmark blocks (default: the io type)
  --attention unfused|fused|sdpa    benchmark attention as MatMul/Softmax/MatMul (default), onnxruntime's
                                    com.microsoft.MultiHeadAttention contrib op, or torch 2.x's exported
                                    scaled_dot_product_attention (sqrt(scale) on q and k)`;

function fail(message: string): never {
  console.error(`${message}\n\n${USAGE}`);
  process.exit(2);
}

function int(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n)) fail(`--${name} must be an integer, not ${value}`);
  return n;
}

function oneOf<T extends string>(name: string, value: string | undefined, allowed: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) fail(`--${name} must be one of ${allowed.join(', ')}, not ${value}`);
  return value as T;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      out: { type: 'string' },
      layout: { type: 'string' },
      family: { type: 'string' },
      'unet-from': { type: 'string' },
      timestep: { type: 'string' },
      'input-ids': { type: 'string' },
      'vae-output': { type: 'string' },
      io: { type: 'string' },
      'unet-channels': { type: 'string' },
      hidden: { type: 'string' },
      region: { type: 'string' },
      seed: { type: 'string' },
      'external-data': { type: 'boolean' },
      'no-external-data': { type: 'boolean' },
      'symbolic-channels': { type: 'boolean' },
      blocks: { type: 'string' },
      channels: { type: 'string' },
      'bench-dtype': { type: 'string' },
      attention: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: false,
  });
  if (values.help === true) {
    console.log(USAGE);
    return;
  }
  if (values.out === undefined) fail('--out DIR is required');

  const options: TinyModelOptions = {};
  const layout = oneOf('layout', values.layout, ['optimum', 'diffusers-onnx'] as const);
  if (layout !== undefined) options.layout = layout;
  const family = oneOf('family', values.family, ['sd1', 'sd2', 'sdxl'] as const);
  if (family !== undefined) options.family = family;
  if (values['unet-from'] !== undefined) options.unetFrom = values['unet-from'];
  if (values.timestep !== undefined) {
    const [dtype, rank] = values.timestep.split(':');
    const d = oneOf('timestep', dtype, ['int64', 'float32', 'float16'] as const);
    const r = rank === undefined ? 0 : Number(rank);
    if (d === undefined || (r !== 0 && r !== 1)) fail(`--timestep must be DTYPE:RANK, e.g. int64:1, not ${values.timestep}`);
    options.timestep = { dtype: d, rank: r };
  }
  const ids = oneOf('input-ids', values['input-ids'], ['int64', 'int32'] as const);
  if (ids !== undefined) options.inputIdsType = ids;
  const vae = oneOf('vae-output', values['vae-output'], ['latent_parameters', 'latent_sample'] as const);
  if (vae !== undefined) options.vaeEncoderOutput = vae;
  const io = oneOf('io', values.io, ['float32', 'float16'] as const);
  if (io !== undefined) options.io = io;
  const channels = int('unet-channels', values['unet-channels']);
  if (channels !== undefined) {
    if (channels !== 4 && channels !== 9) fail('--unet-channels must be 4 or 9');
    options.unetInChannels = channels;
  }
  const hidden = int('hidden', values.hidden);
  if (hidden !== undefined) options.hiddenSize = hidden;
  if (values.region !== undefined) {
    const parts = values.region.split(',').map(Number);
    const [x0, y0, x1, y1] = parts;
    if (parts.length !== 4 || x0 === undefined || y0 === undefined || x1 === undefined || y1 === undefined || parts.some(Number.isNaN)) {
      fail('--region must be x0,y0,x1,y1');
    }
    options.region = { x0, y0, x1, y1 };
  }
  const seed = int('seed', values.seed);
  if (seed !== undefined) options.seed = seed;
  if (values['external-data'] === true && values['no-external-data'] === true) fail('--external-data or --no-external-data, not both');
  if (values['external-data'] === true) options.externalData = true;
  if (values['no-external-data'] === true) options.externalData = false;
  if (values['symbolic-channels'] === true) options.symbolicChannels = true;
  const blocks = int('blocks', values.blocks);
  if (blocks !== undefined) options.benchmarkBlocks = blocks;
  const width = int('channels', values.channels);
  if (width !== undefined) options.benchmarkChannels = width;
  const benchDtype = oneOf('bench-dtype', values['bench-dtype'], ['float32', 'float16'] as const);
  if (benchDtype !== undefined) options.benchmarkDtype = benchDtype;
  const attention = oneOf('attention', values.attention, ['unfused', 'fused', 'sdpa'] as const);
  if (attention !== undefined) options.benchmarkAttention = attention;

  const started = Date.now();
  await generateTinyModels(values.out, options);
  console.log(`Tiny Stable Diffusion ONNX models written to ${values.out} in ${Date.now() - started} ms.`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});

/**
 * `npm run doctor [-- --models DIR]`: what this machine can run, in one screen: Node, onnxruntime, each
 * execution provider (probed quietly, with the reason when it is not usable), the GPU the driver reports, and
 * the models found (original or optimised copy) with the contract read from their metadata.
 */
import 'dotenv/config';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { parseArgs } from 'node:util';
import ort from 'onnxruntime-node';
import {
  readTextEncoderContract,
  readUnetContract,
  readVaeDecoderContract,
  readVaeEncoderContract,
  type ModelSignature,
} from '../engine/models/contract.js';
import { familyOf } from '../engine/models/family.js';
import { locateModelFiles } from '../engine/models/layout.js';
import { modelSizeFromConfig } from '../engine/models/vae-geometry.js';
import { SD_V1_SCHEDULER, parseSchedulerConfig } from '../engine/scheduler.js';
import { chooseModelDir } from '../engine/models/optimized-copy.js';
import { probeProviders } from '../engine/models/provider-probe.js';
import { PROVIDERS } from '../engine/models/sessions.js';
import { signatureFromFile } from '../onnx/signature.js';
import { describeFailure, runCommand } from './failure.js';

const run = promisify(execFile);

/** The GPUs the NVIDIA driver reports, or why none could be listed. */
async function gpuAdapters(): Promise<string> {
  try {
    const { stdout } = await run('nvidia-smi', ['--query-gpu=name,driver_version,memory.total', '--format=csv,noheader'], { timeout: 10_000 });
    return stdout.trim().split('\n').join('; ') || 'nvidia-smi lists no GPU';
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT'
      ? 'none found (no nvidia-smi: no NVIDIA driver)'
      : `nvidia-smi failed: ${describeFailure(error)}`;
  }
}

async function contractLines(dir: string): Promise<string[]> {
  const files = await locateModelFiles(dir);
  const sig = (file: string): Promise<ModelSignature> => signatureFromFile(file);
  const scheduler =
    files.schedulerConfig === undefined
      ? SD_V1_SCHEDULER
      : parseSchedulerConfig(JSON.parse(await readFile(files.schedulerConfig, 'utf8')), files.schedulerConfig);
  const family = familyOf({ ...files, predictionType: scheduler.predictionType });
  const encoders = await Promise.all(family.textEncoders.map(async (use) => readTextEncoderContract(await sig(files.onnx[use.part]), use)));
  const unet = readUnetContract(await sig(files.onnx.unet), 'standard');
  const encoder = readVaeEncoderContract(await sig(files.onnx.vae_encoder));
  const decoder = readVaeDecoderContract(await sig(files.onnx.vae_decoder));
  const factor = files.vaeScaleFactor;
  const size =
    factor === undefined || files.unetSampleSize === undefined
      ? `${family.defaultSize} px unless the probed VAE factor and unet sample_size say otherwise`
      : `${modelSizeFromConfig(files.unetSampleSize, factor, family.defaultSize)} px (unet sample_size ${files.unetSampleSize} x VAE factor ${factor})`;
  return [
    `family: ${family.label} (${scheduler.predictionType} prediction); model size ${size}; MODEL_SIZE overrides it`,
    ...encoders.map(
      (text, i) =>
        `${family.textEncoders[i]?.part ?? 'text_encoder'}: input_ids ${text.inputIds.type}, ${text.hiddenState.name} ${text.hiddenState.type}${text.hiddenSize !== undefined ? ` x ${text.hiddenSize}` : ''}${text.pooled ? `, pooled ${text.pooled.name}` : ''}`,
    ),
    `unet: sample ${unet.sample.type}, ${unet.inChannels} channels, timestep ${unet.timestep.type} rank ${unet.timestep.rank}, ${unet.output.name} ${unet.output.type}${unet.addedConditions ? ', text_embeds + time_ids' : ''}`,
    `vae_encoder: ${encoder.output.name} (${encoder.output.kind === 'latent_parameters' ? 'mean ++ logvar' : 'a sample, or the mean after npm run optimize'})`,
    `vae_decoder: ${decoder.input.name} -> ${decoder.output.name} ${decoder.output.type}; latent scale ${files.latentScale}; spatial factor ${files.vaeScaleFactor ?? 'not in the config (probed at load)'}${files.vaeForceUpcast ? '; force_upcast (kept float32 by npm run optimize --fp16)' : ''}`,
  ];
}

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { models: { type: 'string' } }, strict: true });
  const modelDir = values.models ?? (process.env['MODEL_DIR']?.trim() || 'models');
  const say = (line: string): void => void process.stdout.write(`${line}\n`);
  say(`Node ${process.version} (${process.platform}-${process.arch})`);
  say(`onnxruntime-node ${ort.env.versions.common ?? 'unknown'}`);
  say('Execution providers:');
  for (const r of await probeProviders(PROVIDERS)) say(`  ${r.provider}: ${r.available ? 'available' : `unavailable: ${r.reason}`}`);
  say(`GPU adapter: ${await gpuAdapters()}`);
  const choice = await chooseModelDir(modelDir);
  say(`Models: ${choice.dir}${choice.optimized ? ' (optimised)' : ''}: ${choice.reason}`);
  try {
    for (const line of await contractLines(choice.dir)) say(`  ${line}`);
  } catch (error) {
    say(`  ${describeFailure(error)}`);
    return 1;
  }
  say('(EXECUTION_PROVIDERS sets the order the engine tries; MODEL_DIR or --models the folder)');
  return 0;
}

runCommand(main);

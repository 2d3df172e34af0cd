/**
 * Which files of a Stable Diffusion ONNX repository the engine needs (see src/engine/models/layout.ts):
 * a full checkout would add the safety checker, the feature extractor and often PyTorch weights, gigabytes
 * the bot never reads.
 */
import path from 'node:path/posix';
import type { ModelPart } from '../engine/models/layout.js';
import type { HubFile } from './hub/file.js';

/** A folder of the export the engine reads: the four ONNX models plus the tokenizer and scheduler. */
export type ModelComponent = ModelPart | 'tokenizer' | 'tokenizer_2' | 'scheduler';

/** Everything a DiffEdit engine loads (text_encoder_2 and tokenizer_2: SDXL's, taken when the repository has them). */
export const ALL_COMPONENTS: readonly ModelComponent[] = [
  'text_encoder',
  'text_encoder_2',
  'unet',
  'vae_encoder',
  'vae_decoder',
  'tokenizer',
  'tokenizer_2',
  'scheduler',
];

/** An inpainting export only lends its 9-channel UNet. */
export const INPAINT_COMPONENTS: readonly ModelComponent[] = ['unet'];

const ONNX_PARTS: ReadonlySet<string> = new Set<ModelPart>(['text_encoder', 'text_encoder_2', 'unet', 'vae_encoder', 'vae_decoder']);
/** Parts only some families have: never required of a revision (the engine asks for them when model_index.json does). */
const OPTIONAL: ReadonlySet<string> = new Set<ModelComponent>(['text_encoder_2', 'tokenizer_2']);

// Next to model.onnx live its external data (weights.pb, model.onnx_data, or one file per tensor with any name),
// but exporters also leave other frameworks' weights and other ONNX variants there: those are never needed.
const NOT_EXTERNAL_DATA = /\.(?:onnx|bin|safetensors|ckpt|pt|pth|msgpack|h5|ot|md)$|^\.gitattributes$/i;

/** The files of `files` the engine needs for `components` (model_index.json always: it names the pipeline). */
export function selectModelFiles(files: readonly HubFile[], components: readonly ModelComponent[] = ALL_COMPONENTS): HubFile[] {
  const wanted = new Set<string>(components);
  return files.filter((file) => isNeeded(file.path, wanted));
}

function isNeeded(filePath: string, wanted: ReadonlySet<string>): boolean {
  if (filePath === 'model_index.json') return true;
  const folder = path.dirname(filePath);
  const name = path.basename(filePath);
  // The listing comes from a server: never let a name like 'tokenizer/..' point outside its folder.
  if (name === '' || name === '.' || name === '..' || filePath.includes('\\')) return false;
  // Only files directly inside a wanted folder: nested folders are other variants (e.g. unet/fp16/).
  if (folder.includes('/') || !wanted.has(folder)) return false;
  if (folder === 'tokenizer' || folder === 'tokenizer_2') return true;
  if (folder === 'scheduler') return name === 'scheduler_config.json';
  if (ONNX_PARTS.has(folder)) return name === 'model.onnx' || name === 'config.json' || !NOT_EXTERNAL_DATA.test(name);
  return false;
}

/** The files an engine cannot start without, per component, for a clear error when a revision lacks them. */
export function requiredFiles(components: readonly ModelComponent[]): string[] {
  const required: string[] = [];
  for (const component of components) {
    if (OPTIONAL.has(component)) continue;
    if (ONNX_PARTS.has(component)) required.push(`${component}/model.onnx`);
    if (component === 'tokenizer') required.push('tokenizer/vocab.json', 'tokenizer/merges.txt');
  }
  return required;
}

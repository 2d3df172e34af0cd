/**
 * Test support: the files of a fake hub repository, built from the project's tiny diffusers-ONNX export plus
 * what the real repositories also carry and the engine never needs.
 */
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { generateTinyModels, type TinyModelOptions } from '../../tools/tiny-models/generate.js';

/** Files a real SD repository's onnx branch has besides the export; the downloader must leave them. */
export const UNNEEDED: Readonly<Record<string, string>> = {
  'safety_checker/model.onnx': 'not a real safety checker',
  'feature_extractor/preprocessor_config.json': '{"crop_size": 224}\n',
  'unet/diffusion_pytorch_model.safetensors': 'pytorch weights the ONNX engine never reads',
  'unet/fp16/model.onnx': 'another variant',
  'README.md': '# model card\n',
  '.gitattributes': '*.onnx filter=lfs\n',
};

/** Every file under `dir`, by '/'-separated relative path. */
export async function readTree(dir: string): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const full = path.join(entry.parentPath, entry.name);
    files.set(path.relative(dir, full).split(path.sep).join('/'), await readFile(full));
  }
  return files;
}

/** A tiny export generated into a temp folder: its folder and its files (the export only). */
export async function tinyExport(options: TinyModelOptions = {}): Promise<{ dir: string; files: Map<string, Buffer> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'diffedit-hub-src-'));
  await generateTinyModels(dir, { layout: 'diffusers-onnx', ...options });
  return { dir, files: await readTree(dir) };
}

/** The export's files plus {@link UNNEEDED}: what the fake hub serves as the repository. */
export function withUnneeded(files: ReadonlyMap<string, Buffer>): Map<string, Buffer> {
  const repo = new Map(files);
  for (const [p, text] of Object.entries(UNNEEDED)) repo.set(p, Buffer.from(text));
  return repo;
}

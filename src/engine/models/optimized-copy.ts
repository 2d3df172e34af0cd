/**
 * Where `npm run optimize` puts an export's optimised copy and the record it leaves there, shared by the
 * optimiser (which writes them) and the engine (which prefers the copy when it is complete and still matches
 * the export it was made from).
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { parseJsonObject } from './json-file.js';

/** The copy's folder inside the export, by default. */
export const OPTIMIZED_SUBDIR = 'optimized';

/** Written last, so a copy without it is incomplete. */
export const RECORD_FILE = 'optimized.json';

/** A source model file as it was when the copy was made: a re-downloaded export no longer matches. */
export interface SourceStamp {
  readonly size: number;
  readonly mtimeMs: number;
}

/** The contents of optimized.json. */
export interface OptimizedRecord {
  readonly version: 1;
  /** The export the copy was made from (absolute). */
  readonly source: string;
  readonly createdAt: string;
  readonly fp16: boolean;
  /** Per model part (unet, vae_encoder, ...): the source file's stamp and what was done. */
  readonly parts: Readonly<Record<string, { readonly source: SourceStamp; readonly summary: string }>>;
}

/** The folder the engine loads, and why. */
export interface ModelDirChoice {
  readonly dir: string;
  readonly optimized: boolean;
  readonly reason: string;
}

/**
 * `modelDir` itself when it is an optimised copy or has none; else its optimised copy when complete (record
 * written) and made from the files that are there now (same size and mtime of every model file).
 */
export async function chooseModelDir(modelDir: string): Promise<ModelDirChoice> {
  const root = path.resolve(modelDir);
  if ((await readRecord(root)) !== undefined) return { dir: root, optimized: true, reason: 'the folder is an optimised copy' };
  const copy = path.join(root, OPTIMIZED_SUBDIR);
  const record = await readRecord(copy);
  if (record === undefined) return { dir: root, optimized: false, reason: 'no optimised copy (`npm run optimize` makes one)' };
  for (const [part, { source }] of Object.entries(record.parts)) {
    const now = await stat(path.join(root, part, 'model.onnx')).catch(() => undefined);
    if (now === undefined || now.size !== source.size || now.mtimeMs !== source.mtimeMs) {
      return { dir: root, optimized: false, reason: `the optimised copy is stale: ${part}/model.onnx changed since (run \`npm run optimize\` again)` };
    }
  }
  return { dir: copy, optimized: true, reason: `optimised copy of ${root} (${record.createdAt})` };
}

async function readRecord(dir: string): Promise<OptimizedRecord | undefined> {
  const text = await readFile(path.join(dir, RECORD_FILE), 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  const record = parseJsonObject(text, path.join(dir, RECORD_FILE));
  return record['version'] === 1 && typeof record['parts'] === 'object' && record['parts'] !== null ? (record as unknown as OptimizedRecord) : undefined;
}

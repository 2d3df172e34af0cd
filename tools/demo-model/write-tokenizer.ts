/**
 * Writes the demo model's CLIP-format tokenizer (vocab.json, merges.txt, special_tokens_map.json,
 * tokenizer_config.json) into `<dir>/tokenizer/`: CLIP's byte tokens plus one whole-word token for every word the
 * demo world uses, so the engine's real BPE reads it like SD's tokenizer. train.py reads the vocabulary back.
 *
 * Usage: tsx tools/demo-model/write-tokenizer.ts <model dir>
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { buildTinyTokenizer, mergesTxt, specialTokensMapJson, tokenizerConfigJson, vocabJson } from '../tiny-models/tokenizer-files.js';

interface SceneSpec {
  readonly shapes: readonly string[];
  readonly colors: Readonly<Record<string, unknown>>;
  readonly backgrounds: Readonly<Record<string, unknown>>;
  readonly words: readonly string[];
}

const dir = process.argv[2];
if (dir === undefined) throw new Error('usage: write-tokenizer.ts <model dir>');
const spec = JSON.parse(await readFile(new URL('./scene-spec.json', import.meta.url), 'utf8')) as SceneSpec;
const words = [...new Set([...spec.words, ...spec.shapes, ...Object.keys(spec.colors), ...Object.keys(spec.backgrounds)])];
const tok = buildTinyTokenizer(words);
const out = path.join(dir, 'tokenizer');
await mkdir(out, { recursive: true });
await writeFile(path.join(out, 'vocab.json'), vocabJson(tok));
await writeFile(path.join(out, 'merges.txt'), mergesTxt(tok));
await writeFile(path.join(out, 'special_tokens_map.json'), specialTokensMapJson());
await writeFile(path.join(out, 'tokenizer_config.json'), tokenizerConfigJson());
console.log(`tokenizer: ${tok.tokens.length} tokens, ${words.length} words -> ${out}`);

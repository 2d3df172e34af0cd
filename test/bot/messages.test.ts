import { describe, expect, it } from 'vitest';
import { MAX_CONTENT, progressBar, progressLine, queueLine, resultLine } from '../../src/bot/messages.js';

describe('queue and progress lines', () => {
  it.each([
    [1, 'Starting...'],
    [2, '#2 in queue'],
    [3, '#3 in queue'],
  ])('position %i reads "%s"', (position, text) => {
    expect(queueLine(position)).toBe(text);
  });

  it.each([
    [0, 10, '`[--------------------]` 0%'],
    [5, 10, '`[##########----------]` 50%'],
    [10, 10, '`[####################]` 100%'],
    [12, 10, '`[####################]` 100%'],
    [1, 0, '`[--------------------]` 0%'],
  ])('bar for %i of %i is %s', (done, total, bar) => {
    expect(progressBar(done, total)).toBe(bar);
  });

  it.each([
    [{ phase: 'mask', step: 1, total: 1 }, /^Finding where to edit \(step 1\/1\)/],
    [{ phase: 'invert', step: 3, total: 40 }, /^Encoding the photo \(step 3\/40\) `\[#{2}-{18}\]` 8%$/],
    [{ phase: 'decode', step: 20, total: 40 }, /^Re-drawing \(step 20\/40\) `\[#{10}-{10}\]` 50%$/],
    [{ phase: 'render', step: 1, total: 1 }, /^Rendering/],
  ] as const)('%j', (progress, pattern) => {
    expect(progressLine(progress)).toMatch(pattern);
  });
});

describe('result line', () => {
  const base = { kind: 'diffedit', ref: 'strawberries', query: 'grapes', seed: 42, maskSeed: 7, steps: 50, seconds: 12.34, coverage: 0.25 } as const;

  it.each([
    [base, '**strawberries** -> **grapes** | seed 42 | mask seed 7 | 50 steps | 12.3 s | area: 25% of the picture'],
    [{ ...base, kind: 'mask' as const }, '**strawberries** -> **grapes** | mask covers 25% | mask seed 7 | 12.3 s'],
    [
      { ...base, mentionUserId: '123' },
      '<@123> **strawberries** -> **grapes** | seed 42 | mask seed 7 | 50 steps | 12.3 s | area: 25% of the picture',
    ],
    [
      { ...base, ref: 'a *bold*  `code`\nline' },
      '**a \\*bold\\* \\`code\\` line** -> **grapes** | seed 42 | mask seed 7 | 50 steps | 12.3 s | area: 25% of the picture',
    ],
    [
      { ...base, area: -2, coverage: 0.123 },
      '**strawberries** -> **grapes** | seed 42 | mask seed 7 | 50 steps | 12.3 s | area: 12% of the picture (area -2)',
    ],
    [{ ...base, kind: 'mask' as const, area: 1 }, '**strawberries** -> **grapes** | mask covers 25% (area +1) | mask seed 7 | 12.3 s'],
    [
      { ...base, seeds: [42, 43, 44, 45] },
      '**strawberries** -> **grapes** | seeds 42, 43, 44, 45 | mask seed 7 | 50 steps | 12.3 s | area: 25% of the picture',
    ],
    [{ ...base, seeds: [42] }, '**strawberries** -> **grapes** | seed 42 | mask seed 7 | 50 steps | 12.3 s | area: 25% of the picture'],
  ])('%j', (summary, line) => {
    expect(resultLine(summary)).toBe(line);
  });

  it("adds warnings as small lines and stays within Discord's 2000 characters", () => {
    const line = resultLine({ ...base, ref: 'x'.repeat(3000), warnings: ['cut at 75 tokens'] });
    expect(line.length).toBeLessThanOrEqual(MAX_CONTENT);
    expect(line).toContain('\n-# cut at 75 tokens');
  });
});

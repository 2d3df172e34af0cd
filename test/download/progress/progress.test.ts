import { describe, expect, it } from 'vitest';
import { PlainProgress } from '../../../src/download/progress/plain-progress.js';
import { summaryText } from '../../../src/download/progress/summary-text.js';
import { TtyProgress } from '../../../src/download/progress/tty-progress.js';

const MIB = 1024 * 1024;

/** A clock the test moves by hand. */
function clock(): { now: () => number; advance: (ms: number) => void } {
  let t = 0;
  return { now: () => t, advance: (ms) => (t += ms) };
}

describe('PlainProgress', () => {
  it('writes whole lines: start, every 10% of big files, done with size, time and rate', () => {
    const lines: string[] = [];
    const c = clock();
    const progress = new PlainProgress((l) => lines.push(l), c.now);

    progress.start('unet/weights.pb', 100 * MIB, 0);
    c.advance(1000);
    progress.update('unet/weights.pb', 10 * MIB);
    progress.update('unet/weights.pb', 15 * MIB);
    c.advance(1000);
    progress.update('unet/weights.pb', 20 * MIB);
    progress.finish({ path: 'unet/weights.pb', size: 100 * MIB, outcome: 'downloaded', bytesTransferred: 100 * MIB, resumedFrom: 0, ms: 4000 });
    progress.finish({ path: 'tokenizer/vocab.json', size: 2048, outcome: 'present', bytesTransferred: 0, resumedFrom: 0, ms: 1 });

    expect(lines).toEqual([
      'downloading unet/weights.pb (100.0 MiB)',
      'unet/weights.pb 10% (10.0/100.0 MiB, 10.0 MiB/s)',
      'unet/weights.pb 20% (20.0/100.0 MiB, 10.0 MiB/s)',
      'unet/weights.pb done: 100.0 MiB in 4.0s (25.0 MiB/s)',
      'tokenizer/vocab.json already present (2.0 KiB)',
    ]);
  });
});

describe('TtyProgress', () => {
  it('redraws one line in place with MiB done/total, percent and rate, at most every 100 ms', () => {
    let out = '';
    const c = clock();
    const progress = new TtyProgress({ write: (t: string) => (out += t), columns: 120 }, c.now);

    progress.start('unet/weights.pb', 10 * MIB, 2 * MIB);
    c.advance(1000);
    progress.update('unet/weights.pb', 6 * MIB);
    progress.update('unet/weights.pb', 7 * MIB); // within 100 ms: not drawn
    progress.writeLine('a log line');
    progress.finish({ path: 'unet/weights.pb', size: 10 * MIB, outcome: 'downloaded', bytesTransferred: 8 * MIB, resumedFrom: 2 * MIB, ms: 2000 });

    expect(out.split('\r\x1b[K')).toEqual([
      '',
      '  unet/weights.pb  2.0/10.0 MiB   20%  - MiB/s',
      '  unet/weights.pb  6.0/10.0 MiB   60%  4.0 MiB/s',
      'a log line\n  unet/weights.pb  6.0/10.0 MiB   60%  4.0 MiB/s',
      '  unet/weights.pb  10.0/10.0 MiB  100%  8.0 MiB/s  (2.0s)\n',
    ]);
  });
});

describe('summaryText', () => {
  it('says where the model came from (the revision and its commit) and went, how big it is, what was downloaded and what was already there', () => {
    const text = summaryText({
      repo: 'a/b',
      revision: 'onnx',
      commit: '0123456789abcdef0123456789abcdef01234567',
      outDir: '/srv/models',
      files: [
        { path: 'x', size: 3 * 1024 * MIB, outcome: 'downloaded', bytesTransferred: 3 * 1024 * MIB, resumedFrom: 0, ms: 120_000 },
        { path: 'y', size: 1024, outcome: 'present', bytesTransferred: 0, resumedFrom: 0, ms: 0 },
      ],
      downloaded: 1,
      present: 1,
      bytesTransferred: 3 * 1024 * MIB,
      totalBytes: 3 * 1024 * MIB + 1024,
      ms: 125_000,
    });
    expect(text).toBe(
      'a/b@onnx (commit 0123456789ab) -> /srv/models: 2 files, 3.00 GiB; 1 downloaded (3.00 GiB in 2m 05s, 24.6 MiB/s), 1 already present.',
    );
  });
});

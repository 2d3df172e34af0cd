/**
 * Progress for a terminal: one line per file, redrawn in place with `\r` (name, MiB done/total, %, MiB/s), kept
 * once the file is done.
 */
import { errorText, formatBytes, formatDuration, formatProgress, formatRate } from './format.js';
import type { FileResult, ProgressReporter } from './reporter.js';

/** Where the lines go: a TTY stream (process.stderr) or a stand-in. */
export interface TerminalOutput {
  write(text: string): unknown;
  readonly columns?: number | undefined;
}

// Redraws faster than this only burn CPU on multi-gigabyte files.
const REDRAW_MS = 100;

/** Draws progress on a terminal; {@link writeLine} prints other text (logs) without tearing the live line. */
export class TtyProgress implements ProgressReporter {
  private live: { file: string; total: number; resumedFrom: number; started: number; drawn: number; line: string } | undefined;

  constructor(
    private readonly out: TerminalOutput,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** @inheritdoc */
  start(file: string, total: number, resumedFrom: number): void {
    this.live = { file, total, resumedFrom, started: this.now(), drawn: -Infinity, line: '' };
    this.draw(resumedFrom, true);
  }

  /** @inheritdoc */
  update(file: string, done: number): void {
    if (this.live?.file === file) this.draw(done, false);
  }

  /** @inheritdoc */
  finish(result: FileResult): void {
    if (result.outcome === 'present') {
      this.writeLine(`  ${result.path}  ${formatBytes(result.size)}  already present`);
      return;
    }
    if (this.live?.file === result.path) this.draw(result.size, true);
    this.out.write(`  (${formatDuration(result.ms)})\n`);
    this.live = undefined;
  }

  /** @inheritdoc */
  retry(file: string, attempt: number, error: unknown): void {
    this.writeLine(`  ${file}: ${errorText(error)}; attempt ${attempt}...`);
  }

  /** Prints `text` on its own line, then redraws the live progress line under it. */
  writeLine(text: string): void {
    const live = this.live?.line ?? '';
    this.out.write(`${live === '' ? '' : '\r\x1b[K'}${text.replace(/\n$/, '')}\n${live}`);
  }

  private draw(done: number, force: boolean): void {
    const live = this.live;
    if (live === undefined) return;
    const t = this.now();
    if (!force && t - live.drawn < REDRAW_MS) return;
    live.drawn = t;
    const percent = live.total === 0 ? 100 : Math.floor((done / live.total) * 100);
    const rate = formatRate(done - live.resumedFrom, t - live.started);
    let line = `  ${live.file}  ${formatProgress(done, live.total)}  ${String(percent).padStart(3)}%  ${rate}`;
    const width = this.out.columns;
    if (width !== undefined && width > 10 && line.length > width - 1) line = line.slice(0, width - 1);
    live.line = line;
    this.out.write(`\r\x1b[K${line}`);
  }
}

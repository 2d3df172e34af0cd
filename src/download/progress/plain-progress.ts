/**
 * Progress for logs and pipes (not a terminal): whole lines only, a start and an end line per file and one every
 * 10% of big files.
 */
import { errorText, formatBytes, formatDuration, formatRate, mib } from './format.js';
import type { FileResult, ProgressReporter } from './reporter.js';

// Below this a file takes seconds at most: intermediate lines would only be noise.
const STEP_LINES_FROM = 64 * 1024 * 1024;

/** Writes one plain line per event through `writeLine`. */
export class PlainProgress implements ProgressReporter {
  private readonly steps = new Map<string, { total: number; resumedFrom: number; started: number; step: number }>();

  constructor(
    private readonly writeLine: (line: string) => void,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** @inheritdoc */
  start(file: string, total: number, resumedFrom: number): void {
    this.steps.set(file, { total, resumedFrom, started: this.now(), step: Math.floor((resumedFrom / Math.max(total, 1)) * 10) });
    const resumed = resumedFrom > 0 ? `, resuming at ${mib(resumedFrom)} MiB` : '';
    this.writeLine(`downloading ${file} (${formatBytes(total)}${resumed})`);
  }

  /** @inheritdoc */
  update(file: string, done: number): void {
    const state = this.steps.get(file);
    if (state === undefined || state.total < STEP_LINES_FROM) return;
    const step = Math.floor((done / state.total) * 10);
    if (step <= state.step || step >= 10) return;
    state.step = step;
    const rate = formatRate(done - state.resumedFrom, this.now() - state.started);
    this.writeLine(`${file} ${step * 10}% (${mib(done)}/${mib(state.total)} MiB, ${rate})`);
  }

  /** @inheritdoc */
  finish(result: FileResult): void {
    this.steps.delete(result.path);
    if (result.outcome === 'present') {
      this.writeLine(`${result.path} already present (${formatBytes(result.size)})`);
      return;
    }
    this.writeLine(
      `${result.path} done: ${formatBytes(result.size)} in ${formatDuration(result.ms)} (${formatRate(result.bytesTransferred, result.ms)})`,
    );
  }

  /** @inheritdoc */
  retry(file: string, attempt: number, error: unknown): void {
    this.writeLine(`${file}: ${errorText(error)}; attempt ${attempt}`);
  }
}

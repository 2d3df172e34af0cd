/**
 * `.download-state.json` in the output folder: which files were verified, for which content, at which size
 * and modification time, and which repository commit the last complete download came from. A re-run trusts these entries instead of re-hashing gigabytes; any change to a file
 * (size, mtime) or to the hub's content id makes it check again.
 */
import { readFile, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** The state file's name inside the output folder. */
export const STATE_FILE = '.download-state.json';

interface Entry {
  /** {@link contentId} of the verified content. */
  readonly id: string;
  readonly size: number;
  readonly mtimeMs: number;
}

/** Where the folder's files came from: the revision asked for and the commit it pointed to. */
export interface DownloadSource {
  readonly repo: string;
  readonly revision: string;
  readonly commit: string;
}

interface StateJson {
  readonly version: 1;
  /** Set when a download completes (absent in states written before it was recorded). */
  readonly source?: DownloadSource;
  readonly files: Record<string, Entry>;
}

/** The verified files of one output folder. */
export class DownloadState {
  private constructor(
    private readonly file: string,
    private readonly files: Record<string, Entry>,
    private source: DownloadSource | undefined,
  ) {}

  /** Loads the state of `dir`; a missing or unreadable file is an empty state (everything gets checked). */
  static async load(dir: string): Promise<DownloadState> {
    const file = path.join(dir, STATE_FILE);
    const text = await readFile(file, 'utf8').catch(() => undefined);
    let files: Record<string, Entry> = {};
    let source: DownloadSource | undefined;
    try {
      const json = text === undefined ? undefined : (JSON.parse(text) as Partial<StateJson>);
      if (json?.version === 1 && typeof json.files === 'object' && json.files !== null) {
        files = { ...json.files };
        source = json.source;
      }
    } catch {
      // A damaged cache only costs a re-hash.
    }
    return new DownloadState(file, files, source);
  }

  /** True when `relPath` was verified with content `id` and is unchanged on disk since. */
  async isVerified(dir: string, relPath: string, id: string): Promise<boolean> {
    const entry = this.files[relPath];
    if (entry === undefined || entry.id !== id) return false;
    const current = await stat(path.join(dir, relPath)).catch(() => undefined);
    return current !== undefined && current.size === entry.size && current.mtimeMs === entry.mtimeMs;
  }

  /** Records that `relPath` now holds verified content `id`, and saves the state. */
  async markVerified(dir: string, relPath: string, id: string): Promise<void> {
    const current = await stat(path.join(dir, relPath));
    this.files[relPath] = { id, size: current.size, mtimeMs: current.mtimeMs };
    await this.save();
  }

  /** Records that every file now comes from `source` (the download completed), and saves the state. */
  async recordSource(source: DownloadSource): Promise<void> {
    this.source = { repo: source.repo, revision: source.revision, commit: source.commit };
    await this.save();
  }

  private async save(): Promise<void> {
    const json: StateJson = { version: 1, ...(this.source !== undefined ? { source: this.source } : {}), files: this.files };
    // Written aside and renamed: a crash mid-write must not leave a half file that hides verified entries.
    const temp = `${this.file}.tmp`;
    await writeFile(temp, `${JSON.stringify(json, null, 2)}\n`);
    await rename(temp, this.file);
  }
}

/**
 * The bookkeeping of a size-capped directory, least recently used first: what the file job store (DATA_DIR/jobs)
 * and the disk stage cache (DATA_DIR/cache) both keep in memory about their files. Pure: it only chooses; the
 * caller removes the files it is handed.
 */

/** One entry: its bytes on disk and its last use (ms since the epoch). */
export interface LruEntry {
  readonly bytes: number;
  readonly lastUsed: number;
}

/** Entries by key, their total bytes, and the order in which they go. */
export class LruIndex {
  readonly #entries = new Map<string, LruEntry>();
  #usedBytes = 0;
  /** The latest use time seen or handed out: {@link tick} is later, even within one millisecond. */
  #clock = 0;

  /** Bytes of all entries together. */
  get usedBytes(): number {
    return this.#usedBytes;
  }

  /** Number of entries. */
  get size(): number {
    return this.#entries.size;
  }

  get(key: string): LruEntry | undefined {
    return this.#entries.get(key);
  }

  /** A use time later than any other, so that the order has no ties (ties would go by key, at random). */
  tick(): number {
    this.#clock = Math.max(Date.now(), this.#clock + 1);
    return this.#clock;
  }

  /** Counts `key` (again) with these bytes and last use. */
  track(key: string, bytes: number, lastUsed: number): void {
    this.untrack(key);
    this.#entries.set(key, { bytes, lastUsed });
    this.#usedBytes += bytes;
    this.#clock = Math.max(this.#clock, Math.ceil(lastUsed));
  }

  /** Stops counting `key` (no-op when unknown). */
  untrack(key: string): void {
    const entry = this.#entries.get(key);
    if (entry === undefined) return;
    this.#entries.delete(key);
    this.#usedBytes -= entry.bytes;
  }

  /**
   * The least recently used keys, never `keep`, that must go for at most `bytes` to be used, oldest first. They are
   * untracked at once (synchronously), so two callers evicting concurrently never pick the same victims.
   */
  takeVictims(bytes: number, keep?: string): string[] {
    const victims: string[] = [];
    const oldestFirst = [...this.#entries].filter(([key]) => key !== keep).sort(([, a], [, b]) => a.lastUsed - b.lastUsed);
    for (const [key] of oldestFirst) {
      if (this.#usedBytes <= bytes) break;
      victims.push(key);
      this.untrack(key);
    }
    return victims;
  }
}

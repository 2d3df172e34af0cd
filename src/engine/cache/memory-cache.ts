/** The in-memory tier of the stage cache: least recently used entries go first once the byte cap is reached. */
import { entryBytes, type StageCache } from './stage-cache.js';

/** A byte-capped LRU of float arrays. */
export class MemoryStageCache implements StageCache {
  /** Map order is use order: the first entry is the least recently used. */
  readonly #entries = new Map<string, readonly Float32Array[]>();
  #usedBytes = 0;

  constructor(private readonly maxBytes: number) {}

  /** Bytes held. */
  get usedBytes(): number {
    return this.#usedBytes;
  }

  get(key: string): Promise<Float32Array[] | undefined> {
    const arrays = this.#entries.get(key);
    if (arrays === undefined) return Promise.resolve(undefined);
    this.#entries.delete(key);
    this.#entries.set(key, arrays);
    return Promise.resolve([...arrays]);
  }

  set(key: string, arrays: readonly Float32Array[]): Promise<void> {
    this.#remove(key);
    const bytes = entryBytes(arrays);
    // An entry above the whole cap would only evict everything and then itself.
    if (bytes > this.maxBytes) return Promise.resolve();
    this.#entries.set(key, [...arrays]);
    this.#usedBytes += bytes;
    for (const oldest of this.#entries.keys()) {
      if (this.#usedBytes <= this.maxBytes) break;
      this.#remove(oldest);
    }
    return Promise.resolve();
  }

  #remove(key: string): void {
    const arrays = this.#entries.get(key);
    if (arrays === undefined) return;
    this.#entries.delete(key);
    this.#usedBytes -= entryBytes(arrays);
  }
}

/** The stage cache a long-running process (bot, worker) uses: memory over DATA_DIR/cache, either tier optional. */
import type { Logger } from '../../logger.js';
import { DiskStageCache } from './disk-cache.js';
import { MemoryStageCache } from './memory-cache.js';
import { TieredStageCache, type StageCache } from './stage-cache.js';

/** Sizes of the two tiers; 0 turns a tier off. */
export interface StageCacheOptions {
  readonly memoryBytes: number;
  readonly diskBytes: number;
  readonly logger: Logger;
}

/**
 * The cache in `dir`, or undefined when both tiers are off. A directory that cannot be used costs only the disk
 * tier (logged): the cache is an optimisation, never a reason not to start.
 */
export async function openStageCache(dir: string, { memoryBytes, diskBytes, logger }: StageCacheOptions): Promise<StageCache | undefined> {
  const memory = memoryBytes > 0 ? new MemoryStageCache(memoryBytes) : undefined;
  let disk: DiskStageCache | undefined;
  if (diskBytes > 0) {
    try {
      disk = await DiskStageCache.open(dir, { maxBytes: diskBytes, logger });
    } catch (error) {
      // The cause in a word, not a stack: start-up logs are read by people (a bot then stops on the job store's
      // clear error for the same directory; a worker goes on).
      const { code, message } = error as NodeJS.ErrnoException;
      logger.warn('stage cache directory unusable: keeping the cache in memory only', { dir, code, message });
    }
  }
  if (memory !== undefined && disk !== undefined) return new TieredStageCache(memory, disk);
  return memory ?? disk;
}

/** Loading the engine for a long-running process (`npm start`, `npm run worker`): build it, warm it up, say so. */
import path from 'node:path';
import type { BotConfig } from '../config/bot.js';
import { engineOptionsFrom, type EngineConfig } from '../config/engine.js';
import { openStageCache } from '../engine/cache/open-cache.js';
import { DiffEditEngine } from '../engine/engine.js';
import type { Logger } from '../logger.js';

/** The bot settings the engine of a long-running process takes: its input limit and its stage cache. */
export type ProcessEngineSettings = Pick<BotConfig, 'maxInputPixels' | 'dataDir' | 'editCacheMemoryBytes' | 'editCacheDiskBytes'>;

/**
 * The engine from its settings, with the stage cache in DATA_DIR/cache (so Rerolls skip the mask and the inversion,
 * also after a restart), warmed up so the first user does not pay for it.
 */
export async function loadWarmEngine(config: EngineConfig, settings: ProcessEngineSettings, logger: Logger): Promise<DiffEditEngine> {
  const cache = await openStageCache(path.join(settings.dataDir, 'cache'), {
    memoryBytes: settings.editCacheMemoryBytes,
    diskBytes: settings.editCacheDiskBytes,
    logger,
  });
  const engine = await DiffEditEngine.create({ ...engineOptionsFrom(config, logger), maxInputPixels: settings.maxInputPixels, cache });
  const warmUpMs = await engine.warmUp();
  logger.info('engine ready', { providers: engine.models.providers, warmUpMs });
  return engine;
}

/** Loading the engine for a long-running process (`npm start`, `npm run worker`): build it, warm it up, say so. */
import { engineOptionsFrom, type EngineConfig } from '../config/engine.js';
import { DiffEditEngine } from '../engine/engine.js';
import type { Logger } from '../logger.js';

/** The engine from its settings, warmed up so the first user does not pay for it. */
export async function loadWarmEngine(config: EngineConfig, maxInputPixels: number, logger: Logger): Promise<DiffEditEngine> {
  const engine = await DiffEditEngine.create({ ...engineOptionsFrom(config, logger), maxInputPixels });
  const warmUpMs = await engine.warmUp();
  logger.info('engine ready', { providers: engine.models.providers, warmUpMs });
  return engine;
}

/**
 * Test support: the engine on the committed demo model (demo/model, trained by tools/demo-model), and the
 * thresholds the quality tests hold it to. The thresholds come from `npm run bench:quality`'s measurements with a
 * margin (docs/quality.md records both); the bench prints them beside what it measures.
 */
import { fileURLToPath } from 'node:url';
import { DiffEditEngine, type EngineOptions } from '../../../src/engine/engine.js';
import { silentLogger } from '../../../src/logger.js';

export const DEMO_MODEL_DIR = fileURLToPath(new URL('../../../demo/model', import.meta.url));

/** The engine on the demo model (or on `modelDir`, e.g. an optimised copy of it), CPU, no optimised copy picked. */
export function demoEngine(options: Partial<EngineOptions> = {}): Promise<DiffEditEngine> {
  return DiffEditEngine.create({
    modelDir: DEMO_MODEL_DIR,
    providers: ['cpu'],
    logger: silentLogger,
    preferOptimized: false,
    maxBatch: 20,
    ...options,
  });
}

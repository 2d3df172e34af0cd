/**
 * `npm run worker`: one GPU worker for QUEUE_BACKEND=redis. Loads the engine once (warming the UNet up), then takes
 * jobs from REDIS_URL one at a time. SIGINT/SIGTERM: finishes the running job within SHUTDOWN_GRACE_MS or hands it
 * back to the queue, then exits.
 */
import 'dotenv/config';
import { describeFailure } from '../../cli/failure.js';
import { onShutdownSignal } from '../../cli/shutdown-signal.js';
import { readBotConfig } from '../../config/bot.js';
import { loadWarmEngine } from '../../cli/load-engine.js';
import { readEngineConfig } from '../../config/engine.js';
import { EnvReader } from '../../config/env.js';
import type { DiffEditEngine } from '../../engine/engine.js';
import { createLogger } from '../../logger.js';
import { EditWorker } from './worker.js';

async function main(): Promise<void> {
  const env = new EnvReader(process.env);
  const engineConfig = readEngineConfig(env);
  const config = readBotConfig(env);
  env.assertValid();
  const logger = createLogger(engineConfig.logLevel);

  let engine: DiffEditEngine | undefined;
  let worker: EditWorker | undefined;
  onShutdownSignal(logger, config.shutdownGraceMs, async () => {
    await worker?.close(config.shutdownGraceMs);
    await engine?.close();
  });

  engine = await loadWarmEngine(engineConfig, config, logger);
  worker = new EditWorker({ redisUrl: config.redisUrl, engine, jobTimeoutMs: config.jobTimeoutMs, lockMs: config.workerLockMs, logger });
  await worker.ready();
  logger.info('worker taking jobs', { redis: config.redisUrl });
}

main().catch((error: unknown) => {
  process.stderr.write(`${describeFailure(error)}\n`);
  process.exit(1);
});

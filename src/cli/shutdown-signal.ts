/** Shutdown on SIGINT/SIGTERM, shared by `npm start` and `npm run worker`. */
import type { Logger } from '../logger.js';

/** Beyond the grace period, how long a shutdown may take before the process exits anyway. */
const EXIT_MARGIN_MS = 10_000;

/**
 * On the first SIGINT/SIGTERM runs `stop` and exits 0 (1 if it failed); a second signal, or `stop` overrunning
 * `graceMs` plus a margin, exits at once.
 */
export function onShutdownSignal(logger: Logger, graceMs: number, stop: () => Promise<void>): void {
  const limitMs = graceMs + EXIT_MARGIN_MS;
  let stopping = false;
  const handle = (signal: NodeJS.Signals): void => {
    if (stopping) {
      logger.warn('second signal: exiting now', { signal });
      process.exit(1);
    }
    stopping = true;
    logger.info('signal received', { signal });
    setTimeout(() => {
      logger.error('shutdown took too long: exiting', { limitMs });
      process.exit(1);
    }, limitMs).unref();
    stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error('shutdown failed', { error });
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', handle);
  process.on('SIGTERM', handle);
}

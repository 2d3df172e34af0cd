/** Calling a caller's hook (position, start, progress) from code that must keep going whatever the hook does. */
import type { LogFields, Logger } from '../logger.js';

/** Runs `hook`; one that throws is the caller's bug: it is logged as `message`, never allowed to break the caller. */
export function callHook(logger: Logger, message: string, fields: LogFields, hook: () => void): void {
  try {
    hook();
  } catch (error) {
    logger.warn(message, { ...fields, error });
  }
}

/**
 * What a user sees when something fails: the typed error's own message, or a short generic line with a
 * reference that matches the log entry. Never a stack trace.
 */
import { randomBytes } from 'node:crypto';
import { isDiffEditError } from '../errors.js';
import type { Logger } from '../logger.js';

/** The message for the user; unexpected errors are logged with a reference the message repeats. */
export function userMessageFor(error: unknown, logger: Logger, context: Record<string, unknown> = {}): string {
  if (isDiffEditError(error)) {
    logger.info('job refused or failed', { code: error.code, details: error.details, ...context });
    return error.message;
  }
  const reference = randomBytes(4).toString('hex');
  logger.error('unexpected error', { reference, error, ...context });
  return `Something went wrong on our side (reference ${reference}). Please try again later.`;
}

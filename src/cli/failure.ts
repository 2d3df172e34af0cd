/**
 * The one line a command-line entry point prints when it fails: the message of errors users cause (bad
 * input, configuration, missing files), the stack only for real bugs.
 */
import { ConfigError } from '../config/env.js';
import { isDiffEditError } from '../errors.js';

/** Text for stderr describing `error`. */
export function describeFailure(error: unknown): string {
  if (isDiffEditError(error) || error instanceof ConfigError) return error.message;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (error instanceof Error && typeof code === 'string' && /^E[A-Z]+$/.test(code)) return error.message; // ENOENT, EACCES...
  if (error instanceof Error && error.name === 'TypeError' && /parseArgs|Unknown option|argument/i.test(error.message)) return error.message;
  return String(error instanceof Error ? (error.stack ?? error.message) : error);
}

/** Runs a command-line entry point: exits with its code, or prints {@link describeFailure} and exits with 1. */
export function runCommand(main: () => Promise<number>): void {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`${describeFailure(error)}\n`);
      process.exit(1);
    },
  );
}

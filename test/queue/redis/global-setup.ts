/** Says once per run, not once per file, that the Redis tests are skipped and how to enable them. */
import { HAS_REDIS, SKIP_LINE } from './redis-server.js';

export default function setup(): void {
  if (!HAS_REDIS) process.stdout.write(`${SKIP_LINE}\n`);
}

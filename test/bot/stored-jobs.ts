/** Test support for the job stores: a job as the lifecycle hands it over, and pictures that say whose they are. */
import type { NewJob } from '../../src/bot/job-store.js';

/** A job as the lifecycle hands it to a store. */
export function newJob(overrides: Partial<NewJob> = {}): NewJob {
  return {
    kind: 'diffedit',
    userId: '111111111111111111',
    sourceUserId: '111111111111111111',
    channelId: '222222222222222222',
    guildId: null,
    ref: 'a bowl of fruits',
    query: 'a bowl of pears',
    parameters: { seed: 42, steps: 50, strength: 0.8, thresholding: { mode: 'clamp', ratio: 5 } },
    ...overrides,
  };
}

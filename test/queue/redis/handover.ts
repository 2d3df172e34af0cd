/** Test support: the Handover a bot gives the Redis backend with each job, for tests that submit without Discord. */
import type { Handover } from '../../../src/bot/edit-backend.js';

/** A job of `userId`'s in a channel that does not exist: enough for the backend, never delivered. */
export function testHandover(userId = 'alice'): Handover {
  return {
    target: { applicationId: '1', interactionId: `test:${userId}`, token: '', issuedAt: 0, channelId: null, guildId: null, userId },
    job: { kind: 'diffedit', userId, sourceUserId: userId, channelId: '1', guildId: null, ref: 'a cat', query: 'a dog', parameters: {} },
  };
}

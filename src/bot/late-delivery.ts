/**
 * Results no delivery route reached (kept by the job store as undelivered) are tried again when a bot process starts:
 * the interaction token is long gone, so down the ladder's bot-token rungs (the channel, mentioning the user, then a
 * DM), as the message a live delivery would have posted (both pictures, seeds, warnings, buttons) with a note saying
 * when the job ran. A result that still reaches nobody stays kept for the next start; so does one that cannot be read,
 * for an operator to look at.
 */
import type { Client } from 'discord.js';
import { JobReply, type DeliveryTarget, type JobReplyOptions, type ResultMessage } from './delivery.js';
import type { JobStore, StoredJob } from './job-store.js';
import { lateNote, lateResultLine } from './messages.js';
import type { BotMetrics } from './metrics.js';
import { resultButtons, resultFileName, resultMessage } from './result-message.js';
import { decodeUndelivered } from './undelivered-result.js';

/** Tries every undelivered result once; resolves when all were tried. */
export async function retryUndelivered(store: JobStore, client: Client<true>, options: JobReplyOptions, metrics: BotMetrics): Promise<void> {
  for (const id of await store.undelivered()) {
    const taken = await store.takeUndelivered(id);
    if (taken === undefined) continue;
    const { job, result } = taken;
    const message = lateMessage(job, result);
    if (message === undefined) {
      options.logger.error('undelivered result cannot be read: kept for an operator', { job: id, user: job.userId, bytes: result.byteLength });
      await store.settleUndelivered(id, false);
      continue;
    }
    const reply = JobReply.resume(client, storedTarget(client.application.id, job), options);
    const route = await reply.deliver(message);
    metrics.delivered(route);
    await store.settleUndelivered(id, route !== 'none');
    if (route === 'none') options.logger.error('undelivered result still reaches no one: kept', { job: id, user: job.userId });
    else options.logger.info('undelivered result delivered at last', { job: id, user: job.userId, route });
  }
}

/** What a live delivery would have posted, with the late note; a panel kept by an earlier version goes with its old line. */
function lateMessage(job: StoredJob, kept: Uint8Array): ResultMessage | undefined {
  const decoded = decodeUndelivered(kept);
  if (decoded === undefined) return undefined;
  if (decoded.kind === 'output') return resultMessage(job.kind, decoded.output, job, [lateNote(job.kind, job.createdAt)]);
  return {
    content: lateResultLine({ ...job, seed: job.parameters['seed'] }),
    files: [{ data: decoded.png, name: resultFileName(job.kind) }],
    components: [resultButtons(job.kind, job.id)],
  };
}

/** A stored job's user and channel, without an interaction (so without a token: the bot-token rungs only). */
function storedTarget(applicationId: string, job: StoredJob): DeliveryTarget {
  return {
    applicationId,
    interactionId: `job:${job.id}`,
    token: '',
    issuedAt: job.createdAt,
    channelId: job.channelId,
    guildId: job.guildId,
    userId: job.userId,
  };
}

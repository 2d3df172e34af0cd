/**
 * Results no delivery route reached (kept by the job store as undelivered) are tried again when a bot process starts:
 * the interaction token is long gone, so down the ladder's bot-token rungs (the channel, mentioning the user, then a
 * DM), with the result's buttons. A result that still reaches nobody stays kept for the next start.
 */
import type { Client } from 'discord.js';
import { JobReply, type DeliveryTarget, type JobReplyOptions } from './delivery.js';
import { resultButtons, resultFileName } from './job-lifecycle.js';
import type { JobStore, StoredJob } from './job-store.js';
import { lateResultLine } from './messages.js';
import type { BotMetrics } from './metrics.js';

/** Tries every undelivered result once; resolves when all were tried. */
export async function retryUndelivered(store: JobStore, client: Client<true>, options: JobReplyOptions, metrics: BotMetrics): Promise<void> {
  for (const id of await store.undelivered()) {
    const taken = await store.takeUndelivered(id);
    if (taken === undefined) continue;
    const { job, result } = taken;
    const reply = JobReply.resume(client, storedTarget(client.application.id, job), options);
    const route = await reply.deliver({
      content: lateResultLine({ ...job, seed: job.parameters['seed'] }),
      files: [{ data: Buffer.from(result), name: resultFileName(job.kind) }],
      components: [resultButtons(job.kind, job.id)],
    });
    metrics.delivered(route);
    await store.settleUndelivered(id, route !== 'none');
    if (route === 'none') options.logger.error('undelivered result still reaches no one: kept', { job: id, user: job.userId });
    else options.logger.info('undelivered result delivered at last', { job: id, user: job.userId, route });
  }
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

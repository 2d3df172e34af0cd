/**
 * "Use k" under a result of several candidates: posts candidate k's full-size photo (kept with the job, composited
 * like any result's) as a message of its own, with the buttons of a job kept for it: that candidate's settings with
 * its own edit seed and one candidate, so that its Reroll, Smaller and Larger area start from it. No model runs.
 */
import type { ButtonInteraction } from 'discord.js';
import { DiffEditError, ErrorCode } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { photoFromWire } from '../../queue/redis/protocol.js';
import type { JobReply } from '../delivery.js';
import type { JobStore, StoredJob } from '../job-store.js';
import { candidateMessage } from '../result-message.js';

/** Posts candidate `index` (1-based) of `saved`; throws what the user should be told privately. */
export async function postCandidate(
  interaction: ButtonInteraction,
  reply: JobReply,
  saved: { job: StoredJob; image: Uint8Array },
  index: number,
  deps: { readonly store: JobStore; readonly logger: Logger },
): Promise<void> {
  const { job, image } = saved;
  const candidates = job.candidates ?? [];
  const kept = candidates[index - 1];
  if (kept === undefined) {
    throw new DiffEditError(ErrorCode.JobExpired, `Candidate ${index} is not kept with this result. Reroll it to make new candidates.`, {
      job: job.id,
      candidate: index,
    });
  }
  if (kept.photo === undefined) {
    throw new DiffEditError(ErrorCode.ImageTooLarge, `Candidate ${index}'s photo did not fit within the upload limit, so it cannot be posted.`, {
      job: job.id,
      candidate: index,
    });
  }
  await reply.acknowledge();
  const maskSeed = Number(job.parameters['maskSeed'] ?? job.parameters['seed']);
  const stored = await keepCandidate(job, kept.seed, image, interaction, deps);
  const message = candidateMessage(job, { seed: kept.seed, maskSeed, photo: photoFromWire(kept.photo) }, { index, count: candidates.length }, stored);
  const route = await reply.deliver(message);
  deps.logger.info('candidate posted', { job: job.id, candidate: index, kept: stored?.id, user: interaction.user.id, route });
}

/** The job behind the posted candidate (its seed, one candidate), owned by whoever chose it; a fault costs the buttons. */
async function keepCandidate(
  job: StoredJob,
  seed: number,
  image: Uint8Array,
  interaction: ButtonInteraction,
  deps: { readonly store: JobStore; readonly logger: Logger },
): Promise<StoredJob | undefined> {
  const { kind, sourceUserId, guildId, ref, query, parameters } = job;
  try {
    return await deps.store.save(
      {
        kind,
        userId: interaction.user.id,
        sourceUserId,
        channelId: interaction.channelId,
        guildId,
        ref,
        query,
        parameters: { ...parameters, seed },
        variations: 1,
      },
      image,
    );
  } catch (error) {
    deps.logger.error('could not keep the chosen candidate: posting it without buttons', { job: job.id, error });
    return undefined;
  }
}

/**
 * The buttons under results. Reroll: same inputs, new seed. Edit with this mask: the full edit with the
 * mask job's seed (the mask is a pure function of image, prompts and seed, so it is the same mask).
 * Delete: only the job's author or someone with Manage Messages.
 */
import { PermissionFlagsBits, type ButtonInteraction } from 'discord.js';
import { DiffEditError, ErrorCode } from '../../errors.js';
import type { EditParameters } from '../../engine/parameters.js';
import { randomSeed } from '../../engine/noise.js';
import type { Logger } from '../../logger.js';
import { parseButtonId } from '../custom-ids.js';
import type { JobRunner } from '../job-runner.js';
import type { JobStore } from '../job-store.js';
import { userMessageFor } from '../user-errors.js';
import { replyPrivately } from './ephemeral.js';
import { submitJob } from './submit.js';

/** What the button handler needs. */
export interface ButtonDeps {
  readonly runner: JobRunner;
  readonly store: JobStore;
  readonly logger: Logger;
}

const EXPIRED = new DiffEditError(
  ErrorCode.JobExpired,
  'This result is too old: its picture is no longer kept. Run the command again with the picture.',
);

/** Handles a click on one of our buttons. */
export async function handleButton(interaction: ButtonInteraction, deps: ButtonDeps): Promise<void> {
  const parsed = parseButtonId(interaction.customId);
  if (parsed === undefined) {
    await replyPrivately(interaction, 'This button is not one of mine.');
    return;
  }
  try {
    if (parsed.action === 'delete') {
      await deleteResult(interaction, parsed.jobId, deps);
      return;
    }
    const saved = await deps.store.load(parsed.jobId);
    if (saved === undefined) throw EXPIRED;
    const { job, image } = saved;
    const previous = job.parameters as Partial<EditParameters>;
    const seed = parsed.action === 'reroll' ? randomSeed() : previous.seed;
    await submitJob(
      interaction,
      {
        kind: parsed.action === 'edit' ? 'diffedit' : job.kind,
        userId: interaction.user.id,
        channelId: interaction.channelId,
        guildId: interaction.guildId,
        ref: job.ref,
        query: job.query,
        parameters: { ...previous, ...(seed !== undefined ? { seed } : {}) },
        image: { kind: 'bytes', bytes: image },
      },
      deps.runner,
      deps.logger,
    );
  } catch (error) {
    await replyPrivately(interaction, userMessageFor(error, deps.logger, { user: interaction.user.id, button: interaction.customId }));
  }
}

async function deleteResult(interaction: ButtonInteraction, jobId: string, deps: ButtonDeps): Promise<void> {
  const saved = await deps.store.load(jobId);
  const isAuthor = saved?.job.userId === interaction.user.id || interaction.message.interactionMetadata?.user.id === interaction.user.id;
  const isModerator = interaction.memberPermissions?.has(PermissionFlagsBits.ManageMessages) === true;
  if (!isAuthor && !isModerator) {
    throw new DiffEditError(ErrorCode.NotAllowed, 'Only the person who asked for this result, or a moderator, can delete it.', {
      user: interaction.user.id,
    });
  }
  // For a component interaction, "@original" is the message the button sits on: no channel permission needed.
  await interaction.deferUpdate();
  await interaction.deleteReply();
}

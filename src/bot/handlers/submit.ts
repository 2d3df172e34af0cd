/**
 * The shared path of every interaction that starts a job: admit it (a refusal is answered privately, before
 * any public message exists), acknowledge publicly, then let the job runner take over.
 */
import type { RepliableInteraction } from 'discord.js';
import type { Logger } from '../../logger.js';
import type { JobInput, JobRunner } from '../job-runner.js';
import { InteractionReplyTarget } from '../reply-target.js';
import { userMessageFor } from '../user-errors.js';
import { deferred, replyPrivately } from './ephemeral.js';

/** Admits `input` and acknowledges `interaction`; resolves when the job has been answered. */
export async function submitJob(interaction: RepliableInteraction, input: JobInput, runner: JobRunner, logger: Logger): Promise<void> {
  const ready = deferred();
  let done: Promise<void>;
  try {
    done = runner.admit(input, new InteractionReplyTarget(interaction, logger), ready.promise);
  } catch (error) {
    await replyPrivately(interaction, userMessageFor(error, logger, { user: input.userId }));
    return;
  }
  try {
    await interaction.deferReply();
    ready.resolve();
  } catch (error) {
    ready.reject(error);
  }
  await done;
}

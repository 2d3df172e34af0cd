/** /diffedit and /mask: the command module reads its options, admission checks them, the job's life begins. */
import type { ChatInputCommandInteraction, RepliableInteraction } from 'discord.js';
import { findCommand, type CommandRequest } from '../../../commands/index.js';
import { DiffEditError, ErrorCode } from '../../errors.js';
import { admit, type JobOwner } from '../admission.js';
import type { AttachmentLimits } from '../attachments.js';
import type { JobReply } from '../delivery.js';
import type { JobLifecycle } from '../job-lifecycle.js';

/** What the command handler needs. */
export interface CommandDeps {
  readonly lifecycle: JobLifecycle;
  readonly attachmentLimits: AttachmentLimits;
}

/** Handles a chat-input command; throws what the user should be told privately. */
export async function handleCommand(interaction: ChatInputCommandInteraction, reply: JobReply, deps: CommandDeps): Promise<void> {
  const command = findCommand(interaction.commandName);
  if (command === undefined) {
    throw new DiffEditError(ErrorCode.StaleCommand, `/${interaction.commandName} no longer exists. Reload Discord to see the current commands.`, {
      command: interaction.commandName,
    });
  }
  await startJob(interaction, command.read(interaction), { sourceUserId: interaction.user.id, channelId: interaction.channelId }, reply, deps);
}

/**
 * Admits a request on an attachment and runs its job: the one path of every command, whichever way its input came
 * (options, or a modal). The job belongs to whoever asked; `origin` says who brought the picture, and where.
 */
export async function startJob(
  interaction: RepliableInteraction,
  request: CommandRequest,
  origin: Pick<JobOwner, 'sourceUserId' | 'channelId'>,
  reply: JobReply,
  deps: CommandDeps,
): Promise<void> {
  const plan = admit(
    {
      kind: request.kind,
      ref: request.ref,
      query: request.query,
      parameters: request.parameters,
      variations: request.variations,
      image: { kind: 'attachment', info: request.attachment, sizeLimit: interaction.attachmentSizeLimit },
    },
    { userId: interaction.user.id, ...origin, guildId: interaction.guildId },
    deps.attachmentLimits,
  );
  await deps.lifecycle.run(plan, reply);
}

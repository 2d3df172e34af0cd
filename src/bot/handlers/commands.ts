/** /diffedit and /mask: the command module reads its options, admission checks them, the job's life begins. */
import type { ChatInputCommandInteraction } from 'discord.js';
import { findCommand } from '../../../commands/index.js';
import { DiffEditError, ErrorCode } from '../../errors.js';
import { admit } from '../admission.js';
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
  const request = command.read(interaction);
  const plan = admit(
    {
      kind: request.kind,
      ref: request.ref,
      query: request.query,
      parameters: request.parameters,
      image: { kind: 'attachment', info: request.attachment, sizeLimit: interaction.attachmentSizeLimit },
    },
    { userId: interaction.user.id, sourceUserId: interaction.user.id, channelId: interaction.channelId, guildId: interaction.guildId },
    deps.attachmentLimits,
  );
  await deps.lifecycle.run(interaction, plan, reply);
}

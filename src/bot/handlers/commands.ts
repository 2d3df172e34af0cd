/**
 * /diffedit and /mask: read the options, check the attachment's declared metadata (type, size, dimensions)
 * before anything is downloaded, and submit the job.
 */
import type { ChatInputCommandInteraction } from 'discord.js';
import { DIFFEDIT_COMMAND, MASK_COMMAND } from '../../../commands/index.js';
import type { Logger } from '../../logger.js';
import { definedOnly } from '../../util/objects.js';
import { checkAttachment, type AttachmentInfo, type AttachmentLimits } from '../attachments.js';
import type { JobRunner } from '../job-runner.js';
import { userMessageFor } from '../user-errors.js';
import { replyPrivately } from './ephemeral.js';
import { submitJob } from './submit.js';

/** What the command handler needs. */
export interface CommandDeps {
  readonly runner: JobRunner;
  readonly attachmentLimits: AttachmentLimits;
  readonly logger: Logger;
}

/** Handles a chat-input command; unknown commands get a private note. */
export async function handleCommand(interaction: ChatInputCommandInteraction, deps: CommandDeps): Promise<void> {
  const name = interaction.commandName;
  if (name !== DIFFEDIT_COMMAND && name !== MASK_COMMAND) {
    await replyPrivately(interaction, `Unknown command /${name}.`);
    return;
  }
  const options = interaction.options;
  const attachment = options.getAttachment('image', true);
  const info: AttachmentInfo = {
    url: attachment.url,
    filename: attachment.name,
    size: attachment.size,
    contentType: attachment.contentType,
    width: attachment.width,
    height: attachment.height,
  };
  const sizeLimit = interaction.attachmentSizeLimit as number | undefined;
  try {
    checkAttachment(info, deps.attachmentLimits, sizeLimit);
  } catch (error) {
    await replyPrivately(interaction, userMessageFor(error, deps.logger, { user: interaction.user.id }));
    return;
  }
  const parameters = definedOnly({
    seed: options.getInteger('seed') ?? undefined,
    ...(name === DIFFEDIT_COMMAND
      ? {
          steps: options.getInteger('steps') ?? undefined,
          strength: options.getNumber('strength') ?? undefined,
          guidance: options.getNumber('guidance') ?? undefined,
        }
      : {}),
  });
  await submitJob(
    interaction,
    {
      kind: name === MASK_COMMAND ? 'mask' : 'diffedit',
      userId: interaction.user.id,
      channelId: interaction.channelId,
      guildId: interaction.guildId,
      ref: options.getString('ref', true),
      query: options.getString('query', true),
      parameters,
      image: { kind: 'attachment', info, sizeLimit },
    },
    deps.runner,
    deps.logger,
  );
}

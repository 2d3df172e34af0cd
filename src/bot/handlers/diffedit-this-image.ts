/**
 * "DiffEdit this image": the message menu answers with a modal, the modal's submission starts the same job as
 * /diffedit. Both refuse privately before anything public exists: the menu when the message holds no picture the
 * bot could edit or the bot may not read the channel, the submission on a bad field, a message deleted meanwhile,
 * or a channel the bot can no longer read.
 */
import {
  DiscordAPIError,
  PermissionFlagsBits,
  type Attachment,
  type Client,
  type Message,
  type MessageContextMenuCommandInteraction,
  type ModalSubmitInteraction,
} from 'discord.js';
import {
  DIFFEDIT_THIS_IMAGE_COMMAND,
  findPicture,
  parsePictureModalId,
  pictureModal,
  readPictureModal,
  type PictureLocation,
} from '../../../commands/diffedit-this-image.js';
import { attachmentInfo } from '../../../commands/options.js';
import { DiffEditError, ErrorCode } from '../../errors.js';
import { checkAttachment } from '../attachments.js';
import type { JobReply } from '../delivery.js';
import { startJob, type CommandDeps } from './commands.js';

/** Discord's codes for a channel or message that does not exist (any more). */
const GONE_CODES = new Set([10003, 10008]);
/** Discord's codes for a channel the bot may not read. */
const NO_ACCESS_CODES = new Set([50001, 50013]);

/** The menu: finds the picture and asks for the prompts; throws what the user should be told privately. */
export async function handlePictureMenu(
  interaction: MessageContextMenuCommandInteraction,
  deps: Pick<CommandDeps, 'attachmentLimits'>,
): Promise<void> {
  // The submission fetches the message again with the bot token: where the bot may not read it, the form could only fail.
  if (!interaction.appPermissions.has([PermissionFlagsBits.ViewChannel, PermissionFlagsBits.ReadMessageHistory])) {
    throw new DiffEditError(
      ErrorCode.NotAllowed,
      'I cannot read the messages of this channel, so I cannot fetch that picture. Ask a moderator to let me see it.',
      {
        channel: interaction.channelId,
      },
    );
  }
  const message = interaction.targetMessage;
  const picture = findPicture(message);
  if (picture === undefined) {
    throw new DiffEditError(
      ErrorCode.AttachmentNotImage,
      `That message holds no picture I can edit: use "${DIFFEDIT_THIS_IMAGE_COMMAND}" on a message with a JPEG, PNG or WebP attachment.`,
      { message: message.id, attachments: message.attachments.size, embeds: message.embeds.length },
    );
  }
  // What admission would refuse after the modal (type, size, dimensions, host) is refused before the user types.
  checkAttachment(attachmentInfo(picture), deps.attachmentLimits, interaction.attachmentSizeLimit);
  await interaction.showModal(pictureModal({ channelId: message.channelId, messageId: message.id, attachmentId: picture.id }));
}

/** The modal's submission: reads the fields, fetches the picture afresh, and runs the job as /diffedit does. */
export async function handlePictureModal(interaction: ModalSubmitInteraction, reply: JobReply, deps: CommandDeps): Promise<void> {
  const location = parsePictureModalId(interaction.customId);
  // The form names a message by id: only one in the channel it was submitted from, so that it cannot reach
  // a channel its user cannot see but the bot can.
  if (location === undefined || location.channelId !== interaction.channelId) {
    throw new DiffEditError(ErrorCode.StaleCommand, 'This form is not one of mine any more. Use the command on the message again.', {
      customId: interaction.customId,
    });
  }
  const fields = readPictureModal(interaction);
  const { message, picture } = await fetchPicture(interaction.client, location);
  await startJob(
    interaction,
    { kind: 'diffedit', attachment: attachmentInfo(picture), ...fields },
    { sourceUserId: message.author.id, channelId: location.channelId },
    reply,
    deps,
  );
}

/** The message as it is now (its attachment URL freshly signed), or why it cannot be used. */
async function fetchPicture(client: Client, location: PictureLocation): Promise<{ message: Message; picture: Attachment }> {
  let message: Message;
  try {
    const channel = await client.channels.fetch(location.channelId);
    if (channel === null || !channel.isTextBased()) throw pictureGone(location, 'not a text channel');
    // force: the menu's interaction put the message in the cache, with the URL that may have expired.
    message = await channel.messages.fetch({ message: location.messageId, force: true });
  } catch (error) {
    if (!(error instanceof DiscordAPIError) || typeof error.code !== 'number') throw error;
    if (GONE_CODES.has(error.code)) throw pictureGone(location, 'message deleted', error);
    if (NO_ACCESS_CODES.has(error.code)) {
      throw new DiffEditError(
        ErrorCode.PictureGone,
        'I cannot read that message any more (I lack access to this channel), so I cannot fetch its picture.',
        { ...location, code: error.code },
        { cause: error },
      );
    }
    throw error;
  }
  const picture = message.attachments.get(location.attachmentId);
  if (picture === undefined) throw pictureGone(location, 'attachment removed');
  return { message, picture };
}

function pictureGone(location: PictureLocation, reason: string, cause?: unknown): DiffEditError {
  return new DiffEditError(
    ErrorCode.PictureGone,
    'That picture is gone: its message was deleted or edited since you opened the form. Nothing was started.',
    { ...location, reason },
    cause === undefined ? undefined : { cause },
  );
}

/**
 * Where a job's messages go. Normally the interaction's deferred reply; once its token has expired (Discord
 * gives 15 minutes) the result is posted in the channel with the bot token, mentioning the user.
 */
import {
  AttachmentBuilder,
  DiscordAPIError,
  MessageFlags,
  type ActionRowBuilder,
  type ButtonBuilder,
  type RepliableInteraction,
} from 'discord.js';
import type { Logger } from '../logger.js';

/** An interaction token is valid for 15 minutes; stop using it a little before. */
export const INTERACTION_TOKEN_TTL_MS = 15 * 60 * 1000 - 30 * 1000;

/** Discord's error codes for an expired or unknown interaction token / webhook. */
const EXPIRED_TOKEN_CODES = new Set([50027, 10015, 10062]);

/** A finished job's message. */
export interface ResultMessage {
  readonly content: string;
  readonly png: Buffer;
  readonly fileName: string;
  readonly components: readonly ActionRowBuilder<ButtonBuilder>[];
}

/** The narrow interface jobs talk to. */
export interface ReplyTarget {
  /** The user the job is for. */
  readonly userId: string;
  /** Replaces the status text (queue position, progress). */
  status(content: string): Promise<void>;
  /** Posts the result. */
  deliver(message: ResultMessage): Promise<void>;
  /** Tells the user the job failed, privately where possible. */
  fail(message: string): Promise<void>;
}

/** A {@link ReplyTarget} over an interaction that has been deferred (publicly). */
export class InteractionReplyTarget implements ReplyTarget {
  readonly userId: string;

  constructor(
    private readonly interaction: RepliableInteraction,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {
    this.userId = interaction.user.id;
  }

  private get tokenExpired(): boolean {
    return this.now() - this.interaction.createdTimestamp > INTERACTION_TOKEN_TTL_MS;
  }

  async status(content: string): Promise<void> {
    if (this.tokenExpired) return; // nothing to edit any more; the result will go to the channel
    await this.interaction.editReply({ content });
  }

  async deliver(message: ResultMessage): Promise<void> {
    const files = [new AttachmentBuilder(message.png, { name: message.fileName })];
    const components = [...message.components];
    if (!this.tokenExpired) {
      try {
        await this.interaction.editReply({ content: message.content, files, components });
        return;
      } catch (error) {
        if (!isExpiredToken(error)) throw error;
      }
    }
    this.logger.info('interaction token expired: posting the result in the channel', { interaction: this.interaction.id });
    await this.sendToChannel({ content: `<@${this.userId}> ${message.content}`, files, components });
  }

  async fail(message: string): Promise<void> {
    if (!this.tokenExpired) {
      try {
        // The deferred reply is public; the failure is the user's business only.
        await this.interaction.deleteReply().catch(() => undefined);
        await this.interaction.followUp({ content: message, flags: MessageFlags.Ephemeral });
        return;
      } catch (error) {
        if (!isExpiredToken(error)) throw error;
      }
    }
    await this.sendToChannel({ content: `<@${this.userId}> ${message}`, files: [], components: [] });
  }

  private async sendToChannel(payload: {
    content: string;
    files: AttachmentBuilder[];
    components: ActionRowBuilder<ButtonBuilder>[];
  }): Promise<void> {
    const channelId = this.interaction.channelId;
    const channel = channelId === null ? null : await this.interaction.client.channels.fetch(channelId);
    if (channel === null || !channel.isSendable()) {
      throw new Error(`cannot post in channel ${String(channelId)}`);
    }
    await channel.send({ ...payload, allowedMentions: { users: [this.userId] } });
  }
}

/** True for the API errors Discord returns once an interaction token is no longer valid. */
export function isExpiredToken(error: unknown): boolean {
  return error instanceof DiscordAPIError && typeof error.code === 'number' && EXPIRED_TOKEN_CODES.has(error.code);
}

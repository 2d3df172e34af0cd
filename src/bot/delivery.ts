/**
 * Getting a job's messages to its user whatever Discord does: the delivery ladder.
 *
 *   result:  edit the interaction's reply -> post in the channel with the bot token (mentioning the user)
 *            -> a DM to the user -> nothing reached them ('none': the caller keeps the result as undelivered)
 *   failure: a private reply / follow-up -> a DM (a failure is never a public mention)
 *
 * Each rung retries Discord's 5xx and network errors with backoff while the delivery's retry budget lasts
 * (discord.js itself retries a 5xx only three times at once), and moves down on anything else: an expired or
 * unknown token (15 minutes have passed), a channel the bot may not post in, DMs closed. Whenever the result did
 * not land in the reply, the stale public placeholder ("Starting...") is removed while anything still allows it.
 */
import {
  AttachmentBuilder,
  DiscordAPIError,
  HTTPError,
  MessageFlags,
  Routes,
  type ActionRowBuilder,
  type ButtonBuilder,
  type MessageCreateOptions,
  type RepliableInteraction,
} from 'discord.js';
import type { Logger } from '../logger.js';

/** An interaction token is valid for 15 minutes; stop using it a little before. */
export const INTERACTION_TOKEN_TTL_MS = 15 * 60 * 1000 - 30 * 1000;

/** Discord's error codes for an expired or unknown interaction token / webhook. */
const EXPIRED_TOKEN_CODES = new Set([50027, 10015, 10062]);

/** Node and undici error codes of connections that broke or never came up: worth another try. */
const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENOTFOUND',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** How a message reached its user. */
export type DeliveryRoute = 'reply' | 'channel' | 'dm' | 'none';

/** A finished job's message. */
export interface ResultMessage {
  readonly content: string;
  readonly files: readonly { readonly data: Buffer; readonly name: string }[];
  readonly components: readonly ActionRowBuilder<ButtonBuilder>[];
}

/** Options of {@link JobReply}. */
export interface JobReplyOptions {
  /** Budget for retrying 5xx and network errors over one delivery. */
  readonly retryMs: number;
  readonly logger: Logger;
  /** The clock (tests age the interaction through it). */
  readonly now?: () => number;
  /** Waits between retries (tests shorten it). */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** The messages of one job, over one interaction. */
export class JobReply {
  /** True once {@link acknowledge} posted the public placeholder (a button's deferUpdate posts none). */
  #placeholder = false;
  /** The placeholder's message id, learnt from the first status edit; used to remove it with the bot token. */
  #placeholderId: string | undefined;
  /** Discord said the token is expired or unknown (the clock may not know: a token can die early). */
  #tokenDead = false;
  readonly #now: () => number;
  readonly #sleep: (ms: number) => Promise<void>;

  constructor(
    private readonly interaction: RepliableInteraction,
    private readonly options: JobReplyOptions,
  ) {
    this.#now = options.now ?? Date.now;
    this.#sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  private get userId(): string {
    return this.interaction.user.id;
  }

  private get tokenExpired(): boolean {
    return this.#tokenDead || this.#now() - this.interaction.createdTimestamp > INTERACTION_TOKEN_TTL_MS;
  }

  /** Acknowledges the interaction with a public "thinking..." placeholder that the job's messages replace. */
  async acknowledge(): Promise<void> {
    await this.interaction.deferReply();
    this.#placeholder = true;
  }

  /** Replaces the placeholder's text (queue position, progress) while the token lives. */
  async status(content: string): Promise<void> {
    if (this.tokenExpired) return;
    try {
      const message = await this.interaction.editReply({ content });
      this.#placeholderId ??= message.id;
    } catch (error) {
      if (isExpiredToken(error)) this.#tokenDead = true;
      throw error;
    }
  }

  /** Delivers a result down the ladder; resolves with the route that worked, never rejects. */
  async deliver(message: ResultMessage): Promise<DeliveryRoute> {
    const deadline = this.#now() + this.options.retryMs;
    const files = message.files.map((file) => new AttachmentBuilder(file.data, { name: file.name }));
    const components = [...message.components];
    if (!this.tokenExpired) {
      const edited = await this.attempt('edit the reply', deadline, () =>
        this.interaction.editReply({ content: message.content, files, components }),
      );
      if (edited) return 'reply';
    }
    const mentioned = { content: `<@${this.userId}> ${message.content}`, files, components, allowedMentions: { users: [this.userId] } };
    if (await this.attempt('post in the channel', deadline, () => this.sendToChannel(mentioned))) {
      await this.removePlaceholder();
      return 'channel';
    }
    const direct = { content: `${message.content}\n-# I could not post this in <#${this.interaction.channelId}>, so here it is.`, files, components };
    if (await this.attempt('send a DM', deadline, () => this.interaction.client.users.send(this.userId, direct))) {
      await this.removePlaceholder();
      return 'dm';
    }
    await this.removePlaceholder();
    return 'none';
  }

  /** Tells the user privately that the job failed (removing the public placeholder); never rejects. */
  async fail(content: string): Promise<DeliveryRoute> {
    const deadline = this.#now() + this.options.retryMs;
    const privately = { content, flags: MessageFlags.Ephemeral } as const;
    const { interaction } = this;
    if (!interaction.deferred && !interaction.replied) {
      if (await this.attempt('reply privately', deadline, () => interaction.reply(privately))) return 'reply';
    } else if (!this.tokenExpired) {
      await this.removePlaceholder();
      if (await this.attempt('follow up privately', deadline, () => interaction.followUp(privately))) return 'reply';
    }
    await this.removePlaceholder();
    if (await this.attempt('send a DM', deadline, () => interaction.client.users.send(this.userId, { content }))) return 'dm';
    this.options.logger.error('could not tell the user about a failure by any route', {
      user: this.userId,
      interaction: interaction.id,
      message: content,
    });
    return 'none';
  }

  /**
   * Runs one rung: true once `send` succeeded; false when the error says this route is closed, or when transient
   * errors outlasted the budget. One attempt is always made, even when the budget is spent.
   */
  private async attempt(what: string, deadline: number, send: () => Promise<unknown>): Promise<boolean> {
    for (let delay = 1000; ; delay = Math.min(delay * 2, 15_000)) {
      try {
        await send();
        return true;
      } catch (error) {
        if (isExpiredToken(error)) this.#tokenDead = true;
        const left = deadline - this.#now();
        if (!isTransient(error) || left <= 0) {
          this.options.logger.warn(`could not ${what}`, {
            interaction: this.interaction.id,
            user: this.userId,
            error,
            expiredToken: isExpiredToken(error),
          });
          return false;
        }
        this.options.logger.info(`Discord is failing to ${what}: retrying`, {
          interaction: this.interaction.id,
          error,
          retryInMs: Math.min(delay, left),
        });
        await this.#sleep(Math.min(delay, left));
      }
    }
  }

  private async sendToChannel(payload: MessageCreateOptions): Promise<void> {
    const channelId = this.interaction.channelId;
    const channel = channelId === null ? null : await this.interaction.client.channels.fetch(channelId);
    if (channel === null || !channel.isSendable()) throw new Error(`cannot post in channel ${String(channelId)}`);
    await channel.send(payload);
  }

  /** Best effort: through the token while it lives, else with the bot token (the bot may delete its own messages). */
  private async removePlaceholder(): Promise<void> {
    const { interaction } = this;
    if (!this.#placeholder) return;
    try {
      if (!this.tokenExpired) await interaction.deleteReply();
      else if (this.#placeholderId !== undefined && interaction.channelId !== null) {
        await interaction.client.rest.delete(Routes.channelMessage(interaction.channelId, this.#placeholderId));
      } else return;
      this.#placeholder = false;
    } catch (error) {
      if (isExpiredToken(error)) this.#tokenDead = true;
      if (!isUnknownMessage(error)) this.options.logger.info('could not remove the placeholder', { interaction: interaction.id, error });
    }
  }
}

/** True for the API errors Discord returns once an interaction token is no longer valid. */
export function isExpiredToken(error: unknown): boolean {
  return error instanceof DiscordAPIError && typeof error.code === 'number' && EXPIRED_TOKEN_CODES.has(error.code);
}

/** True for 10008 Unknown Message: whatever was to be deleted is already gone. */
export function isUnknownMessage(error: unknown): boolean {
  return error instanceof DiscordAPIError && error.code === 10008;
}

/** Discord's 5xx (after discord.js' own immediate retries), timeouts and broken connections. */
export function isTransient(error: unknown): boolean {
  if (error instanceof HTTPError || error instanceof DiscordAPIError) return error.status >= 500;
  for (let cause = error, depth = 0; cause instanceof Error && depth < 4; cause = cause.cause, depth++) {
    if (cause.name === 'AbortError' || cause.name === 'TimeoutError') return true;
    const code = (cause as { code?: unknown }).code;
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return true;
  }
  return false;
}

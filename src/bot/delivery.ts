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
 *
 * After the acknowledgement everything goes through REST with what a {@link DeliveryTarget} holds (application id,
 * interaction token and when it was issued, channel, user), not through the live discord.js interaction: a target
 * can be kept in Redis and a job's messages finished by another bot process, or after a restart. Channel and DM
 * posts carry a nonce derived from the interaction with `enforce_nonce`, so a post repeated by a process that
 * crashed mid-delivery (or two that raced) is one message: Discord answers the first one again.
 */
import { createHash } from 'node:crypto';
import {
  DiscordAPIError,
  HTTPError,
  MessageFlags,
  Routes,
  type ActionRowBuilder,
  type APIMessage,
  type ButtonBuilder,
  type Client,
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

/**
 * Everything the job's messages need besides the discord.js client, as plain JSON: kept with a pending delivery in
 * Redis so that any bot process can finish it.
 */
export interface DeliveryTarget {
  readonly applicationId: string;
  /** The interaction, or `job:<id>` for a stored result retried without one (then `token` is empty). */
  readonly interactionId: string;
  /** The interaction token: valid 15 minutes from `issuedAt`. */
  readonly token: string;
  /** When Discord created the interaction (ms since the epoch). */
  readonly issuedAt: number;
  readonly channelId: string | null;
  readonly guildId: string | null;
  readonly userId: string;
  /** The public placeholder ("thinking...") the acknowledgement posted, when there is one. */
  readonly placeholderId?: string | undefined;
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

/** A message body with its files, as REST takes it. */
interface Payload {
  readonly body: Record<string, unknown>;
  readonly files: { name: string; data: Buffer }[];
}

/** The messages of one job, over one interaction (live, or resumed from a {@link DeliveryTarget}). */
export class JobReply {
  /** The placeholder's message id: known from the acknowledgement, used to remove it with the bot token. */
  #placeholderId: string | undefined;
  /** True while the placeholder (possibly without a known id) is there to be replaced or removed. */
  #placeholder: boolean;
  /** Discord said the token is expired or unknown (the clock may not know: a token can die early). */
  #tokenDead = false;
  readonly #now: () => number;
  readonly #sleep: (ms: number) => Promise<void>;
  #target: DeliveryTarget;

  private constructor(
    private readonly client: Client,
    target: DeliveryTarget,
    private readonly options: JobReplyOptions,
    private readonly interaction: RepliableInteraction | undefined,
  ) {
    this.#target = target;
    this.#placeholderId = target.placeholderId;
    this.#placeholder = target.placeholderId !== undefined;
    this.#now = options.now ?? Date.now;
    this.#sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /** The messages of a live interaction. */
  static forInteraction(interaction: RepliableInteraction, options: JobReplyOptions): JobReply {
    const target: DeliveryTarget = {
      applicationId: interaction.applicationId,
      interactionId: interaction.id,
      token: interaction.token,
      issuedAt: interaction.createdTimestamp,
      channelId: interaction.channelId,
      guildId: interaction.guildId,
      userId: interaction.user.id,
    };
    return new JobReply(interaction.client, target, options, interaction);
  }

  /** The messages of an interaction this process never saw (a restart, another bot process, a stored result). */
  static resume(client: Client, target: DeliveryTarget, options: JobReplyOptions): JobReply {
    return new JobReply(client, target, options, undefined);
  }

  /** What another process needs to finish this job's messages (complete once acknowledged). */
  get target(): DeliveryTarget {
    return { ...this.#target, placeholderId: this.#placeholderId };
  }

  private get userId(): string {
    return this.#target.userId;
  }

  private get tokenExpired(): boolean {
    return this.#tokenDead || this.#target.token === '' || this.#now() - this.#target.issuedAt > INTERACTION_TOKEN_TTL_MS;
  }

  /** Acknowledges the interaction with a public "thinking..." placeholder that the job's messages replace. */
  async acknowledge(): Promise<void> {
    if (this.interaction === undefined) throw new Error('a resumed reply cannot acknowledge');
    const response = await this.interaction.deferReply({ withResponse: true });
    this.#placeholder = true;
    this.#placeholderId = response.resource?.message?.id;
  }

  /** Replaces the placeholder's text (queue position, progress) while the token lives. */
  async status(content: string): Promise<void> {
    if (this.tokenExpired) return;
    try {
      const message = (await this.client.rest.patch(this.originalRoute(), { body: { content }, auth: false })) as APIMessage;
      this.#placeholderId ??= message.id;
    } catch (error) {
      if (isExpiredToken(error)) this.#tokenDead = true;
      throw error;
    }
  }

  /** Delivers a result down the ladder; resolves with the route that worked, never rejects. */
  async deliver(message: ResultMessage): Promise<DeliveryRoute> {
    const deadline = this.#now() + this.options.retryMs;
    const { rest } = this.client;
    if (!this.tokenExpired) {
      const edited = await this.attempt('edit the reply', deadline, () =>
        rest.patch(this.originalRoute(), { ...resultPayload(message, message.content), auth: false }),
      );
      if (edited) return 'reply';
    }
    const mentioned = resultPayload(message, `<@${this.userId}> ${message.content}`, { allowed_mentions: { users: [this.userId] } });
    if (await this.attempt('post in the channel', deadline, () => this.post('channel', this.#target.channelId, mentioned))) {
      await this.removePlaceholder();
      return 'channel';
    }
    const where = this.#target.channelId === null ? '' : ` in <#${this.#target.channelId}>`;
    const direct = resultPayload(message, `${message.content}\n-# I could not post this${where}, so here it is.`);
    if (await this.attempt('send a DM', deadline, async () => this.post('dm', await this.dmChannel(), direct))) {
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
    if (interaction !== undefined && !interaction.deferred && !interaction.replied) {
      if (await this.attempt('reply privately', deadline, () => interaction.reply(privately))) return 'reply';
    } else if (!this.tokenExpired) {
      await this.removePlaceholder();
      const followUp = Routes.webhook(this.#target.applicationId, this.#target.token);
      if (await this.attempt('follow up privately', deadline, () => this.client.rest.post(followUp, { body: privately, auth: false })))
        return 'reply';
    }
    await this.removePlaceholder();
    if (await this.attempt('send a DM', deadline, async () => this.post('failure', await this.dmChannel(), { body: { content }, files: [] })))
      return 'dm';
    this.options.logger.error('could not tell the user about a failure by any route', {
      user: this.userId,
      interaction: this.#target.interactionId,
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
            interaction: this.#target.interactionId,
            user: this.userId,
            error,
            expiredToken: isExpiredToken(error),
          });
          return false;
        }
        this.options.logger.info(`Discord is failing to ${what}: retrying`, {
          interaction: this.#target.interactionId,
          error,
          retryInMs: Math.min(delay, left),
        });
        await this.#sleep(Math.min(delay, left));
      }
    }
  }

  private originalRoute(): `/${string}` {
    return Routes.webhookMessage(this.#target.applicationId, this.#target.token, '@original');
  }

  /** A bot-token post, deduplicated by Discord through a nonce of the interaction and the rung. */
  private async post(rung: 'channel' | 'dm' | 'failure', channelId: string | null, payload: Payload): Promise<void> {
    if (channelId === null) throw new Error('no channel to post in');
    const body = { ...payload.body, nonce: messageNonce(`${this.#target.interactionId}:${rung}`), enforce_nonce: true };
    await this.client.rest.post(Routes.channelMessages(channelId), { body, files: payload.files });
  }

  private async dmChannel(): Promise<string> {
    const channel = (await this.client.rest.post(Routes.userChannels(), { body: { recipient_id: this.userId } })) as { id: string };
    return channel.id;
  }

  /** Best effort: through the token while it lives, else with the bot token (the bot may delete its own messages). */
  private async removePlaceholder(): Promise<void> {
    if (!this.#placeholder) return;
    const { rest } = this.client;
    try {
      if (!this.tokenExpired) await rest.delete(this.originalRoute(), { auth: false });
      else if (this.#placeholderId !== undefined && this.#target.channelId !== null) {
        await rest.delete(Routes.channelMessage(this.#target.channelId, this.#placeholderId));
      } else return;
      this.#placeholder = false;
    } catch (error) {
      if (isExpiredToken(error)) this.#tokenDead = true;
      if (!isUnknownMessage(error)) this.options.logger.info('could not remove the placeholder', { interaction: this.#target.interactionId, error });
    }
  }
}

/** A result message as REST takes it: its files replace whatever the message had. */
function resultPayload(message: ResultMessage, content: string, extra: Record<string, unknown> = {}): Payload {
  return {
    body: {
      content,
      components: message.components.map((row) => row.toJSON()),
      attachments: message.files.map((file, id) => ({ id, filename: file.name })),
      ...extra,
    },
    files: message.files.map((file) => ({ name: file.name, data: file.data })),
  };
}

/** Discord's message nonce (at most 25 characters): the same for every repeat of one post. */
export function messageNonce(key: string): string {
  return createHash('sha256').update(key).digest('base64url').slice(0, 25);
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

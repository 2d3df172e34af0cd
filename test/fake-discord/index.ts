/**
 * A fake Discord (REST + gateway + attachment CDN on one 127.0.0.1 port) for driving the real discord.js
 * Client end to end:
 *
 *   const fake = await FakeDiscord.start();
 *   const client = new Client({ intents: [GatewayIntentBits.Guilds], rest: { api: fake.apiUrl } });
 *   await client.login(fake.botToken);
 *   fake.sendSlashCommand({ name: 'edit', options: [...], attachments: {...} });
 *   await fake.waitForRequest((r) => r.method === 'PATCH' && r.files.length > 0);
 *   await client.destroy(); await fake.close();   // destroy the client first, or it keeps reconnecting
 */
import { Locale, MessageType, type APIAttachment, type APIMessage, type APIUser } from 'discord-api-types/v10';
import { FakeGateway } from './gateway.js';
import {
  DEFAULT_APP_PERMISSIONS,
  DEFAULT_MEMBER_PERMISSIONS,
  Permission,
  botToken as makeBotToken,
  buildButtonInteraction,
  buildChannel,
  buildMessage,
  buildMessageContextMenuInteraction,
  buildModalSubmitInteraction,
  buildRole,
  buildChatInputInteraction,
  buildOption,
  buildUser,
  interactionToken,
  snowflake,
  type ChannelRecord,
  type FakeOption,
  type InteractionBase,
} from './payloads.js';
import { modalSubmission, type RecordedModal } from './modals.js';
import { FakeHttpServer, type Download, type RecordedRequest } from './server.js';
import { DEFAULT_UPLOAD_LIMIT, FakeState, rateLimitResponse, type ChannelAccess, type InteractionRecord } from './state.js';

export type { RecordedRequest, Download } from './server.js';
export type { UploadedFile } from './multipart.js';
export type { FakeOption, FakeOptionType } from './payloads.js';
export type { ChannelAccess, InteractionRecord } from './state.js';
export type { RecordedModal } from './modals.js';
export { textInputs } from './modals.js';
export { DEFAULT_MEMBER_PERMISSIONS, DEFAULT_APP_PERMISSIONS, Permission, snowflake, snowflakeTime } from './payloads.js';

export interface FakeDiscordOptions {
  /** how long interaction tokens work, from the interaction's creation (default 15 min, like Discord) */
  tokenTtlMs?: number;
  /** the callback must arrive within this long after dispatch, else 404 10062 (default 3000, like Discord) */
  ackDeadlineMs?: number;
  /** sent in HELLO (default 41250) */
  heartbeatIntervalMs?: number;
  /** per-file upload limit for bot-token messages and the default attachment_size_limit (default 10 MiB) */
  uploadLimitBytes?: number;
  /** the bot's username (default 'DiffEdit') */
  botUsername?: string;
  /**
   * Announce guilds like Discord does with the Guilds intent: READY lists them unavailable, GUILD_CREATE follows
   * (with channels, roles, the bot member), so `interaction.guild`/`.channel` and `client.channels.cache` work as in
   * production (default true). false: READY has `guilds: []` and guild channels stay uncached.
   */
  cacheGuilds?: boolean;
}

export interface FakeUser {
  id: string;
  username: string;
  globalName?: string | null;
  /** guild permissions of this member (sticky: also sets setMemberPermissions for this user) */
  permissions?: bigint | number | string;
}

export interface FakeAttachmentSpec {
  filename: string;
  url: string;
  size: number;
  contentType?: string;
  width?: number;
  height?: number;
}

export interface SlashCommandSpec {
  name: string;
  /** wraps `options` in a subcommand option of this name */
  subcommand?: string;
  user?: FakeUser;
  channelId?: string;
  /** omitted: the default guild; null: a DM with the bot */
  guildId?: string | null;
  /** an `attachment` option's value is a key of `attachments` (or an attachment snowflake) */
  options: FakeOption[];
  /** keyed by a label (or a snowflake id) that `attachment` options use as their value */
  attachments?: Record<string, FakeAttachmentSpec>;
  attachmentSizeLimit?: number;
  /** the interaction id's timestamp; the token expires tokenTtlMs after it */
  createdAtMs?: number;
  locale?: Locale;
  /**
   * Leave `data.resolved` out even though attachment options refer to attachments (a client with stale command
   * definitions). Options missing or of another type than the command defines need nothing special: omit them,
   * or give them another `type`.
   */
  omitResolved?: boolean;
}

export interface UserMessageSpec {
  /** who posted it (default: the default user) */
  author?: FakeUser;
  /** a known channel (default: the default guild's channel) */
  channelId?: string;
  content?: string;
  /** files as Discord lists them; each `url` (from serveFile) is handed out signed */
  attachments?: FakeAttachmentSpec[];
  embeds?: unknown[];
}

export interface MessageCommandSpec {
  /** the command's name, e.g. 'DiffEdit this image' */
  name: string;
  /** the message it is used on: one the fake holds (postUserMessage, or one the bot posted), or its id */
  message: APIMessage | string;
  user?: FakeUser;
  attachmentSizeLimit?: number;
  createdAtMs?: number;
  locale?: Locale;
}

export interface ModalSubmitSpec {
  /** the interaction (id or token) whose callback opened the modal */
  opener: string;
  /** what the user typed, by the text inputs' custom_id */
  values: Record<string, string>;
  /** default: the user who opened it */
  user?: FakeUser;
  attachmentSizeLimit?: number;
  createdAtMs?: number;
  locale?: Locale;
}

export interface ButtonClickSpec {
  customId: string;
  /** the message the button is on: a message object the fake returned (or its id) */
  message: unknown;
  user?: FakeUser;
  channelId?: string;
  attachmentSizeLimit?: number;
  createdAtMs?: number;
  locale?: Locale;
}

export interface InjectedResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** how many matching requests fail (default 1) */
  times?: number;
}

export interface RateLimitSpec {
  /** sent as Retry-After (discord.js waits this long) and as the body's retry_after */
  retryAfterSeconds: number;
  /** a global limit: X-RateLimit-Global, scope global, no bucket headers (default false) */
  global?: boolean;
  /** X-RateLimit-Scope of a per-route limit (default 'user') */
  scope?: 'user' | 'shared';
  /** per-route limit: send X-RateLimit-Limit/Remaining 0/Reset/Reset-After/Bucket as Discord does (default true) */
  bucketHeaders?: boolean;
  /** how many matching requests get the 429 (default 1) */
  times?: number;
}

const IMAGE_TYPES: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
  gif: 'image/gif',
};

interface Waiter {
  predicate: (request: RecordedRequest) => boolean;
  resolve: (request: RecordedRequest) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

export class FakeDiscord {
  readonly apiUrl: string;
  readonly baseUrl: string;
  readonly gatewayUrl: string;
  readonly botToken: string;
  readonly applicationId: string;
  readonly botUserId: string;
  readonly botUser: APIUser;
  /** the guild and text channel interactions come from unless a spec says otherwise */
  readonly defaultGuildId: string;
  readonly defaultChannelId: string;
  readonly defaultUser: FakeUser;
  /** every REST call, in arrival order (recorded once answered) */
  readonly requests: RecordedRequest[] = [];
  /** every GET of /attachments/... */
  readonly downloads: Download[] = [];

  private readonly waiters = new Set<Waiter>();
  private closed = false;

  private constructor(
    private readonly state: FakeState,
    private readonly gateway: FakeGateway,
    private readonly http: FakeHttpServer,
    port: number,
    private readonly options: Required<FakeDiscordOptions>,
  ) {
    this.baseUrl = `http://127.0.0.1:${port}`;
    this.apiUrl = `${this.baseUrl}/api`;
    this.gatewayUrl = `ws://127.0.0.1:${port}/gateway`;
    this.botToken = state.botToken;
    this.applicationId = state.applicationId;
    this.botUser = state.botUser;
    this.botUserId = state.botUser.id;
    this.defaultGuildId = snowflake();
    this.defaultChannelId = snowflake();
    this.defaultUser = { id: snowflake(), username: 'tester' };
    this.addGuild(this.defaultGuildId, 'Fake Guild');
    this.addChannel(this.defaultChannelId, this.defaultGuildId);
  }

  static async start(options: FakeDiscordOptions = {}): Promise<FakeDiscord> {
    const resolved: Required<FakeDiscordOptions> = {
      tokenTtlMs: options.tokenTtlMs ?? 15 * 60_000,
      ackDeadlineMs: options.ackDeadlineMs ?? 3000,
      heartbeatIntervalMs: options.heartbeatIntervalMs ?? 41_250,
      uploadLimitBytes: options.uploadLimitBytes ?? DEFAULT_UPLOAD_LIMIT,
      botUsername: options.botUsername ?? 'DiffEdit',
      cacheGuilds: options.cacheGuilds ?? true,
    };
    const botUserId = snowflake();
    const botUser = buildUser({ id: botUserId, username: resolved.botUsername }, true);
    // A bot's application id is its user id.
    const state = new FakeState(botUser, botUserId, makeBotToken(botUserId), resolved.uploadLimitBytes);
    let gatewayUrl = '';
    const gateway = new FakeGateway({
      botToken: state.botToken,
      botUser,
      applicationId: state.applicationId,
      heartbeatIntervalMs: resolved.heartbeatIntervalMs,
      resumeUrl: () => gatewayUrl,
      guildIds: () => (resolved.cacheGuilds ? [...state.guilds.keys()] : []),
      guildCreate: (guildId) => state.guildPayload(guildId, true),
    });
    let fake: FakeDiscord | undefined;
    const http = new FakeHttpServer({
      state,
      gateway,
      rest: () => ({ state, gatewayUrl, ackDeadlineMs: resolved.ackDeadlineMs }),
      record: (request) => fake?.onRecord(request),
      download: (download) => fake?.downloads.push(download),
    });
    const port = await http.listen();
    fake = new FakeDiscord(state, gateway, http, port, resolved);
    gatewayUrl = fake.gatewayUrl;
    state.baseUrl = fake.baseUrl;
    return fake;
  }

  // ---- files --------------------------------------------------------------------------------------------------

  /** Serve bytes at http://127.0.0.1:PORT/attachments/<name>; `status: 404` (or removeFile) makes it missing. */
  serveFile(
    name: string,
    data: Buffer | Uint8Array,
    options: { contentType?: string; status?: number; delayMs?: number; headers?: Record<string, string> } = {},
  ): string {
    const extension = name.split('.').pop()?.toLowerCase() ?? '';
    return this.state.serve(name, {
      data: Buffer.from(data.buffer, data.byteOffset, data.byteLength),
      contentType: options.contentType ?? IMAGE_TYPES[extension] ?? 'application/octet-stream',
      status: options.status ?? 200,
      delayMs: options.delayMs ?? 0,
      headers: options.headers ?? {},
    });
  }

  removeFile(name: string): void {
    this.state.files.delete(name);
  }

  // ---- world --------------------------------------------------------------------------------------------------

  /** Make a guild known (the bot is a member); announced with GUILD_CREATE if a client is connected. */
  addGuild(id: string, name = `guild-${id.slice(-4)}`): void {
    if (this.state.guilds.has(id)) return;
    this.state.guilds.set(id, { id, name, botRoleId: snowflake(), joinedAtMs: Date.now() - 86_400_000, roles: new Map() });
    this.state.roleFor(id, DEFAULT_MEMBER_PERMISSIONS);
    if (this.options.cacheGuilds) this.gateway.tryDispatch('GUILD_CREATE', this.state.guildPayload(id, true));
  }

  /** Make a channel known (GET /channels/:id, POST messages). guildId null: a DM channel. */
  addChannel(id: string, guildId: string | null, recipient?: APIUser): void {
    if (this.state.channels.has(id)) return;
    const record: ChannelRecord = { id, guildId, name: guildId === null ? 'dm' : `channel-${id.slice(-4)}` };
    if (recipient !== undefined) {
      record.recipient = recipient;
      if (guildId === null && !this.state.dmChannels.has(recipient.id)) this.state.dmChannels.set(recipient.id, id);
    }
    this.state.channels.set(id, record);
    if (guildId === null) return;
    if (!this.state.guilds.has(guildId))
      this.addGuild(guildId); // its GUILD_CREATE carries the channel
    else if (this.options.cacheGuilds) this.gateway.tryDispatch('CHANNEL_CREATE', buildChannel(record));
  }

  /**
   * What the bot may do in a channel with its token: 'no-send' -> posting (and typing) answers 403 50013 Missing
   * Permissions; 'no-access' -> every /channels/:id call answers 403 50001 Missing Access. Interactions from the
   * channel carry app_permissions to match; their webhook (reply, editReply, followUp) works regardless, as on Discord.
   */
  setChannelAccess(channelId: string, access: ChannelAccess): void {
    if (access === 'full') this.state.channelAccess.delete(channelId);
    else this.state.channelAccess.set(channelId, access);
  }

  /** The user has DMs from the bot closed: posting in their DM channel answers 403 50007 (opening it still works). */
  closeDirectMessages(userId: string): void {
    this.state.closedDms.add(userId);
  }

  openDirectMessages(userId: string): void {
    this.state.closedDms.delete(userId);
  }

  /** The DM channel id between the bot and a user, once opened (POST /users/@me/channels or a DM interaction). */
  dmChannelId(userId: string): string | undefined {
    return this.state.dmChannels.get(userId);
  }

  /** Messages the fake holds in a channel (DMs included), oldest first. */
  channelMessages(channelId: string): APIMessage[] {
    return [...this.state.messages.values()].filter((message) => message.channel_id === channelId);
  }

  /** Guild permissions interactions from this user carry in member.permissions (default: no MANAGE_MESSAGES). */
  setMemberPermissions(userId: string, permissions: bigint | number | string): void {
    this.state.memberPermissions.set(userId, BigInt(permissions));
  }

  /** Application commands the bot registered (PUT/POST /applications/:id/commands): `global` or a guild id. */
  registeredCommands(scope = 'global'): Array<Record<string, unknown>> {
    return this.state.commands.get(scope) ?? [];
  }

  /** The current state of a message the fake holds. */
  message(id: string): APIMessage | undefined {
    return this.state.messages.get(id);
  }

  /** The message @original currently points at for an interaction (by id or token). */
  originalMessage(interactionIdOrToken: string): APIMessage | undefined {
    const interaction = this.interaction(interactionIdOrToken);
    if (interaction?.originalMessageId == null) return undefined;
    return this.state.messages.get(interaction.originalMessageId);
  }

  interaction(idOrToken: string): InteractionRecord | undefined {
    return this.state.interactionsById.get(idOrToken) ?? this.state.interactionsByToken.get(idOrToken);
  }

  // ---- gateway ------------------------------------------------------------------------------------------------

  /** IDENTIFY payloads received (token, intents, properties...). */
  get identifies(): readonly unknown[] {
    return this.gateway.identifies;
  }

  /** Every gateway op clients sent, heartbeats included. */
  get gatewayLog(): ReadonlyArray<{ op: number; d: unknown; at: number }> {
    return this.gateway.received;
  }

  waitForGatewayReady(timeoutMs = 5000): Promise<void> {
    return this.gateway.waitForReady(timeoutMs);
  }

  /** Send op 7 RECONNECT: discord.js reconnects and RESUMEs (events dispatched meanwhile are replayed). */
  requestGatewayReconnect(): void {
    this.gateway.requestReconnect();
  }

  /** Send op 9 INVALID_SESSION (d = resumable). false also forgets the session: the client must IDENTIFY again. */
  invalidateSession(resumable: boolean): void {
    this.gateway.invalidateSession(resumable);
  }

  /** Stop ACKing heartbeats (a zombie connection): discord.js closes (4200) and resumes one interval later. */
  stopHeartbeatAcks(): void {
    this.gateway.stopHeartbeatAcks();
  }

  resumeHeartbeatAcks(): void {
    this.gateway.resumeHeartbeatAcks();
  }

  /** Dispatch any event (op 0) to the identified client. */
  dispatch(event: string, data: unknown): void {
    this.gateway.dispatch(event, data);
  }

  // ---- interactions -------------------------------------------------------------------------------------------

  sendSlashCommand(spec: SlashCommandSpec): { id: string; token: string } {
    const guildId = spec.guildId === undefined ? this.defaultGuildId : spec.guildId;
    const user = this.resolveUser(spec.user);
    const channel = this.resolveChannel(spec.channelId, guildId, user.api);
    const base = this.interactionBase(user, channel, spec);
    const keyToId = new Map<string, string>();
    const attachments: Record<string, APIAttachment> = {};
    for (const [key, attachment] of Object.entries(spec.attachments ?? {})) {
      const id = /^\d{17,20}$/.test(key) ? key : snowflake(base.createdAtMs);
      keyToId.set(key, id);
      attachments[id] = this.attachmentObject(id, attachment);
    }
    const options = spec.options.map((option) => {
      if (option.type !== 'attachment') return buildOption(option);
      const id = keyToId.get(String(option.value)) ?? String(option.value);
      if (attachments[id] === undefined) {
        throw new Error(`sendSlashCommand: attachment option '${option.name}' refers to '${String(option.value)}', not in attachments`);
      }
      return buildOption({ ...option, value: id });
    });
    const payload = buildChatInputInteraction(base, {
      commandId: this.state.commandId(spec.name, guildId),
      name: spec.name,
      ...(spec.subcommand !== undefined ? { subcommand: spec.subcommand } : {}),
      options,
      attachments: spec.omitResolved === true ? {} : attachments,
    });
    // dispatch first (throws when no client is connected); the answer can only arrive in a later tick
    this.gateway.dispatch('INTERACTION_CREATE', payload);
    this.register(base, { kind: 'command', name: spec.name, messageType: MessageType.ChatInputCommand });
    return { id: base.id, token: base.token };
  }

  clickButton(spec: ButtonClickSpec): { id: string; token: string } {
    const messageId = typeof spec.message === 'string' ? spec.message : (spec.message as { id?: unknown } | null)?.id;
    if (typeof messageId !== 'string') throw new Error('clickButton: message must be a message object or its id');
    let message = this.state.messages.get(messageId);
    if (this.state.deletedMessageIds.has(messageId)) throw new Error(`clickButton: message ${messageId} was deleted`);
    if (message === undefined) {
      if (typeof spec.message !== 'object' || spec.message === null) {
        throw new Error(`clickButton: unknown message ${messageId}`);
      }
      message = spec.message as APIMessage;
      this.state.messages.set(message.id, message);
    }
    const buttons = (message.components ?? []).flatMap((row): unknown[] =>
      'components' in row && Array.isArray(row.components) ? (row.components as unknown[]) : [],
    );
    if (!buttons.some((component) => (component as { custom_id?: unknown }).custom_id === spec.customId)) {
      throw new Error(`clickButton: message ${message.id} has no component with custom_id '${spec.customId}'`);
    }
    const known = this.state.channels.get(spec.channelId ?? message.channel_id);
    const guildId = known !== undefined ? known.guildId : this.defaultGuildId;
    const user = this.resolveUser(spec.user);
    const channel = this.resolveChannel(spec.channelId ?? message.channel_id, guildId, user.api);
    const base = this.interactionBase(user, channel, spec);
    const payload = buildButtonInteraction(base, spec.customId, message);
    this.gateway.dispatch('INTERACTION_CREATE', payload);
    this.register(base, { kind: 'component', name: spec.customId, messageType: MessageType.Default, componentMessageId: message.id });
    return { id: base.id, token: base.token };
  }

  /**
   * A user's message in a channel (the default one unless `channelId` says otherwise), kept like any other: GET
   * /channels/:c/messages/:m returns it, with its attachments' CDN links signed afresh (see expireAttachmentLinks).
   */
  postUserMessage(spec: UserMessageSpec): APIMessage {
    const user = this.resolveUser(spec.author);
    this.state.users.set(user.api.id, user.api);
    const channel = this.state.channels.get(spec.channelId ?? this.defaultChannelId);
    if (channel === undefined) throw new Error(`postUserMessage: unknown channel ${String(spec.channelId)} (addChannel first)`);
    const id = snowflake();
    const message = buildMessage({
      id,
      channelId: channel.id,
      guildId: channel.guildId,
      author: user.api,
      type: MessageType.Default,
      content: spec.content ?? '',
      embeds: spec.embeds ?? [],
      components: [],
      attachments: (spec.attachments ?? []).map((attachment) => {
        const { ephemeral: _ephemeral, ...kept } = this.attachmentObject(snowflake(), attachment);
        const url = this.state.signLink(attachment.url);
        return { ...kept, url, proxy_url: url };
      }),
      flags: 0,
    });
    this.state.messages.set(id, message);
    return message;
  }

  /** Deletes a message as its author or a moderator would (the bot is not told: it has no message intents). */
  deleteMessage(id: string): void {
    this.state.deleteMessage(id);
  }

  /**
   * Every attachment link postUserMessage or a message fetch signed so far stops working (404), as Discord's CDN
   * links do when their `ex` time passes; links signed later work. serveFile's own URLs are never signed.
   */
  expireAttachmentLinks(): void {
    this.state.expireLinks();
  }

  /** A message command (type 3, "right-click > Apps > name") used on `message` (a message object the fake holds, or its id). */
  sendMessageCommand(spec: MessageCommandSpec): { id: string; token: string } {
    const messageId = typeof spec.message === 'string' ? spec.message : spec.message.id;
    const message = this.state.messages.get(messageId);
    if (message === undefined) throw new Error(`sendMessageCommand: unknown message ${messageId}`);
    const channel = this.state.channels.get(message.channel_id);
    if (channel === undefined) throw new Error(`sendMessageCommand: unknown channel ${message.channel_id}`);
    const user = this.resolveUser(spec.user);
    const base = this.interactionBase(user, channel, spec);
    const payload = buildMessageContextMenuInteraction(base, {
      commandId: this.state.commandId(spec.name, channel.guildId),
      name: spec.name,
      message: this.state.withFreshLinks(message),
    });
    this.gateway.dispatch('INTERACTION_CREATE', payload);
    this.register(base, { kind: 'command', name: spec.name, messageType: MessageType.ContextMenuCommand, targetMessageId: message.id });
    return { id: base.id, token: base.token };
  }

  /** The modal an interaction answered with (callback type 9), component ids as Discord numbers them. */
  modal(interactionIdOrToken: string): RecordedModal | undefined {
    return this.interaction(interactionIdOrToken)?.modal ?? undefined;
  }

  /**
   * The user submits the modal `opener` (an interaction id or token) answered with: a MODAL_SUBMIT interaction whose
   * text inputs carry `values` (by custom_id; the others empty). Throws, as the client refuses to submit, when a
   * required field is empty or a value breaks a field's length limits.
   */
  submitModal(spec: ModalSubmitSpec): { id: string; token: string } {
    const opener = this.interaction(spec.opener);
    const modal = opener?.modal;
    if (opener === undefined || modal == null) throw new Error(`submitModal: interaction ${spec.opener} opened no modal`);
    const components = modalSubmission(modal, spec.values);
    const user = this.resolveUser(spec.user ?? { id: opener.user.id, username: opener.user.username });
    const base = this.interactionBase(user, opener.channel, spec);
    const source = opener.componentMessageId === null ? undefined : this.state.messages.get(opener.componentMessageId);
    const payload = buildModalSubmitInteraction(base, modal.custom_id, components, source);
    this.gateway.dispatch('INTERACTION_CREATE', payload);
    this.register(base, {
      kind: 'modal',
      name: modal.custom_id,
      messageType: MessageType.Default,
      triggeredBy: opener.id,
      componentMessageId: opener.componentMessageId,
    });
    return { id: base.id, token: base.token };
  }

  /** Every token issued so far now fails like a token past its 15 minutes (401 50027; callbacks 404 10062). */
  expireInteractionTokens(): void {
    for (const interaction of this.state.interactionsById.values()) interaction.forcedExpired = true;
  }

  /**
   * Answer the next matching REST call(s) with Discord's 429 (see RateLimitSpec). discord.js waits Retry-After and
   * retries; its REST emits `rateLimited` only when the 429 leaves the bucket (or globally) limited.
   */
  rateLimitNext(match: (request: { method: string; path: string }) => boolean, spec: RateLimitSpec): void {
    const options = {
      ...(spec.global !== undefined ? { global: spec.global } : {}),
      ...(spec.scope !== undefined ? { scope: spec.scope } : {}),
      ...(spec.bucketHeaders !== undefined ? { bucketHeaders: spec.bucketHeaders } : {}),
    };
    const response = rateLimitResponse(spec.retryAfterSeconds, options);
    this.state.failures.push({ match, ...response, remaining: spec.times ?? 1 });
  }

  /** Make the next matching REST call(s) fail with this response (e.g. 500, or 403 50013 Missing Permissions). */
  failNext(match: (request: { method: string; path: string }) => boolean, response: InjectedResponse): void {
    this.state.failures.push({
      match,
      status: response.status,
      body: response.body ?? { message: `Injected failure ${response.status}`, code: 0 },
      headers: response.headers ?? {},
      remaining: response.times ?? 1,
    });
  }

  // ---- requests -----------------------------------------------------------------------------------------------

  /** Resolve with the first recorded request (already recorded or future) matching the predicate. */
  waitForRequest(predicate: (request: RecordedRequest) => boolean, timeoutMs = 5000): Promise<RecordedRequest> {
    const existing = this.requests.find(predicate);
    if (existing !== undefined) return Promise.resolve(existing);
    if (this.closed) return Promise.reject(new Error('FakeDiscord is closed'));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        predicate,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters.delete(waiter);
          const seen = this.requests.map((r) => `  ${r.method} ${r.path} -> ${r.status}`).join('\n');
          reject(new Error(`waitForRequest: no matching request within ${timeoutMs} ms; recorded:\n${seen || '  (none)'}`));
        }, timeoutMs),
      };
      this.waiters.add(waiter);
    });
  }

  /** Requests no route matched (404 Unknown route): a bot calling something the fake (and the test) didn't expect. */
  unknownRoutes(): RecordedRequest[] {
    return this.requests.filter((r) => r.status === 404 && (r.response as { message?: unknown } | undefined)?.message === 'Unknown route');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const waiter of this.waiters) {
      clearTimeout(waiter.timer);
      waiter.reject(new Error('FakeDiscord closed'));
    }
    this.waiters.clear();
    await this.gateway.close();
    await this.http.close();
  }

  // ---- internals ----------------------------------------------------------------------------------------------

  private onRecord(request: RecordedRequest): void {
    this.requests.push(request);
    for (const waiter of this.waiters) {
      if (!waiter.predicate(request)) continue;
      clearTimeout(waiter.timer);
      this.waiters.delete(waiter);
      waiter.resolve(request);
    }
  }

  private resolveUser(spec: FakeUser | undefined): { api: APIUser; permissions: bigint } {
    const user = spec ?? this.defaultUser;
    if (user.permissions !== undefined) this.setMemberPermissions(user.id, user.permissions);
    return {
      api: buildUser({ id: user.id, username: user.username, globalName: user.globalName ?? null }),
      permissions: this.state.permissionsOf(user.id),
    };
  }

  private resolveChannel(channelId: string | undefined, guildId: string | null, user: APIUser): ChannelRecord {
    if (channelId === undefined && guildId === null) return this.state.dmChannelFor(user);
    const id = channelId ?? this.defaultChannelIdFor(guildId ?? this.defaultGuildId);
    const existing = this.state.channels.get(id);
    if (existing !== undefined) return existing;
    this.addChannel(id, guildId, guildId === null ? user : undefined);
    return this.state.channels.get(id) as ChannelRecord;
  }

  private readonly guildChannels = new Map<string, string>();

  private defaultChannelIdFor(guildId: string): string {
    if (guildId === this.defaultGuildId) return this.defaultChannelId;
    let id = this.guildChannels.get(guildId);
    if (id === undefined) {
      id = snowflake();
      this.guildChannels.set(guildId, id);
    }
    return id;
  }

  private interactionBase(
    user: { api: APIUser; permissions: bigint },
    channel: ChannelRecord,
    spec: { attachmentSizeLimit?: number; createdAtMs?: number; locale?: Locale },
  ): InteractionBase {
    const createdAtMs = spec.createdAtMs ?? Date.now();
    this.state.users.set(user.api.id, user.api);
    const memberRoles: string[] = [];
    if (channel.guildId !== null) {
      const role = this.state.roleFor(channel.guildId, user.permissions);
      memberRoles.push(role.id);
      if (role.created && this.options.cacheGuilds) {
        const position = this.state.guilds.get(channel.guildId)?.roles.size ?? 1;
        this.gateway.tryDispatch('GUILD_ROLE_CREATE', {
          guild_id: channel.guildId,
          role: buildRole(role.id, `perms-${user.permissions}`, user.permissions, position + 1),
        });
      }
    }
    return {
      id: snowflake(createdAtMs),
      token: interactionToken(),
      applicationId: this.applicationId,
      user: user.api,
      guildId: channel.guildId,
      channel,
      memberPermissions: user.permissions,
      memberRoles,
      appPermissions: this.appPermissionsIn(channel.id),
      attachmentSizeLimit: spec.attachmentSizeLimit ?? this.options.uploadLimitBytes,
      locale: spec.locale ?? Locale.EnglishUS,
      createdAtMs,
    };
  }

  /** app_permissions as Discord computes them for the bot in the channel (see setChannelAccess). */
  private appPermissionsIn(channelId: string): bigint {
    const access = this.state.channelAccess.get(channelId) ?? 'full';
    if (access === 'no-access') return 0n; // without View Channel every channel permission is denied
    if (access === 'no-send') return DEFAULT_APP_PERMISSIONS & ~(Permission.SendMessages | Permission.SendMessagesInThreads);
    return DEFAULT_APP_PERMISSIONS;
  }

  private register(
    base: InteractionBase,
    what: Pick<InteractionRecord, 'kind' | 'name' | 'messageType'> &
      Partial<Pick<InteractionRecord, 'componentMessageId' | 'targetMessageId' | 'triggeredBy'>>,
  ): void {
    const record: InteractionRecord = {
      id: base.id,
      token: base.token,
      kind: what.kind,
      name: what.name,
      messageType: what.messageType,
      targetMessageId: what.targetMessageId ?? null,
      triggeredBy: what.triggeredBy ?? null,
      modal: null,
      user: base.user,
      guildId: base.guildId,
      channel: base.channel,
      createdAtMs: base.createdAtMs,
      dispatchedAtMs: Date.now(),
      expiresAtMs: base.createdAtMs + this.options.tokenTtlMs,
      forcedExpired: false,
      attachmentSizeLimit: base.attachmentSizeLimit,
      callbackType: null,
      originalMessageId: null,
      componentMessageId: what.componentMessageId ?? null,
      messageIds: new Set(),
    };
    this.state.interactionsById.set(record.id, record);
    this.state.interactionsByToken.set(record.token, record);
  }

  private attachmentObject(id: string, spec: FakeAttachmentSpec): APIAttachment {
    const extension = spec.filename.split('.').pop()?.toLowerCase() ?? '';
    const contentType = spec.contentType ?? IMAGE_TYPES[extension];
    const attachment: APIAttachment = {
      id,
      filename: spec.filename,
      size: spec.size,
      url: spec.url,
      proxy_url: spec.url,
      ephemeral: true,
    };
    if (contentType !== undefined) attachment.content_type = contentType;
    if (spec.width !== undefined) attachment.width = spec.width;
    if (spec.height !== undefined) attachment.height = spec.height;
    return attachment;
  }
}

/**
 * Everything the fake Discord remembers: the bot, channels, messages, interactions (with their tokens and
 * "original" messages), served files and registered commands; plus creating/editing messages the way Discord
 * does (validation, attachments kept/added, uploads served back over http).
 */
import { randomBytes } from 'node:crypto';
import {
  InteractionType,
  MessageFlags,
  type APIAttachment,
  type APIMessage,
  type APIMessageInteractionMetadata,
  type APIModalSubmitInteractionMetadata,
  type APIUser,
  type MessageType,
} from 'discord-api-types/v10';
import type { RecordedModal } from './modals.js';
import { fileIndex, type UploadedFile } from './multipart.js';
import {
  DEFAULT_APP_PERMISSIONS,
  DEFAULT_MEMBER_PERMISSIONS,
  buildGuild,
  buildMessage,
  imageSize,
  snowflake,
  type ChannelRecord,
  type GuildRecord,
} from './payloads.js';

export const DEFAULT_UPLOAD_LIMIT = 10 * 1024 * 1024;

/** A Discord JSON error: `{ message, code, errors? }` with an http status. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
    readonly errors?: unknown,
  ) {
    super(message);
  }

  toJSON(): Record<string, unknown> {
    const body: Record<string, unknown> = { message: this.message, code: this.code };
    if (this.errors !== undefined) body['errors'] = this.errors;
    return body;
  }
}

export const Errors = {
  unauthorized: () => new ApiError(401, 0, '401: Unauthorized'),
  unknownRoute: () => new ApiError(404, 0, 'Unknown route'),
  unknownChannel: () => new ApiError(404, 10003, 'Unknown Channel'),
  unknownMessage: () => new ApiError(404, 10008, 'Unknown Message'),
  unknownWebhook: () => new ApiError(404, 10015, 'Unknown Webhook'),
  unknownInteraction: () => new ApiError(404, 10062, 'Unknown interaction'),
  invalidWebhookToken: () => new ApiError(401, 50027, 'Invalid Webhook Token'),
  alreadyAcknowledged: () => new ApiError(400, 40060, 'Interaction has already been acknowledged.'),
  emptyMessage: () => new ApiError(400, 50006, 'Cannot send an empty message'),
  cannotEditOthers: () => new ApiError(403, 50005, 'Cannot edit a message authored by another user'),
  tooLarge: () => new ApiError(413, 40005, 'Request entity too large'),
  invalidForm: (errors: unknown) => new ApiError(400, 50035, 'Invalid Form Body', errors),
  missingAccess: () => new ApiError(403, 50001, 'Missing Access'),
  missingPermissions: () => new ApiError(403, 50013, 'Missing Permissions'),
  cannotMessageUser: () => new ApiError(403, 50007, 'Cannot send messages to this user'),
  invalidRecipient: () => new ApiError(400, 50033, 'Invalid Recipient(s)'),
};

/** What the bot may do in a channel (setChannelAccess): everything, read but not post, or not even see it. */
export type ChannelAccess = 'full' | 'no-send' | 'no-access';

/**
 * A 429 as Discord sends it. Per-route (scope user/shared): Retry-After plus the bucket headers with
 * X-RateLimit-Remaining 0; global: Retry-After, X-RateLimit-Global and X-RateLimit-Scope global only.
 * Discord's Retry-After header is whole seconds (rounded up); the fake sends retryAfterSeconds as given so
 * tests can wait fractions of a second. The body's retry_after is the exact float, as on Discord.
 */
export function rateLimitResponse(
  retryAfterSeconds: number,
  options: { global?: boolean; scope?: 'user' | 'shared'; bucketHeaders?: boolean } = {},
): { status: number; body: unknown; headers: Record<string, string> } {
  const global = options.global ?? false;
  const headers: Record<string, string> = { 'Retry-After': String(retryAfterSeconds) };
  if (global) {
    headers['X-RateLimit-Global'] = 'true';
    headers['X-RateLimit-Scope'] = 'global';
  } else {
    headers['X-RateLimit-Scope'] = options.scope ?? 'user';
    if (options.bucketHeaders ?? true) {
      headers['X-RateLimit-Limit'] = '5';
      headers['X-RateLimit-Remaining'] = '0';
      headers['X-RateLimit-Reset'] = ((Date.now() + retryAfterSeconds * 1000) / 1000).toFixed(3);
      headers['X-RateLimit-Reset-After'] = String(retryAfterSeconds);
      headers['X-RateLimit-Bucket'] = 'fakebucket0000000000000000000000';
    }
  }
  return {
    status: 429,
    body: { message: 'You are being rate limited.', retry_after: retryAfterSeconds, global },
    headers,
  };
}

/** Discord checks an enforced nonce "in the past few minutes"; the fake says five. */
export const NONCE_WINDOW_MS = 5 * 60 * 1000;

function fieldError(code: string, message: string) {
  return { _errors: [{ code, message }] };
}

export interface InteractionRecord {
  id: string;
  token: string;
  /** a slash or message command, a component (button), a modal's submission */
  kind: 'command' | 'component' | 'modal';
  /** the command's name, the component's or the modal's custom_id */
  name: string;
  /** the type of the messages its callback and follow-ups create (20 slash command, 23 context menu, 0 otherwise) */
  messageType: MessageType;
  /** a message command: the message it was used on */
  targetMessageId: string | null;
  /** a modal's submission: the interaction whose MODAL callback opened it */
  triggeredBy: string | null;
  /** the modal it answered with (callback type 9), ids filled in */
  modal: RecordedModal | null;
  user: APIUser;
  guildId: string | null;
  channel: ChannelRecord;
  createdAtMs: number;
  dispatchedAtMs: number;
  /** createdAtMs + tokenTtlMs */
  expiresAtMs: number;
  /** set by expireInteractionTokens() */
  forcedExpired: boolean;
  attachmentSizeLimit: number;
  /** callback type once acknowledged (4, 5, 6, 7, 9) */
  callbackType: number | null;
  /** the message @original refers to (for components after 6/7: the message the button is on) */
  originalMessageId: string | null;
  /** for components: the message the clicked button is on */
  componentMessageId: string | null;
  /** every message this interaction's webhook created (original + follow-ups) */
  messageIds: Set<string>;
}

export interface ServedFile {
  data: Buffer;
  contentType: string;
  status: number;
  delayMs: number;
  headers: Record<string, string>;
}

export interface InjectedFailure {
  match: (request: { method: string; path: string }) => boolean;
  status: number;
  body: unknown;
  headers: Record<string, string>;
  remaining: number;
}

interface MessageJson {
  content?: unknown;
  embeds?: unknown;
  components?: unknown;
  attachments?: unknown;
  flags?: unknown;
}

export class FakeState {
  readonly guilds = new Map<string, GuildRecord>();
  readonly channels = new Map<string, ChannelRecord>();
  /** users seen in interactions (for GET /users/:id and guild members) */
  readonly users = new Map<string, APIUser>();
  readonly messages = new Map<string, APIMessage>();
  /** ids of messages deleted through the API (they stay deleted: 10008) */
  readonly deletedMessageIds = new Set<string>();
  /** Bot posts made with `enforce_nonce`, by nonce: a repeat within {@link NONCE_WINDOW_MS} gets the first message. */
  readonly postsByNonce = new Map<string, { messageId: string; atMs: number }>();
  /** user id -> the DM channel id between the bot and that user */
  readonly dmChannels = new Map<string, string>();
  /** users whose DMs are closed to the bot (posting in their DM: 403 50007) */
  readonly closedDms = new Set<string>();
  readonly channelAccess = new Map<string, ChannelAccess>();
  readonly interactionsById = new Map<string, InteractionRecord>();
  readonly interactionsByToken = new Map<string, InteractionRecord>();
  readonly files = new Map<string, ServedFile>();
  readonly memberPermissions = new Map<string, bigint>();
  /** registered application commands, keyed by `global` or the guild id */
  readonly commands = new Map<string, Array<Record<string, unknown>>>();
  readonly commandIds = new Map<string, string>();
  readonly failures: InjectedFailure[] = [];
  baseUrl = '';

  constructor(
    readonly botUser: APIUser,
    readonly applicationId: string,
    readonly botToken: string,
    readonly uploadLimit: number,
  ) {}

  guildPayload(guildId: string, gatewayFields: boolean): Record<string, unknown> {
    const guild = this.guilds.get(guildId);
    if (guild === undefined) throw new ApiError(404, 10004, 'Unknown Guild');
    const channels = [...this.channels.values()].filter((channel) => channel.guildId === guildId);
    return buildGuild(guild, this.botUser, channels, DEFAULT_APP_PERMISSIONS, gatewayFields);
  }

  /** The role standing for a permission set in a guild; `created` when it did not exist yet. */
  roleFor(guildId: string, permissions: bigint): { id: string; created: boolean } {
    const guild = this.guilds.get(guildId);
    if (guild === undefined) throw new Error(`unknown guild ${guildId}`);
    const key = permissions.toString();
    const existing = guild.roles.get(key);
    if (existing !== undefined) return { id: existing, created: false };
    const id = snowflake();
    guild.roles.set(key, id);
    return { id, created: true };
  }

  permissionsOf(userId: string): bigint {
    return this.memberPermissions.get(userId) ?? DEFAULT_MEMBER_PERMISSIONS;
  }

  commandId(name: string, guildId: string | null): string {
    for (const scope of [guildId ?? 'global', 'global']) {
      const registered = this.commands.get(scope)?.find((command) => command['name'] === name);
      if (typeof registered?.['id'] === 'string') return registered['id'];
    }
    let id = this.commandIds.get(name);
    if (id === undefined) {
      id = snowflake();
      this.commandIds.set(name, id);
    }
    return id;
  }

  /** Serve bytes under /attachments/<key>. */
  serve(key: string, file: ServedFile): string {
    this.files.set(key, file);
    return `${this.baseUrl}/attachments/${key.split('/').map(encodeURIComponent).join('/')}`;
  }

  /** The DM channel between the bot and a user (created and remembered on first use, as Discord does). */
  dmChannelFor(user: APIUser): ChannelRecord {
    let id = this.dmChannels.get(user.id);
    if (id === undefined) {
      id = snowflake();
      this.dmChannels.set(user.id, id);
    }
    let channel = this.channels.get(id);
    if (channel === undefined) {
      channel = { id, guildId: null, name: 'dm', recipient: user };
      this.channels.set(id, channel);
    }
    return channel;
  }

  /**
   * A channel the bot uses with its token, or Discord's error: 10003 unknown, 50001 when setChannelAccess made it
   * invisible, 50013 when it may not post (`send`), 50007 for a DM with a user whose DMs are closed (`send`).
   */
  channelForBot(channelId: string, need: 'view' | 'send'): ChannelRecord {
    const channel = this.channels.get(channelId);
    if (channel === undefined) throw Errors.unknownChannel();
    const access = this.channelAccess.get(channelId) ?? 'full';
    if (access === 'no-access') throw Errors.missingAccess();
    if (need === 'send') {
      if (access === 'no-send') throw Errors.missingPermissions();
      if (channel.guildId === null && channel.recipient !== undefined && this.closedDms.has(channel.recipient.id)) {
        throw Errors.cannotMessageUser();
      }
    }
    return channel;
  }

  // ---- signed CDN links ---------------------------------------------------------------------------------------

  /** `hm` values of attachment links handed out and not expired (Discord signs links with ex/is/hm). */
  private readonly liveLinks = new Set<string>();

  /** `url` (a served file) with Discord's signature query: it works until expireLinks(). */
  signLink(url: string): string {
    const signed = new URL(url);
    signed.search = '';
    const issued = Math.floor(Date.now() / 1000);
    const hm = randomBytes(32).toString('hex');
    this.liveLinks.add(hm);
    signed.searchParams.set('ex', (issued + 86_400).toString(16));
    signed.searchParams.set('is', issued.toString(16));
    signed.searchParams.set('hm', hm);
    return `${signed.href}&`;
  }

  /** Whether a served file may be fetched with this query: unsigned (serveFile's own URLs) or signed and live. */
  linkIsLive(query: URLSearchParams): boolean {
    const hm = query.get('hm');
    return hm === null || this.liveLinks.has(hm);
  }

  expireLinks(): void {
    this.liveLinks.clear();
  }

  /** A copy of `message` whose signed attachment links are signed afresh, as every read of a message gets them. */
  withFreshLinks(message: APIMessage): APIMessage {
    const attachments = message.attachments.map((attachment) => {
      if (!new URL(attachment.url).searchParams.has('hm')) return attachment;
      const url = this.signLink(attachment.url);
      return { ...attachment, url, proxy_url: url };
    });
    return { ...message, attachments };
  }

  /** Remove a message for good (later GET/PATCH/DELETE of it: 404 10008). */
  deleteMessage(id: string): void {
    this.messages.delete(id);
    this.deletedMessageIds.add(id);
  }

  // ---- interactions -------------------------------------------------------------------------------------------

  /** The interaction behind a webhook token, or the Discord error for an unknown/expired one. */
  interactionForWebhook(applicationId: string, token: string, now: number): InteractionRecord {
    const interaction = this.interactionsByToken.get(token);
    if (applicationId !== this.applicationId || interaction === undefined) throw Errors.unknownWebhook();
    if (interaction.forcedExpired || now >= interaction.expiresAtMs) throw Errors.invalidWebhookToken();
    return interaction;
  }

  // ---- messages -----------------------------------------------------------------------------------------------

  private newAttachment(file: UploadedFile, filename: string, description: unknown): APIAttachment {
    const id = snowflake();
    const url = this.serve(`${id}/${filename}`, {
      data: file.data,
      contentType: file.contentType,
      status: 200,
      delayMs: 0,
      headers: {},
    });
    const attachment: APIAttachment = {
      id,
      filename,
      size: file.data.length,
      url,
      proxy_url: url,
      content_type: file.contentType,
    };
    const size = imageSize(file.data);
    if (size !== undefined) {
      attachment.width = size.width;
      attachment.height = size.height;
    }
    if (typeof description === 'string') attachment.description = description;
    return attachment;
  }

  /** Apply Discord's `attachments` semantics: listed ids are kept (existing) or added (file index). */
  private resolveAttachments(json: MessageJson, files: UploadedFile[], existing: APIAttachment[], sizeLimit: number): APIAttachment[] {
    for (const file of files) if (file.data.length > sizeLimit) throw Errors.tooLarge();
    const byIndex = new Map(files.map((file, position) => [fileIndex(file, position), file]));
    const used = new Set<number>();
    const result: APIAttachment[] = [];
    if (Array.isArray(json.attachments)) {
      json.attachments.forEach((entry: unknown, position) => {
        const spec = (entry ?? {}) as { id?: unknown; filename?: unknown; description?: unknown };
        const id = String(spec.id);
        const kept = existing.find((attachment) => attachment.id === id);
        if (kept !== undefined) {
          result.push(typeof spec.description === 'string' ? { ...kept, description: spec.description } : kept);
          return;
        }
        const file = /^\d{1,3}$/.test(id) ? byIndex.get(Number(id)) : undefined;
        if (file === undefined) {
          throw Errors.invalidForm({
            attachments: { [position]: fieldError('ATTACHMENT_NOT_FOUND', `Unknown attachment id ${id}`) },
          });
        }
        used.add(Number(id));
        const filename = typeof spec.filename === 'string' ? spec.filename : file.filename;
        result.push(this.newAttachment(file, filename, spec.description));
      });
    } else {
      result.push(...existing);
    }
    for (const [index, file] of byIndex) {
      if (!used.has(index)) result.push(this.newAttachment(file, file.filename, undefined));
    }
    if (result.length > 10) {
      throw Errors.invalidForm({ attachments: fieldError('BASE_TYPE_MAX_LENGTH', 'Must be 10 or fewer in length.') });
    }
    return result;
  }

  private validate(json: MessageJson): void {
    const errors: Record<string, unknown> = {};
    if (json.content !== undefined && json.content !== null) {
      if (typeof json.content !== 'string') errors['content'] = fieldError('BASE_TYPE_STRING', 'Must be a string.');
      else if (json.content.length > 2000) {
        errors['content'] = fieldError('BASE_TYPE_MAX_LENGTH', 'Must be 2000 or fewer in length.');
      }
    }
    if (Array.isArray(json.embeds) && json.embeds.length > 10) {
      errors['embeds'] = fieldError('BASE_TYPE_MAX_LENGTH', 'Must be 10 or fewer in length.');
    }
    const flags = typeof json.flags === 'number' ? json.flags : 0;
    if (Array.isArray(json.components) && (flags & MessageFlags.IsComponentsV2) === 0) {
      const componentErrors = validateActionRows(json.components);
      if (componentErrors !== undefined) errors['components'] = componentErrors;
    }
    if (Object.keys(errors).length > 0) throw Errors.invalidForm(errors);
  }

  createMessage(init: {
    channel: ChannelRecord;
    json: unknown;
    files: UploadedFile[];
    sizeLimit: number;
    type: MessageType;
    interaction?: InteractionRecord;
    /** a deferred response: an empty message flagged LOADING */
    loading?: boolean;
    extraFlags?: number;
  }): APIMessage {
    const json = asMessageJson(init.json);
    this.validate(json);
    const attachments = this.resolveAttachments(json, init.files, [], init.sizeLimit);
    const content = typeof json.content === 'string' ? json.content : '';
    const embeds = Array.isArray(json.embeds) ? (json.embeds as unknown[]) : [];
    const components = Array.isArray(json.components) ? (json.components as unknown[]) : [];
    const requested = typeof json.flags === 'number' ? json.flags : 0;
    let flags = (requested & (MessageFlags.Ephemeral | MessageFlags.SuppressEmbeds | MessageFlags.IsComponentsV2)) | (init.extraFlags ?? 0);
    if (init.loading === true) flags |= MessageFlags.Loading;
    else if (content === '' && embeds.length === 0 && attachments.length === 0 && components.length === 0) {
      throw Errors.emptyMessage();
    }
    const interaction = init.interaction;
    const message = buildMessage({
      id: snowflake(),
      channelId: init.channel.id,
      guildId: init.channel.guildId,
      author: this.botUser,
      ...(interaction !== undefined ? { applicationId: this.applicationId } : {}),
      type: init.type,
      content,
      embeds,
      components,
      attachments,
      flags,
      ...(interaction !== undefined ? { interactionMetadata: this.interactionMetadata(interaction) } : {}),
    });
    this.messages.set(message.id, message);
    interaction?.messageIds.add(message.id);
    return message;
  }

  /** A message's `interaction_metadata`; a modal's submission nests the metadata of the interaction that opened it. */
  interactionMetadata(interaction: InteractionRecord): APIMessageInteractionMetadata {
    const common = {
      id: interaction.id,
      user: interaction.user,
      authorizing_integration_owners: interaction.guildId === null ? { '0': '0' } : { '0': interaction.guildId },
      ...(interaction.originalMessageId !== null ? { original_response_message_id: interaction.originalMessageId } : {}),
    };
    const trigger = interaction.triggeredBy === null ? undefined : this.interactionsById.get(interaction.triggeredBy);
    if (interaction.kind === 'modal' && trigger !== undefined && trigger.kind !== 'modal') {
      const triggering = this.interactionMetadata(trigger) as APIModalSubmitInteractionMetadata['triggering_interaction_metadata'];
      return { ...common, type: InteractionType.ModalSubmit, triggering_interaction_metadata: triggering };
    }
    if (interaction.kind === 'component') {
      return { ...common, type: InteractionType.MessageComponent, interacted_message_id: interaction.componentMessageId ?? '' };
    }
    return {
      ...common,
      type: InteractionType.ApplicationCommand,
      ...(interaction.targetMessageId !== null ? { target_message_id: interaction.targetMessageId } : {}),
    };
  }

  /** PATCH semantics: fields present in the body replace, absent ones stay. */
  editMessage(message: APIMessage, body: unknown, files: UploadedFile[], sizeLimit: number): APIMessage {
    const json = asMessageJson(body);
    this.validate(json);
    const attachments = this.resolveAttachments(json, files, message.attachments, sizeLimit);
    const edited: APIMessage = {
      ...message,
      content: 'content' in json ? (typeof json.content === 'string' ? json.content : '') : message.content,
      embeds: 'embeds' in json ? ((Array.isArray(json.embeds) ? json.embeds : []) as APIMessage['embeds']) : message.embeds,
      components:
        'components' in json
          ? ((Array.isArray(json.components) ? json.components : []) as NonNullable<APIMessage['components']>)
          : (message.components ?? []),
      attachments,
      flags: (message.flags ?? 0) & ~MessageFlags.Loading,
      edited_timestamp: new Date().toISOString(),
    };
    if (edited.content === '' && edited.embeds.length === 0 && edited.attachments.length === 0 && (edited.components ?? []).length === 0) {
      throw Errors.emptyMessage();
    }
    this.messages.set(edited.id, edited);
    return edited;
  }
}

function asMessageJson(body: unknown): MessageJson {
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) {
    throw Errors.invalidForm({ _errors: [{ code: 'DICT_TYPE_CONVERT', message: 'Only dictionaries may be used in a DictType' }] });
  }
  return body;
}

/** Classic components: <= 5 action rows of <= 5 buttons (or 1 select), custom_id 1-100 chars, unique. */
function validateActionRows(rows: unknown[]): unknown {
  const errors: Record<string, unknown> = {};
  if (rows.length > 5) return fieldError('BASE_TYPE_MAX_LENGTH', 'Must be 5 or fewer in length.');
  const seen = new Set<string>();
  rows.forEach((row: unknown, rowIndex) => {
    const { type, components } = (row ?? {}) as { type?: unknown; components?: unknown };
    if (type !== 1 || !Array.isArray(components)) {
      errors[rowIndex] = fieldError('UNION_TYPE_CHOICES', 'Value of field "type" must be one of (1,).');
      return;
    }
    if (components.length < 1 || components.length > 5) {
      errors[rowIndex] = { components: fieldError('BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 5 in length.') };
      return;
    }
    const rowErrors: Record<string, unknown> = {};
    components.forEach((component: unknown, index) => {
      const c = (component ?? {}) as { type?: unknown; style?: unknown; custom_id?: unknown; url?: unknown; label?: unknown };
      if (c.type === 2 && c.style === 5) {
        if (typeof c.url !== 'string') rowErrors[index] = { url: fieldError('BASE_TYPE_REQUIRED', 'This field is required') };
        return;
      }
      if (c.type === 2 && c.style === 6) return; // premium button: sku_id
      if (typeof c.custom_id !== 'string' || c.custom_id.length < 1 || c.custom_id.length > 100) {
        rowErrors[index] = { custom_id: fieldError('BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 100 in length.') };
        return;
      }
      if (seen.has(c.custom_id)) {
        rowErrors[index] = {
          custom_id: fieldError('COMPONENT_CUSTOM_ID_DUPLICATED', 'Component custom id cannot be duplicated'),
        };
      }
      seen.add(c.custom_id);
      if (typeof c.label === 'string' && c.label.length > 80) {
        rowErrors[index] = { label: fieldError('BASE_TYPE_MAX_LENGTH', 'Must be 80 or fewer in length.') };
      }
    });
    if (Object.keys(rowErrors).length > 0) errors[rowIndex] = { components: rowErrors };
  });
  return Object.keys(errors).length > 0 ? errors : undefined;
}

/**
 * The REST routes (paths without the `/api/v10` prefix) discord.js 14 uses for a bot that answers interactions.
 * Anything else answers 404 `{ message: 'Unknown route', code: 0 }` (and is recorded, so tests can catch it).
 */
import { InteractionResponseType, MessageFlags, MessageType, type APIMessage, type APIUser } from 'discord-api-types/v10';
import { validateModal } from './modals.js';
import type { UploadedFile } from './multipart.js';
import { buildChannel, buildGuildMember, snowflake } from './payloads.js';
import { ApiError, Errors, NONCE_WINDOW_MS, type FakeState, type InteractionRecord } from './state.js';

export interface RestRequest {
  method: string;
  /** decoded, without `/api/v10` */
  path: string;
  query: URLSearchParams;
  auth: string | undefined;
  json: unknown;
  files: UploadedFile[];
  now: number;
}

export interface RestResponse {
  status: number;
  /** JSON body; undefined for 204 */
  body?: unknown;
}

export interface RestContext {
  state: FakeState;
  gatewayUrl: string;
  /** an interaction must be acknowledged within this long after it was dispatched */
  ackDeadlineMs: number;
}

type Handler = (ctx: RestContext, req: RestRequest, params: string[]) => RestResponse;

interface Route {
  method: string;
  pattern: RegExp;
  /** needs `Authorization: Bot <token>` */
  bot: boolean;
  handler: Handler;
}

const SEG = '([^/]+)';

function route(method: string, path: string, bot: boolean, handler: Handler): Route {
  return { method, pattern: new RegExp(`^${path.replaceAll(':p', SEG)}$`), bot, handler };
}

const json = (body: unknown, status = 200): RestResponse => ({ status, body });
const noContent = (): RestResponse => ({ status: 204 });

function application(ctx: RestContext): Record<string, unknown> {
  const { state } = ctx;
  return {
    id: state.applicationId,
    name: state.botUser.username,
    icon: null,
    description: '',
    summary: '',
    type: null,
    bot_public: true,
    bot_require_code_grant: false,
    verify_key: '0'.repeat(64),
    flags: 0,
    hook: true,
    team: null,
    owner: { id: snowflake(), username: 'owner', discriminator: '0', global_name: null, avatar: null, public_flags: 0 },
    bot: state.botUser,
    integration_types_config: { '0': {} },
  };
}

// ---- interactions ---------------------------------------------------------------------------------------------

function callback(ctx: RestContext, req: RestRequest, [id, token]: string[]): RestResponse {
  const { state } = ctx;
  const interaction = state.interactionsById.get(id ?? '');
  if (interaction === undefined || interaction.token !== token) throw Errors.unknownInteraction();
  if (interaction.forcedExpired || req.now >= interaction.expiresAtMs) throw Errors.unknownInteraction();
  if (interaction.callbackType !== null) throw Errors.alreadyAcknowledged();
  if (req.now - interaction.dispatchedAtMs > ctx.ackDeadlineMs) throw Errors.unknownInteraction();

  const body = (req.json ?? {}) as { type?: unknown; data?: unknown };
  const type = body.type;
  const data = body.data ?? {};
  let message: APIMessage | undefined;
  switch (type) {
    case InteractionResponseType.ChannelMessageWithSource:
      message = state.createMessage({
        channel: interaction.channel,
        json: data,
        files: req.files,
        sizeLimit: interaction.attachmentSizeLimit,
        type: interaction.messageType,
        interaction,
      });
      interaction.originalMessageId = message.id;
      break;
    case InteractionResponseType.DeferredChannelMessageWithSource: {
      const flags = (data as { flags?: unknown }).flags;
      message = state.createMessage({
        channel: interaction.channel,
        json: {},
        files: [],
        sizeLimit: interaction.attachmentSizeLimit,
        type: interaction.messageType,
        interaction,
        loading: true,
        extraFlags: typeof flags === 'number' ? flags & MessageFlags.Ephemeral : 0,
      });
      interaction.originalMessageId = message.id;
      break;
    }
    case InteractionResponseType.DeferredMessageUpdate:
    case InteractionResponseType.UpdateMessage: {
      if (interaction.componentMessageId === null) {
        throw Errors.invalidForm({
          type: { _errors: [{ code: 'INTERACTION_RESPONSE_TYPE_INVALID', message: 'Invalid interaction response type' }] },
        });
      }
      const target = state.messages.get(interaction.componentMessageId);
      if (target === undefined) throw Errors.unknownMessage();
      message = type === InteractionResponseType.UpdateMessage ? state.editMessage(target, data, req.files, interaction.attachmentSizeLimit) : target;
      interaction.originalMessageId = target.id;
      interaction.messageIds.add(target.id);
      break;
    }
    case InteractionResponseType.Modal:
      // A modal answers a command or a component; a modal's submission cannot open another one.
      if (interaction.kind === 'modal') {
        throw Errors.invalidForm({
          type: { _errors: [{ code: 'INTERACTION_RESPONSE_TYPE_INVALID', message: 'Invalid interaction response type' }] },
        });
      }
      interaction.modal = validateModal(data);
      break;
    case InteractionResponseType.ApplicationCommandAutocompleteResult:
      break;
    default:
      throw Errors.invalidForm({ type: { _errors: [{ code: 'BASE_TYPE_CHOICES', message: `Value must be one of a valid response type.` }] } });
  }
  interaction.callbackType = type;
  if (req.query.get('with_response') !== 'true') return noContent();
  const response: Record<string, unknown> = {
    interaction: {
      id: interaction.id,
      type: ctx.state.interactionMetadata(interaction).type,
      ...(message !== undefined
        ? {
            response_message_id: message.id,
            response_message_loading: ((message.flags ?? 0) & MessageFlags.Loading) !== 0,
            response_message_ephemeral: ((message.flags ?? 0) & MessageFlags.Ephemeral) !== 0,
          }
        : {}),
    },
    resource: message !== undefined ? { type, message } : { type },
  };
  return json(response);
}

/** The message an interaction webhook route refers to (`@original` or an id it created). */
function webhookMessage(state: FakeState, interaction: InteractionRecord, messageId: string): APIMessage {
  const id = messageId === '@original' ? interaction.originalMessageId : messageId;
  if (id === null || !interaction.messageIds.has(id)) throw Errors.unknownMessage();
  const message = state.messages.get(id);
  if (message === undefined) throw Errors.unknownMessage();
  return message;
}

function getWebhookMessage(ctx: RestContext, req: RestRequest, [app, token, messageId]: string[]): RestResponse {
  const interaction = ctx.state.interactionForWebhook(app ?? '', token ?? '', req.now);
  return json(webhookMessage(ctx.state, interaction, messageId ?? ''));
}

function editWebhookMessage(ctx: RestContext, req: RestRequest, [app, token, messageId]: string[]): RestResponse {
  const interaction = ctx.state.interactionForWebhook(app ?? '', token ?? '', req.now);
  const message = webhookMessage(ctx.state, interaction, messageId ?? '');
  return json(ctx.state.editMessage(message, req.json, req.files, interaction.attachmentSizeLimit));
}

function deleteWebhookMessage(ctx: RestContext, req: RestRequest, [app, token, messageId]: string[]): RestResponse {
  const interaction = ctx.state.interactionForWebhook(app ?? '', token ?? '', req.now);
  const message = webhookMessage(ctx.state, interaction, messageId ?? '');
  ctx.state.deleteMessage(message.id);
  interaction.messageIds.delete(message.id);
  return noContent();
}

function followUp(ctx: RestContext, req: RestRequest, [app, token]: string[]): RestResponse {
  const { state } = ctx;
  const interaction = state.interactionForWebhook(app ?? '', token ?? '', req.now);
  if (interaction.callbackType === null) throw Errors.unknownWebhook();
  const wait = req.query.get('wait') === 'true';
  // Like Discord: the first follow-up after a deferred reply replaces the "thinking..." message.
  const original = interaction.originalMessageId === null ? undefined : state.messages.get(interaction.originalMessageId);
  let message: APIMessage;
  if (original !== undefined && ((original.flags ?? 0) & MessageFlags.Loading) !== 0) {
    message = state.editMessage(original, req.json, req.files, interaction.attachmentSizeLimit);
  } else {
    message = state.createMessage({
      channel: interaction.channel,
      json: req.json,
      files: req.files,
      sizeLimit: interaction.attachmentSizeLimit,
      type: MessageType.Default,
      interaction,
    });
  }
  return wait ? json(message) : noContent();
}

// ---- channels -------------------------------------------------------------------------------------------------

/** The channel, or 10003 / 50001 / 50013 / 50007 (see FakeState#channelForBot). */
function channelOf(ctx: RestContext, channelId: string | undefined, need: 'view' | 'send' = 'view') {
  return ctx.state.channelForBot(channelId ?? '', need);
}

function channelMessage(ctx: RestContext, channelId: string | undefined, messageId: string | undefined): APIMessage {
  channelOf(ctx, channelId);
  const message = ctx.state.messages.get(messageId ?? '');
  if (message === undefined || message.channel_id !== channelId || ((message.flags ?? 0) & MessageFlags.Ephemeral) !== 0) {
    throw Errors.unknownMessage();
  }
  return message;
}

/**
 * POST /channels/:id/messages. With `enforce_nonce: true`, a nonce the bot used in the past few minutes answers the
 * message it created then (if it still exists) instead of creating another, as Discord does.
 */
function createChannelMessage(ctx: RestContext, req: RestRequest, [channelId]: string[]): RestResponse {
  const channel = channelOf(ctx, channelId, 'send');
  const { message_reference: reference, nonce, enforce_nonce: enforce } = (req.json ?? {}) as Record<string, unknown>;
  if (nonce !== undefined && !((typeof nonce === 'string' && nonce.length <= 25) || Number.isInteger(nonce))) {
    throw Errors.invalidForm({ nonce: { _errors: [{ code: 'BASE_TYPE_MAX_LENGTH', message: 'Must be 25 or fewer in length.' }] } });
  }
  const key = enforce === true && (typeof nonce === 'string' || typeof nonce === 'number') ? String(nonce) : undefined;
  const earlier = key === undefined ? undefined : ctx.state.postsByNonce.get(key);
  if (earlier !== undefined && req.now - earlier.atMs < NONCE_WINDOW_MS) {
    const first = ctx.state.messages.get(earlier.messageId);
    if (first !== undefined) return json(first);
  }
  const message = ctx.state.createMessage({
    channel,
    json: req.json,
    files: req.files,
    sizeLimit: ctx.state.uploadLimit,
    type: reference === undefined || reference === null ? MessageType.Default : MessageType.Reply,
  });
  if (key !== undefined) ctx.state.postsByNonce.set(key, { messageId: message.id, atMs: req.now });
  return json(message);
}

function editChannelMessage(ctx: RestContext, req: RestRequest, [channelId, messageId]: string[]): RestResponse {
  const message = channelMessage(ctx, channelId, messageId);
  if (message.webhook_id !== undefined) throw Errors.cannotEditOthers();
  return json(ctx.state.editMessage(message, req.json, req.files, ctx.state.uploadLimit));
}

/** POST /users/@me/channels {recipient_id}: the (remembered) DM channel with that user; works even if DMs are closed. */
function openDm(ctx: RestContext, req: RestRequest): RestResponse {
  const { state } = ctx;
  const recipientId = (req.json as { recipient_id?: unknown } | undefined)?.recipient_id;
  if (typeof recipientId !== 'string' || !/^\d{17,20}$/.test(recipientId) || recipientId === state.botUser.id) {
    throw Errors.invalidRecipient();
  }
  let user = state.users.get(recipientId);
  if (user === undefined) {
    // a user the fake never saw (no interaction yet): Discord knows every user, so make one up
    user = { id: recipientId, username: `user-${recipientId.slice(-4)}`, discriminator: '0', global_name: null, avatar: null };
    state.users.set(recipientId, user);
  }
  return json(buildChannel(state.dmChannelFor(user)));
}

// ---- commands -------------------------------------------------------------------------------------------------

function checkApp(ctx: RestContext, app: string | undefined): void {
  if (app !== ctx.state.applicationId) throw new ApiError(404, 10002, 'Unknown Application');
}

function normalizeCommand(ctx: RestContext, scope: string, raw: unknown): Record<string, unknown> {
  const command = { ...((raw ?? {}) as Record<string, unknown>) };
  const type = command['type'] ?? 1;
  // Slash commands: words; user and message commands (types 2, 3): any 1-32 characters, spaces included.
  const namePattern = type === 1 ? /^[-_\p{L}\p{N}]{1,32}$/u : /^.{1,32}$/u;
  if (typeof command['name'] !== 'string' || !namePattern.test(command['name'])) {
    throw Errors.invalidForm({ name: { _errors: [{ code: 'APPLICATION_COMMAND_INVALID_NAME', message: 'Command name is invalid' }] } });
  }
  if (
    type !== 1 &&
    ((typeof command['description'] === 'string' && command['description'] !== '') ||
      (Array.isArray(command['options']) && command['options'].length > 0))
  ) {
    throw Errors.invalidForm({
      description: {
        _errors: [{ code: 'APPLICATION_COMMAND_CONTEXT_MENU_FIELDS', message: 'Context menu commands cannot have description or options' }],
      },
    });
  }
  return {
    type: 1,
    description: '',
    options: [],
    default_member_permissions: null,
    nsfw: false,
    ...command,
    id: ctx.state.commandId(command['name'], scope === 'global' ? null : scope),
    application_id: ctx.state.applicationId,
    version: snowflake(),
    ...(scope === 'global' ? {} : { guild_id: scope }),
  };
}

function putCommands(ctx: RestContext, req: RestRequest, [app, guild]: string[]): RestResponse {
  checkApp(ctx, app);
  const scope = guild ?? 'global';
  if (!Array.isArray(req.json)) throw Errors.invalidForm({ _errors: [{ code: 'BASE_TYPE_ARRAY', message: 'Must be an array.' }] });
  ctx.state.commands.set(scope, []);
  const commands = req.json.map((raw: unknown) => normalizeCommand(ctx, scope, raw));
  ctx.state.commands.set(scope, commands);
  return json(commands);
}

function postCommand(ctx: RestContext, req: RestRequest, [app, guild]: string[]): RestResponse {
  checkApp(ctx, app);
  const scope = guild ?? 'global';
  const command = normalizeCommand(ctx, scope, req.json);
  const list = (ctx.state.commands.get(scope) ?? []).filter((c) => c['name'] !== command['name']);
  ctx.state.commands.set(scope, [...list, command]);
  return json(command, 201);
}

function getCommands(ctx: RestContext, _req: RestRequest, [app, guild]: string[]): RestResponse {
  checkApp(ctx, app);
  return json(ctx.state.commands.get(guild ?? 'global') ?? []);
}

// ---- guilds ---------------------------------------------------------------------------------------------------

function guildMember(ctx: RestContext, _req: RestRequest, [guildId, userId]: string[]): RestResponse {
  const { state } = ctx;
  const guild = state.guilds.get(guildId ?? '');
  if (guild === undefined) throw new ApiError(404, 10004, 'Unknown Guild');
  const member = (user: APIUser, roles: string[]) => json(buildGuildMember(user, roles, guild.joinedAtMs));
  if (userId === state.botUser.id) return member(state.botUser, [guild.botRoleId]);
  const user = state.users.get(userId ?? '');
  if (user === undefined) throw new ApiError(404, 10007, 'Unknown Member');
  return member(user, [state.roleFor(guild.id, state.permissionsOf(user.id)).id]);
}

// ---- table ----------------------------------------------------------------------------------------------------

const routes: Route[] = [
  route('GET', '/gateway/bot', true, (ctx) =>
    json({
      url: ctx.gatewayUrl,
      shards: 1,
      session_start_limit: { total: 1000, remaining: 999, reset_after: 86_400_000, max_concurrency: 1 },
    }),
  ),
  route('GET', '/gateway', false, (ctx) => json({ url: ctx.gatewayUrl })),
  route('GET', '/users/@me', true, (ctx) => json(ctx.state.botUser)),
  route('GET', '/applications/@me', true, (ctx) => json(application(ctx))),
  route('GET', '/oauth2/applications/@me', true, (ctx) => json(application(ctx))),
  route('GET', '/applications/:p/commands', true, getCommands),
  route('PUT', '/applications/:p/commands', true, putCommands),
  route('POST', '/applications/:p/commands', true, postCommand),
  route('GET', '/applications/:p/guilds/:p/commands', true, getCommands),
  route('PUT', '/applications/:p/guilds/:p/commands', true, putCommands),
  route('POST', '/applications/:p/guilds/:p/commands', true, postCommand),
  route('POST', '/interactions/:p/:p/callback', false, callback),
  route('GET', '/webhooks/:p/:p/messages/:p', false, getWebhookMessage),
  route('PATCH', '/webhooks/:p/:p/messages/:p', false, editWebhookMessage),
  route('DELETE', '/webhooks/:p/:p/messages/:p', false, deleteWebhookMessage),
  route('POST', '/webhooks/:p/:p', false, followUp),
  route('POST', '/users/@me/channels', true, openDm),
  route('GET', '/users/:p', true, (ctx, _req, [id]) => {
    const user = id === ctx.state.botUser.id ? ctx.state.botUser : ctx.state.users.get(id ?? '');
    if (user === undefined) throw new ApiError(404, 10013, 'Unknown User');
    return json(user);
  }),
  route('GET', '/guilds/:p', true, (ctx, _req, [id]) => json(ctx.state.guildPayload(id ?? '', false))),
  route('GET', '/guilds/:p/channels', true, (ctx, _req, [id]) => {
    ctx.state.guildPayload(id ?? '', false);
    return json([...ctx.state.channels.values()].filter((c) => c.guildId === id).map(buildChannel));
  }),
  route('GET', '/guilds/:p/members/:p', true, guildMember),
  route('GET', '/channels/:p', true, (ctx, _req, [id]) => json(buildChannel(channelOf(ctx, id)))),
  route('POST', '/channels/:p/typing', true, (ctx, _req, [id]) => (channelOf(ctx, id, 'send'), noContent())),
  route('POST', '/channels/:p/messages', true, createChannelMessage),
  route('GET', '/channels/:p/messages/:p', true, (ctx, _req, [c, m]) => json(ctx.state.withFreshLinks(channelMessage(ctx, c, m)))),
  route('PATCH', '/channels/:p/messages/:p', true, editChannelMessage),
  route('DELETE', '/channels/:p/messages/:p', true, (ctx, _req, [c, m]) => {
    ctx.state.deleteMessage(channelMessage(ctx, c, m).id);
    return noContent();
  }),
];

export function handleRest(ctx: RestContext, req: RestRequest): RestResponse {
  try {
    for (const candidate of routes) {
      if (candidate.method !== req.method) continue;
      const match = candidate.pattern.exec(req.path);
      if (match === null) continue;
      if (candidate.bot && req.auth !== `Bot ${ctx.state.botToken}`) throw Errors.unauthorized();
      return candidate.handler(
        ctx,
        req,
        match.slice(1).map((segment) => segment ?? ''),
      );
    }
    throw Errors.unknownRoute();
  } catch (error) {
    if (error instanceof ApiError) return { status: error.status, body: error.toJSON() };
    throw error;
  }
}

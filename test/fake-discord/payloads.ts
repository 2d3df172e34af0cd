/**
 * Builders for the JSON objects the fake Discord sends: snowflakes, tokens, users, members, channels,
 * messages and the INTERACTION_CREATE payloads discord.js 14.28 accepts (typed with discord-api-types v10).
 */
import { randomBytes } from 'node:crypto';
import {
  ApplicationCommandOptionType,
  ApplicationCommandType,
  ChannelType,
  ComponentType,
  InteractionContextType,
  InteractionType,
  Locale,
  MessageType,
  type APIApplicationCommandInteractionDataBasicOption,
  type APIApplicationCommandInteractionDataOption,
  type APIAttachment,
  type APIChatInputApplicationCommandInteraction,
  type APIInteractionGuildMember,
  type APIMessage,
  type APIMessageApplicationCommandInteraction,
  type APIMessageComponentInteraction,
  type APIModalSubmissionComponent,
  type APIModalSubmitInteraction,
  type APIUser,
  type GuildMemberFlags,
  type UserFlags,
} from 'discord-api-types/v10';

const DISCORD_EPOCH = 1_420_070_400_000n;
let increment = 0n;

/** A real Discord snowflake (timestamp << 22 | worker | process | increment) for `ms` (default: now). */
export function snowflake(ms: number = Date.now()): string {
  increment = (increment + 1n) & 0xfffn;
  const time = BigInt(Math.floor(ms)) - DISCORD_EPOCH;
  return ((time << 22n) | (1n << 17n) | (1n << 12n) | increment).toString();
}

/** Milliseconds since the Unix epoch encoded in a snowflake. */
export function snowflakeTime(id: string): number {
  return Number((BigInt(id) >> 22n) + DISCORD_EPOCH);
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** Random [A-Za-z0-9] string. */
export function randomAlnum(length: number): string {
  const bytes = randomBytes(length);
  let out = '';
  for (const byte of bytes) out += ALNUM[byte % ALNUM.length];
  return out;
}

/** Interaction tokens look like `aW50ZXJhY3Rpb246...` (base64 of "interaction:"), alphanumeric here. */
export function interactionToken(): string {
  return `aW50ZXJhY3Rpb246${randomAlnum(120)}`;
}

/** Bot tokens are `base64(user id).timestamp.hmac`; discord.js censors the third part in debug logs. */
export function botToken(botUserId: string): string {
  return `${Buffer.from(botUserId).toString('base64url')}.${randomAlnum(6)}.${randomAlnum(38)}`;
}

export interface FakeUserSpec {
  id: string;
  username: string;
  globalName?: string | null;
}

export function buildUser(spec: FakeUserSpec, bot = false): APIUser {
  const user: APIUser = {
    id: spec.id,
    username: spec.username,
    discriminator: '0',
    global_name: spec.globalName ?? null,
    avatar: null,
    public_flags: 0 as UserFlags,
  };
  if (bot) user.bot = true;
  return user;
}

/** A guild member as REST and GUILD_CREATE return it. */
export function buildGuildMember(user: APIUser, roles: string[], joinedAtMs: number) {
  return {
    user,
    roles,
    joined_at: new Date(joinedAtMs).toISOString(),
    deaf: false,
    mute: false,
    flags: 0 as GuildMemberFlags,
    pending: false,
    nick: null,
    avatar: null,
    banner: null,
    premium_since: null,
    communication_disabled_until: null,
  };
}

/** A guild member as an interaction carries it: with the member's permissions in the channel. */
export function buildMember(user: APIUser, permissions: bigint, joinedAtMs: number, roles: string[]): APIInteractionGuildMember {
  return { ...buildGuildMember(user, roles, joinedAtMs), permissions: permissions.toString() };
}

/** Permission bits used by the defaults (see https://discord.com/developers/docs/topics/permissions). */
export const Permission = {
  AddReactions: 1n << 6n,
  ViewChannel: 1n << 10n,
  SendMessages: 1n << 11n,
  ManageMessages: 1n << 13n,
  EmbedLinks: 1n << 14n,
  AttachFiles: 1n << 15n,
  ReadMessageHistory: 1n << 16n,
  UseExternalEmojis: 1n << 18n,
  UseApplicationCommands: 1n << 31n,
  SendMessagesInThreads: 1n << 38n,
} as const;

/** What an ordinary member has in an ordinary text channel (no MANAGE_MESSAGES). */
export const DEFAULT_MEMBER_PERMISSIONS =
  Permission.AddReactions |
  Permission.ViewChannel |
  Permission.SendMessages |
  Permission.EmbedLinks |
  Permission.AttachFiles |
  Permission.ReadMessageHistory |
  Permission.UseExternalEmojis |
  Permission.UseApplicationCommands |
  Permission.SendMessagesInThreads;

/** What the bot has in the channel (interaction.appPermissions). */
export const DEFAULT_APP_PERMISSIONS = DEFAULT_MEMBER_PERMISSIONS;

export interface ChannelRecord {
  id: string;
  /** null for a DM channel */
  guildId: string | null;
  /** the other user of a DM channel */
  recipient?: APIUser;
  name: string;
}

/** The `channel` object of an interaction / GET /channels/:id. */
export function buildChannel(channel: ChannelRecord): Record<string, unknown> {
  if (channel.guildId === null) {
    return {
      id: channel.id,
      type: ChannelType.DM,
      last_message_id: null,
      flags: 0,
      recipients: channel.recipient ? [channel.recipient] : [],
    };
  }
  return {
    id: channel.id,
    type: ChannelType.GuildText,
    guild_id: channel.guildId,
    name: channel.name,
    position: 0,
    permission_overwrites: [],
    nsfw: false,
    parent_id: null,
    topic: null,
    last_message_id: null,
    rate_limit_per_user: 0,
    flags: 0,
  };
}

export interface GuildRecord {
  id: string;
  name: string;
  /** the managed role the bot gets on joining (carries the app permissions) */
  botRoleId: string;
  joinedAtMs: number;
  /** one role per distinct member permission set (permissions as a decimal string -> role id); @everyone has none */
  roles: Map<string, string>;
}

export function buildRole(id: string, name: string, permissions: bigint, position: number, botId?: string): Record<string, unknown> {
  return {
    id,
    name,
    color: 0,
    colors: { primary_color: 0, secondary_color: null, tertiary_color: null },
    hoist: false,
    icon: null,
    unicode_emoji: null,
    position,
    permissions: permissions.toString(),
    managed: botId !== undefined,
    mentionable: false,
    flags: 0,
    ...(botId !== undefined ? { tags: { bot_id: botId } } : {}),
  };
}

/** GUILD_CREATE data (and GET /guilds/:id without the gateway-only fields). */
export function buildGuild(
  guild: GuildRecord,
  botUser: APIUser,
  channels: ChannelRecord[],
  appPermissions: bigint,
  gatewayFields: boolean,
): Record<string, unknown> {
  let position = 1;
  const joinedAt = new Date(guild.joinedAtMs).toISOString();
  const base: Record<string, unknown> = {
    id: guild.id,
    name: guild.name,
    icon: null,
    splash: null,
    discovery_splash: null,
    banner: null,
    description: null,
    owner_id: '1',
    afk_channel_id: null,
    afk_timeout: 300,
    widget_enabled: false,
    verification_level: 0,
    default_message_notifications: 0,
    explicit_content_filter: 0,
    mfa_level: 0,
    nsfw_level: 0,
    premium_tier: 0,
    premium_subscription_count: 0,
    premium_progress_bar_enabled: false,
    preferred_locale: 'en-US',
    system_channel_id: null,
    system_channel_flags: 0,
    rules_channel_id: null,
    public_updates_channel_id: null,
    safety_alerts_channel_id: null,
    max_members: 500000,
    max_video_channel_users: 25,
    max_stage_video_channel_users: 50,
    vanity_url_code: null,
    application_id: null,
    features: [],
    // @everyone grants nothing; each member holds exactly the role for its permission set, so discord.js's
    // GuildMember#permissions agrees with interaction.memberPermissions.
    roles: [
      buildRole(guild.id, '@everyone', 0n, 0),
      buildRole(guild.botRoleId, botUser.username, appPermissions, position++, botUser.id),
      ...[...guild.roles].map(([permissions, id]) => buildRole(id, `perms-${permissions}`, BigInt(permissions), position++)),
    ],
    emojis: [],
    stickers: [],
    incidents_data: null,
  };
  if (!gatewayFields) return base;
  return {
    ...base,
    joined_at: joinedAt,
    large: false,
    unavailable: false,
    member_count: 2,
    members: [buildGuildMember(botUser, [guild.botRoleId], guild.joinedAtMs)],
    channels: channels.map((channel) => {
      const { guild_id: _guildId, ...rest } = buildChannel(channel);
      return rest;
    }),
    threads: [],
    presences: [],
    voice_states: [],
    stage_instances: [],
    guild_scheduled_events: [],
    soundboard_sounds: [],
    lazy: true,
  };
}

export type FakeOptionType = 'string' | 'integer' | 'number' | 'boolean' | 'attachment';

export interface FakeOption {
  name: string;
  type: FakeOptionType;
  value: string | number | boolean;
}

const OPTION_TYPES = {
  string: ApplicationCommandOptionType.String,
  integer: ApplicationCommandOptionType.Integer,
  number: ApplicationCommandOptionType.Number,
  boolean: ApplicationCommandOptionType.Boolean,
  attachment: ApplicationCommandOptionType.Attachment,
} as const;

export function buildOption(option: FakeOption): APIApplicationCommandInteractionDataBasicOption {
  return {
    name: option.name,
    type: OPTION_TYPES[option.type],
    value: option.value,
  } as APIApplicationCommandInteractionDataBasicOption;
}

export interface InteractionBase {
  id: string;
  token: string;
  applicationId: string;
  user: APIUser;
  /** null: a DM */
  guildId: string | null;
  channel: ChannelRecord;
  memberPermissions: bigint;
  /** the member's roles (guild interactions) */
  memberRoles: string[];
  appPermissions: bigint;
  attachmentSizeLimit: number;
  locale: Locale;
  createdAtMs: number;
}

function baseFields(base: InteractionBase) {
  const common = {
    id: base.id,
    application_id: base.applicationId,
    token: base.token,
    version: 1 as const,
    app_permissions: base.appPermissions.toString(),
    locale: base.locale,
    entitlements: [],
    attachment_size_limit: base.attachmentSizeLimit,
    channel: buildChannel(base.channel) as APIChatInputApplicationCommandInteraction['channel'],
    channel_id: base.channel.id,
  };
  if (base.guildId === null) {
    return {
      ...common,
      user: base.user,
      // a guild-installed app reached in its bot DM: the guild-install key maps to "0"
      authorizing_integration_owners: { '0': '0' },
      context: InteractionContextType.BotDM,
    };
  }
  return {
    ...common,
    guild_id: base.guildId,
    guild: { id: base.guildId, locale: Locale.EnglishUS, features: [] },
    guild_locale: Locale.EnglishUS,
    member: buildMember(base.user, base.memberPermissions, base.createdAtMs - 86_400_000, base.memberRoles),
    authorizing_integration_owners: { '0': base.guildId },
    context: InteractionContextType.Guild,
  };
}

export function buildChatInputInteraction(
  base: InteractionBase,
  command: {
    commandId: string;
    name: string;
    subcommand?: string;
    options: APIApplicationCommandInteractionDataBasicOption[];
    attachments: Record<string, APIAttachment>;
  },
): APIChatInputApplicationCommandInteraction {
  const options: APIApplicationCommandInteractionDataOption[] =
    command.subcommand === undefined
      ? command.options
      : [{ name: command.subcommand, type: ApplicationCommandOptionType.Subcommand, options: command.options }];
  const data: APIChatInputApplicationCommandInteraction['data'] = {
    id: command.commandId,
    name: command.name,
    type: ApplicationCommandType.ChatInput,
    options,
  };
  if (Object.keys(command.attachments).length > 0) data.resolved = { attachments: command.attachments };
  if (base.guildId !== null) data.guild_id = base.guildId;
  return {
    ...baseFields(base),
    type: InteractionType.ApplicationCommand,
    data,
  };
}

export function buildButtonInteraction(base: InteractionBase, customId: string, message: APIMessage): APIMessageComponentInteraction {
  return {
    ...baseFields(base),
    type: InteractionType.MessageComponent,
    data: { custom_id: customId, component_type: ComponentType.Button },
    message,
  };
}

/** A message command (type 3) used on `message`: Discord sends the whole message in `data.resolved.messages`. */
export function buildMessageContextMenuInteraction(
  base: InteractionBase,
  command: { commandId: string; name: string; message: APIMessage },
): APIMessageApplicationCommandInteraction {
  const data: APIMessageApplicationCommandInteraction['data'] = {
    id: command.commandId,
    name: command.name,
    type: ApplicationCommandType.Message,
    target_id: command.message.id,
    resolved: { messages: { [command.message.id]: command.message } },
  };
  if (base.guildId !== null) data.guild_id = base.guildId;
  return {
    ...baseFields(base),
    type: InteractionType.ApplicationCommand,
    data,
  };
}

/** A modal's submission (type 5). `message` only when the modal was opened from a component on that message. */
export function buildModalSubmitInteraction(
  base: InteractionBase,
  customId: string,
  components: APIModalSubmissionComponent[],
  message?: APIMessage,
): APIModalSubmitInteraction {
  return {
    ...baseFields(base),
    type: InteractionType.ModalSubmit,
    data: { custom_id: customId, components },
    ...(message !== undefined ? { message } : {}),
  };
}

export interface MessageInit {
  id: string;
  channelId: string;
  guildId: string | null;
  author: APIUser;
  /** set for interaction responses (Discord sends the application id as webhook_id) */
  applicationId?: string;
  type: MessageType;
  content: string;
  embeds: unknown[];
  components: unknown[];
  attachments: APIAttachment[];
  flags: number;
  interactionMetadata?: APIMessage['interaction_metadata'];
}

export function buildMessage(init: MessageInit): APIMessage {
  const message: APIMessage = {
    id: init.id,
    channel_id: init.channelId,
    author: init.author,
    content: init.content,
    timestamp: new Date(snowflakeTime(init.id)).toISOString(),
    edited_timestamp: null,
    tts: false,
    mention_everyone: false,
    mentions: [],
    mention_roles: [],
    attachments: init.attachments,
    embeds: init.embeds as APIMessage['embeds'],
    components: init.components as NonNullable<APIMessage['components']>,
    pinned: false,
    type: init.type,
    flags: init.flags,
  };
  if (init.applicationId !== undefined) {
    message.webhook_id = init.applicationId;
    message.application_id = init.applicationId;
  }
  if (init.interactionMetadata !== undefined) message.interaction_metadata = init.interactionMetadata;
  return message;
}

/** Width/height of a PNG, JPEG, GIF or WebP, as Discord reports for image attachments. */
export function imageSize(data: Buffer): { width: number; height: number } | undefined {
  if (data.length >= 24 && data.readUInt32BE(0) === 0x89504e47 && data.toString('ascii', 12, 16) === 'IHDR') {
    return { width: data.readUInt32BE(16), height: data.readUInt32BE(20) };
  }
  if (data.length >= 10 && data.toString('ascii', 0, 3) === 'GIF') {
    return { width: data.readUInt16LE(6), height: data.readUInt16LE(8) };
  }
  if (data.length >= 30 && data.toString('ascii', 0, 4) === 'RIFF' && data.toString('ascii', 8, 12) === 'WEBP') {
    const chunk = data.toString('ascii', 12, 16);
    if (chunk === 'VP8X') return { width: data.readUIntLE(24, 3) + 1, height: data.readUIntLE(27, 3) + 1 };
    if (chunk === 'VP8 ') return { width: data.readUInt16LE(26) & 0x3fff, height: data.readUInt16LE(28) & 0x3fff };
    if (chunk === 'VP8L') {
      const bits = data.readUInt32LE(21);
      return { width: (bits & 0x3fff) + 1, height: ((bits >> 14) & 0x3fff) + 1 };
    }
  }
  if (data.length >= 4 && data[0] === 0xff && data[1] === 0xd8) {
    let offset = 2;
    while (offset + 9 < data.length) {
      if (data[offset] !== 0xff) return undefined;
      const marker = data[offset + 1] ?? 0;
      const length = data.readUInt16BE(offset + 2);
      const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
      if (isSof) return { width: data.readUInt16BE(offset + 7), height: data.readUInt16BE(offset + 5) };
      offset += 2 + length;
    }
  }
  return undefined;
}

export { MessageType };

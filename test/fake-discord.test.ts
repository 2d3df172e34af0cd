import { once } from 'node:events';
import {
  ActionRowBuilder,
  ApplicationCommandType,
  AttachmentBuilder,
  ButtonBuilder,
  ButtonStyle,
  Client,
  ContextMenuCommandBuilder,
  DiscordAPIError,
  DiscordjsTypeError,
  Events,
  GatewayIntentBits,
  HTTPError,
  LabelBuilder,
  MessageFlags,
  ModalBuilder,
  PermissionFlagsBits,
  RESTEvents,
  Routes,
  TextInputBuilder,
  TextInputStyle,
  type ButtonInteraction,
  type MessageContextMenuCommandInteraction,
  type ModalSubmitInteraction,
  type RateLimitData,
  type ChatInputCommandInteraction,
  type Interaction,
} from 'discord.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeDiscord, Permission, snowflakeTime, type RecordedRequest } from './fake-discord/index.js';

/** A valid 1x1 PNG. */
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64');
const SOURCE = Buffer.from('source image bytes');

const isPatchOriginal = (token: string) => (r: RecordedRequest) => r.method === 'PATCH' && r.path.endsWith(`/${token}/messages/@original`);

describe('FakeDiscord with the real discord.js client', () => {
  let fake: FakeDiscord;
  let client: Client;
  const handlerErrors: unknown[] = [];
  const commands = new Map<string, ChatInputCommandInteraction>();
  const buttons = new Map<string, ButtonInteraction>();
  const downloaded = new Map<string, Buffer>();

  async function onCommand(interaction: ChatInputCommandInteraction): Promise<void> {
    commands.set(interaction.id, interaction);
    if (interaction.commandName === 'ping') {
      await interaction.reply({ content: 'pong', files: [new AttachmentBuilder(PNG, { name: 'pong.png' })] });
      return;
    }
    if (interaction.commandName === 'later') {
      await interaction.deferReply({ flags: MessageFlags.Ephemeral });
      await interaction.followUp({ content: 'first follow-up' });
      await interaction.followUp({ content: 'second follow-up' });
      return;
    }
    await interaction.deferReply();
    const image = interaction.options.getAttachment('image', true);
    const response = await fetch(image.url);
    downloaded.set(interaction.id, Buffer.from(await response.arrayBuffer()));
    await interaction.editReply({ content: `Editing with "${interaction.options.getString('prompt', true)}"...` });
    const row = new ActionRowBuilder<ButtonBuilder>().addComponents(
      new ButtonBuilder().setCustomId(`redo:${interaction.id}`).setLabel('Redo').setStyle(ButtonStyle.Primary),
    );
    await interaction.editReply({
      content: 'Done',
      files: [new AttachmentBuilder(PNG, { name: 'result.png' })],
      components: [row],
    });
  }

  async function onButton(interaction: ButtonInteraction): Promise<void> {
    buttons.set(interaction.id, interaction);
    const attachment = interaction.message.attachments.first();
    if (attachment !== undefined) {
      downloaded.set(interaction.id, Buffer.from(await (await fetch(attachment.url)).arrayBuffer()));
    }
    await interaction.deferUpdate();
    await interaction.editReply({ content: 'Redoing...', components: [] });
  }

  beforeAll(async () => {
    fake = await FakeDiscord.start();
    client = await loggedInClient(fake, (client) => {
      client.on(Events.InteractionCreate, (interaction: Interaction) => {
        const work = interaction.isChatInputCommand() ? onCommand(interaction) : interaction.isButton() ? onButton(interaction) : Promise.resolve();
        work.catch((error: unknown) => handlerErrors.push(error));
      });
    });
  });

  afterAll(async () => {
    await client?.destroy();
    await fake?.close();
  });

  it('logs the client in over the fake gateway as the fake bot user', () => {
    expect(client.user?.id).toBe(fake.botUserId);
    expect(client.application?.id).toBe(fake.applicationId);
    expect(fake.identifies).toHaveLength(1);
    expect(fake.identifies[0]).toMatchObject({ token: fake.botToken, intents: GatewayIntentBits.Guilds });
    expect(fake.requests.map((r) => `${r.method} ${r.path}`)).toContain('GET /gateway/bot');
  });

  let slash: { id: string; token: string };
  let finalEdit: RecordedRequest;

  it('delivers a slash command with an attachment option and records defer, progress edit and file edit', async () => {
    const url = fake.serveFile('source.png', SOURCE);
    slash = fake.sendSlashCommand({
      name: 'edit',
      user: { id: '123456789012345678', username: 'alice' },
      options: [
        { name: 'prompt', type: 'string', value: 'make it blue' },
        { name: 'image', type: 'attachment', value: 'photo' },
        { name: 'steps', type: 'integer', value: 20 },
      ],
      attachments: { photo: { filename: 'source.png', url, size: SOURCE.length, width: 64, height: 48 } },
    });

    const callback = await fake.waitForRequest((r) => r.path === `/interactions/${slash.id}/${slash.token}/callback`);
    expect(callback).toMatchObject({ method: 'POST', status: 204, auth: undefined, json: { type: 5 } });

    const progress = await fake.waitForRequest((r) => isPatchOriginal(slash.token)(r) && r.files.length === 0);
    expect(progress.path).toBe(`/webhooks/${fake.applicationId}/${slash.token}/messages/@original`);
    expect(progress.json).toMatchObject({ content: 'Editing with "make it blue"...' });

    finalEdit = await fake.waitForRequest((r) => isPatchOriginal(slash.token)(r) && r.files.length > 0);
    expect(finalEdit.status).toBe(200);
    expect(finalEdit.files[0]).toMatchObject({ name: 'files[0]', filename: 'result.png', contentType: 'image/png' });
    expect(finalEdit.files[0]?.data.equals(PNG)).toBe(true);
    expect(finalEdit.json).toMatchObject({
      content: 'Done',
      components: [{ type: 1, components: [{ type: 2, custom_id: `redo:${slash.id}`, label: 'Redo' }] }],
      attachments: [{ id: '0' }],
    });
    expect(finalEdit.response).toMatchObject({
      content: 'Done',
      author: { id: fake.botUserId, bot: true },
      attachments: [{ filename: 'result.png', size: PNG.length, content_type: 'image/png', width: 1, height: 1 }],
    });

    // the handler saw what a real Discord interaction carries
    const interaction = commands.get(slash.id);
    expect(interaction?.commandName).toBe('edit');
    expect(interaction?.user.username).toBe('alice');
    expect(interaction?.guildId).toBe(fake.defaultGuildId);
    expect(interaction?.channelId).toBe(fake.defaultChannelId);
    expect(interaction?.options.getInteger('steps')).toBe(20);
    expect(interaction?.options.getAttachment('image')?.contentType).toBe('image/png');
    expect(interaction?.memberPermissions?.has(Permission.ManageMessages)).toBe(false);
    expect(interaction?.inCachedGuild()).toBe(true);
    expect(interaction?.guild?.name).toBe('Fake Guild');
    expect(interaction?.channel?.id).toBe(fake.defaultChannelId);
    expect(interaction?.attachmentSizeLimit).toBe(10 * 1024 * 1024);
    expect(Math.abs(snowflakeTime(slash.id) - Date.now())).toBeLessThan(5000);
    expect(downloaded.get(slash.id)?.equals(SOURCE)).toBe(true);
    expect(fake.originalMessage(slash.id)?.content).toBe('Done');
  });

  it('clicks the button on the recorded message and records deferUpdate and the edit of that message', async () => {
    const message = finalEdit.response as { id: string };
    const click = fake.clickButton({
      customId: `redo:${slash.id}`,
      message,
      user: { id: '223456789012345678', username: 'mod', permissions: Permission.ManageMessages | Permission.ViewChannel },
    });

    const callback = await fake.waitForRequest((r) => r.path === `/interactions/${click.id}/${click.token}/callback`);
    expect(callback.json).toEqual({ type: 6 });
    const edit = await fake.waitForRequest(isPatchOriginal(click.token));
    expect(edit.json).toMatchObject({ content: 'Redoing...', components: [] });
    expect(edit.response).toMatchObject({ id: message.id, content: 'Redoing...', components: [] });

    const button = buttons.get(click.id);
    expect(button?.customId).toBe(`redo:${slash.id}`);
    expect(button?.message.id).toBe(message.id);
    expect(button?.memberPermissions?.has(Permission.ManageMessages)).toBe(true);
    // the member's cached roles agree with the payload's permissions
    expect(button?.inCachedGuild() && button.member.permissions.has(Permission.ManageMessages)).toBe(true);
    // the bot's upload is served back by the fake, so the button handler could fetch it
    expect(downloaded.get(click.id)?.equals(PNG)).toBe(true);
    expect(fake.message(message.id)?.attachments).toHaveLength(1);
  });

  it('fails webhook edits with 50027 once tokens expire, while bot-token channel messages still work', async () => {
    const interaction = commands.get(slash.id);
    if (interaction === undefined) throw new Error('no interaction');
    fake.expireInteractionTokens();

    const error: unknown = await interaction.editReply('too late').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DiscordAPIError);
    expect(error).toMatchObject({ code: 50027, status: 401 });

    const channel = await client.channels.fetch(interaction.channelId);
    if (channel === null || !channel.isSendable()) throw new Error('channel not sendable');
    const sent = await channel.send({
      content: `<@${interaction.user.id}> here is your image`,
      files: [new AttachmentBuilder(PNG, { name: 'late.png' })],
    });
    expect(sent.author.id).toBe(fake.botUserId);
    const post = await fake.waitForRequest((r) => r.method === 'POST' && r.path === `/channels/${interaction.channelId}/messages`);
    expect(post.auth).toBe(`Bot ${fake.botToken}`);
    expect(post.files[0]?.data.equals(PNG)).toBe(true);
    expect(sent.attachments.first()?.name).toBe('late.png');
  });

  it('replies with a file in the callback itself (multipart) in a DM, and fetchReply reads @original', async () => {
    const dm = fake.sendSlashCommand({ name: 'ping', guildId: null, options: [] });
    const callback = await fake.waitForRequest((r) => r.path === `/interactions/${dm.id}/${dm.token}/callback`);
    expect(callback.json).toMatchObject({ type: 4, data: { content: 'pong', attachments: [{ id: '0' }] } });
    expect(callback.files[0]?.data.equals(PNG)).toBe(true);
    const interaction = commands.get(dm.id);
    expect(interaction?.guildId).toBeNull();
    // discord.js quirk (also against real Discord): without Partials.Channel a DM channel is not cached...
    expect(interaction?.channel).toBeNull();
    // ...but it can be fetched with the bot token
    const channel = await client.channels.fetch(interaction?.channelId ?? '');
    expect(channel?.isDMBased()).toBe(true);
    const reply = await interaction?.fetchReply();
    expect(reply?.content).toBe('pong');
    expect(reply?.attachments.first()?.name).toBe('pong.png');
  });

  it('turns the deferred "thinking" message into the first follow-up, like Discord', async () => {
    const later = fake.sendSlashCommand({ name: 'later', options: [] });
    await fake.waitForRequest(
      (r) => r.method === 'POST' && r.path.endsWith(later.token) && (r.json as { content?: string }).content === 'second follow-up',
    );
    const original = fake.originalMessage(later.id);
    expect(original?.content).toBe('first follow-up');
    expect(original?.flags).toBe(MessageFlags.Ephemeral);
    const follow = fake.requests.filter((r) => r.method === 'POST' && r.path === `/webhooks/${fake.applicationId}/${later.token}`);
    expect(follow.map((r) => [r.query['wait'], (r.response as { id: string }).id === original?.id])).toEqual([
      ['true', true],
      ['true', false],
    ]);
  });

  it('resumes the gateway session after op 7 RECONNECT and keeps delivering interactions', async () => {
    const resumed = once(client, Events.ShardResume);
    fake.requestGatewayReconnect();
    await resumed;
    expect(fake.gatewayLog.some((entry) => entry.op === 6)).toBe(true);
    const again = fake.sendSlashCommand({ name: 'ping', options: [] });
    await fake.waitForRequest((r) => r.path === `/interactions/${again.id}/${again.token}/callback`);
    expect(fake.identifies).toHaveLength(1);
  });

  it('injects failures for matching requests', async () => {
    fake.failNext((r) => r.method === 'POST' && r.path.endsWith('/messages'), {
      status: 403,
      body: { message: 'Missing Permissions', code: 50013 },
    });
    const channel = client.channels.cache.get(fake.defaultChannelId);
    if (channel === undefined || !channel.isSendable()) throw new Error('channel not cached');
    await expect(channel.send('nope')).rejects.toMatchObject({ code: 50013, status: 403 });
    await expect(channel.send('yes')).resolves.toMatchObject({ content: 'yes' });
  });

  it('deduplicates channel posts by nonce with enforceNonce (a repeat answers the first message); without it, posts twice', async () => {
    const channel = client.channels.cache.get(fake.defaultChannelId);
    if (channel === undefined || !channel.isSendable()) throw new Error('channel not cached');
    const before = fake.channelMessages(fake.defaultChannelId).length;
    const first = await channel.send({ content: 'once', nonce: 'job-1', enforceNonce: true });
    const repeat = await channel.send({ content: 'once again', nonce: 'job-1', enforceNonce: true });
    expect(repeat.id).toBe(first.id);
    expect(repeat.content).toBe('once');
    const post = fake.requests.filter((r) => r.method === 'POST' && r.path === `/channels/${fake.defaultChannelId}/messages`).at(-1);
    expect(post?.json).toMatchObject({ nonce: 'job-1', enforce_nonce: true });
    const loose = await channel.send({ content: 'twice', nonce: 'job-1' });
    expect(loose.id).not.toBe(first.id);
    expect(fake.channelMessages(fake.defaultChannelId).length - before).toBe(2);
    await expect(channel.send({ content: 'x', nonce: 'n'.repeat(26), enforceNonce: true })).rejects.toMatchObject({ code: 50035 });
  });

  it("answers Discord's validation errors for bad messages", async () => {
    const channel = client.channels.cache.get(fake.defaultChannelId);
    if (channel === undefined || !channel.isSendable()) throw new Error('channel not cached');
    await expect(channel.send({ content: 'x'.repeat(2001) })).rejects.toMatchObject({ code: 50035, status: 400 });
    await expect(channel.send({ content: '', embeds: [] })).rejects.toMatchObject({ code: 50006 });
    const big = new AttachmentBuilder(Buffer.alloc(10 * 1024 * 1024 + 1), { name: 'big.bin' });
    await expect(channel.send({ files: [big] })).rejects.toMatchObject({ code: 40005, status: 413 });
  });

  it('answers unexpected routes with 404 Unknown route and records them', async () => {
    const error: unknown = await client.rest.get('/guilds/1/roles').catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 404, code: 0 });
    expect(fake.unknownRoutes().map((r) => r.path)).toEqual(['/guilds/1/roles']);
    expect(handlerErrors).toEqual([]);
  });
});

describe("FakeDiscord enforces Discord's interaction deadlines", () => {
  let fake: FakeDiscord;
  let client: Client;
  const outcomes = new Map<string, unknown>();

  beforeAll(async () => {
    fake = await FakeDiscord.start({ ackDeadlineMs: 100, tokenTtlMs: 60_000 });
    client = await loggedInClient(fake, (client) => {
      client.on(Events.InteractionCreate, (interaction) => {
        if (!interaction.isChatInputCommand()) return;
        const delay = interaction.options.getInteger('delay') ?? 0;
        const pause = interaction.options.getInteger('pause') ?? 0;
        void (async () => {
          await new Promise((resolve) => setTimeout(resolve, delay));
          await interaction.deferReply();
          await new Promise((resolve) => setTimeout(resolve, pause));
          await interaction.editReply('done');
        })().then(
          () => outcomes.set(interaction.id, 'ok'),
          (error: unknown) => outcomes.set(interaction.id, error),
        );
      });
    });
  });

  afterAll(async () => {
    await client?.destroy();
    await fake?.close();
  });

  async function outcome(id: string): Promise<unknown> {
    for (let i = 0; i < 100 && !outcomes.has(id); i++) await new Promise((resolve) => setTimeout(resolve, 20));
    return outcomes.get(id);
  }

  it('rejects an acknowledgement later than the ack deadline with 10062 Unknown interaction', async () => {
    const slow = fake.sendSlashCommand({ name: 'slow', options: [{ name: 'delay', type: 'integer', value: 250 }] });
    const error = await outcome(slow.id);
    expect(error).toBeInstanceOf(DiscordAPIError);
    expect(error).toMatchObject({ code: 10062, status: 404 });
  });

  it('expires the token tokenTtlMs after the interaction was created', async () => {
    const old = fake.sendSlashCommand({
      name: 'old',
      options: [{ name: 'pause', type: 'integer', value: 600 }],
      createdAtMs: Date.now() - 59_700,
    });
    const error = await outcome(old.id);
    // the defer made it in time, the edit 600 ms later is past the token's 60 s life
    expect(error).toMatchObject({ code: 50027, status: 401 });
    expect(fake.requests.find((r) => r.path === `/interactions/${old.id}/${old.token}/callback`)?.status).toBe(204);
  });
});

/** Wait for `read()` to return something (polling), or fail after `timeoutMs`. */
async function eventually<T>(read: () => T | undefined, timeoutMs = 3000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('eventually: timed out');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A discord.js client logged into `fake`; `setup` adds listeners before login. */
async function loggedInClient(fake: FakeDiscord, setup: (client: Client) => void = () => undefined): Promise<Client> {
  const client = new Client({ intents: [GatewayIntentBits.Guilds], rest: { api: fake.apiUrl } });
  setup(client);
  const ready = once(client, Events.ClientReady);
  await client.login(fake.botToken);
  await ready;
  return client;
}

describe('FakeDiscord REST faults, with what discord.js does with them', () => {
  let fake: FakeDiscord;
  let client: Client;
  const interactions = new Map<string, ChatInputCommandInteraction | ButtonInteraction>();
  const rateLimits: RateLimitData[] = [];

  beforeAll(async () => {
    fake = await FakeDiscord.start();
    client = await loggedInClient(fake);
    client.on(Events.InteractionCreate, (interaction) => {
      if (interaction.isChatInputCommand() || interaction.isButton()) interactions.set(interaction.id, interaction);
    });
    client.rest.on(RESTEvents.RateLimited, (data) => rateLimits.push(data));
  });

  afterAll(async () => {
    await client?.destroy();
    await fake?.close();
  });

  const received = <T extends ChatInputCommandInteraction | ButtonInteraction>(id: string) => eventually(() => interactions.get(id) as T | undefined);
  const defaultChannel = () => {
    const channel = client.channels.cache.get(fake.defaultChannelId);
    if (channel === undefined || !channel.isSendable()) throw new Error('channel not cached');
    return channel;
  };

  it('opens (and remembers) a DM channel, records DMs, and answers 50007 once the user closes DMs', async () => {
    const userId = fake.defaultUser.id;
    const sent = await client.users.send(userId, 'your image is ready');
    const dmId = fake.dmChannelId(userId);
    expect(dmId).toBeDefined();
    expect(sent.channelId).toBe(dmId);
    expect(sent.channel.isDMBased()).toBe(true);
    const open = await fake.waitForRequest((r) => r.method === 'POST' && r.path === '/users/@me/channels');
    expect(open).toMatchObject({ json: { recipient_id: userId }, status: 200, response: { id: dmId, type: 1 } });
    expect((open.response as { recipients: Array<{ id: string }> }).recipients.map((u) => u.id)).toEqual([userId]);
    expect(fake.channelMessages(dmId ?? '').map((m) => m.content)).toEqual(['your image is ready']);

    // the same channel again (user.createDM() asks again with force)
    const user = await client.users.fetch(userId);
    const dm = await user.createDM(true);
    expect(dm.id).toBe(dmId);
    // a DM interaction from that user comes from the same channel
    const command = fake.sendSlashCommand({ name: 'x', guildId: null, options: [] });
    expect((await received(command.id)).channelId).toBe(dmId);

    fake.closeDirectMessages(userId);
    const error: unknown = await client.users.send(userId, 'again').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DiscordAPIError);
    expect(error).toMatchObject({ status: 403, code: 50007, message: 'Cannot send messages to this user' });
    expect(fake.channelMessages(dmId ?? '')).toHaveLength(1);
    fake.openDirectMessages(userId);
    await expect(dm.send('open again')).resolves.toMatchObject({ content: 'open again' });
  });

  it("answers 50013 / 50001 for channels the bot may not post in / see, while the interaction's webhook works", async () => {
    const channelId = fake.defaultChannelId;
    fake.setChannelAccess(channelId, 'no-send');
    await expect(defaultChannel().send('x')).rejects.toMatchObject({ status: 403, code: 50013, message: 'Missing Permissions' });
    await expect(client.channels.fetch(channelId, { force: true })).resolves.toMatchObject({ id: channelId });
    const noSend = fake.sendSlashCommand({ name: 'x', options: [] });
    const interaction = await received<ChatInputCommandInteraction>(noSend.id);
    expect(interaction.appPermissions.has(PermissionFlagsBits.ViewChannel)).toBe(true);
    expect(interaction.appPermissions.has(PermissionFlagsBits.SendMessages)).toBe(false);
    await expect(interaction.reply('the interaction response still works')).resolves.toBeDefined();

    fake.setChannelAccess(channelId, 'no-access');
    const fetchError: unknown = await client.channels.fetch(channelId, { force: true }).catch((e: unknown) => e);
    expect(fetchError).toBeInstanceOf(DiscordAPIError);
    expect(fetchError).toMatchObject({ status: 403, code: 50001, message: 'Missing Access' });
    await expect(defaultChannel().send('x')).rejects.toMatchObject({ status: 403, code: 50001 });
    const noAccess = fake.sendSlashCommand({ name: 'x', options: [] });
    expect((await received<ChatInputCommandInteraction>(noAccess.id)).appPermissions.bitfield).toBe(0n);

    fake.setChannelAccess(channelId, 'full');
    await expect(defaultChannel().send('back')).resolves.toMatchObject({ content: 'back' });
  });

  it('answers 404 10008 to a second delete of the same message (deferred reply, component message, channel message)', async () => {
    // a deferred reply
    const slash = fake.sendSlashCommand({ name: 'x', options: [] });
    const command = await received<ChatInputCommandInteraction>(slash.id);
    await command.deferReply();
    const originalId = fake.originalMessage(slash.id)?.id ?? '';
    await command.deleteReply();
    expect(fake.message(originalId)).toBeUndefined();
    const again: unknown = await command.deleteReply().catch((e: unknown) => e);
    expect(again).toBeInstanceOf(DiscordAPIError);
    expect(again).toMatchObject({ status: 404, code: 10008, message: 'Unknown Message' });

    // the message a button is on, deleted through the component interaction's webhook
    const row = new ActionRowBuilder<ButtonBuilder>().addComponents(
      new ButtonBuilder().setCustomId('del').setLabel('Delete').setStyle(ButtonStyle.Danger),
    );
    const withButton = await defaultChannel().send({ content: 'has a button', components: [row] });
    const click = fake.clickButton({ customId: 'del', message: withButton.id });
    const button = await received<ButtonInteraction>(click.id);
    await button.deferUpdate();
    await button.deleteReply();
    expect(fake.message(withButton.id)).toBeUndefined();
    await expect(button.deleteReply()).rejects.toMatchObject({ status: 404, code: 10008 });
    expect(() => fake.clickButton({ customId: 'del', message: withButton.id })).toThrow(/deleted/);

    // a channel message, with the bot token
    const plain = await defaultChannel().send('short-lived');
    await plain.delete();
    expect(fake.message(plain.id)).toBeUndefined();
    const twice: unknown = await plain.delete().catch((e: unknown) => e);
    expect(twice).toBeInstanceOf(DiscordAPIError);
    expect(twice).toMatchObject({ status: 404, code: 10008 });
    expect(
      fake.requests.filter((r) => r.method === 'DELETE').map((r) => `${r.path.replace(/\d{17,20}|aW50[A-Za-z0-9]+/g, ':id')} ${r.status}`),
    ).toEqual([
      '/webhooks/:id/:id/messages/@original 204',
      '/webhooks/:id/:id/messages/@original 404',
      '/webhooks/:id/:id/messages/@original 204',
      '/webhooks/:id/:id/messages/@original 404',
      '/channels/:id/messages/:id 204',
      '/channels/:id/messages/:id 404',
    ]);
  });

  it('429 on a route: discord.js waits Retry-After, retries, and emits rateLimited (bucket headers)', async () => {
    const path = `/channels/${fake.defaultChannelId}/messages`;
    rateLimits.length = 0;
    fake.rateLimitNext((r) => r.method === 'POST' && r.path === path, { retryAfterSeconds: 0.5 });
    const started = Date.now();
    await expect(defaultChannel().send('after the limit')).resolves.toMatchObject({ content: 'after the limit' });
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(500);
    expect(elapsed).toBeLessThan(1500);
    const attempts = fake.requests.filter((r) => r.method === 'POST' && r.path === path && r.at >= started);
    expect(attempts.map((r) => r.status)).toEqual([429, 200]);
    expect(attempts[0]?.response).toEqual({ message: 'You are being rate limited.', retry_after: 0.5, global: false });
    expect(rateLimits).toHaveLength(1);
    expect(rateLimits[0]).toMatchObject({
      global: false,
      method: 'POST',
      url: `${fake.apiUrl}/v10${path}`,
      route: '/channels/:id/messages',
      majorParameter: fake.defaultChannelId,
      // the queue's hash when it hit the limit (the X-RateLimit-Bucket it got applies to later requests)
      hash: 'Global(POST:/channels/:id/messages)',
      limit: 5,
      sublimitTimeout: 0,
      scope: 'user',
    });
    // timeToReset and retryAfter: the wait in ms (Reset-After + twice the 50 ms offset, minus time already gone)
    expect(rateLimits[0]?.retryAfter).toBeGreaterThan(400);
    expect(rateLimits[0]?.retryAfter).toBeLessThanOrEqual(600);
    expect(rateLimits[0]?.timeToReset).toBe(rateLimits[0]?.retryAfter);
  });

  it('429 global: discord.js waits, retries and emits rateLimited with global true', async () => {
    rateLimits.length = 0;
    fake.rateLimitNext((r) => r.method === 'POST' && r.path.endsWith('/messages'), { retryAfterSeconds: 0.3, global: true });
    const started = Date.now();
    await expect(defaultChannel().send('global')).resolves.toMatchObject({ content: 'global' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    const limited = fake.requests.find((r) => r.status === 429 && r.at >= started);
    expect(limited?.response).toEqual({ message: 'You are being rate limited.', retry_after: 0.3, global: true });
    expect(rateLimits).toHaveLength(1);
    // discord.js reports limit = globalRequestsPerSecond (50) and scope 'user' (sic) for a global limit
    expect(rateLimits[0]).toMatchObject({ global: true, method: 'POST', route: '/channels/:id/messages', limit: 50, scope: 'user' });
  });

  it('429 without bucket headers, or on an interaction callback: discord.js waits and retries but emits no rateLimited', async () => {
    rateLimits.length = 0;
    fake.rateLimitNext((r) => r.method === 'POST' && r.path.endsWith('/messages'), { retryAfterSeconds: 0.3, bucketHeaders: false });
    let started = Date.now();
    await expect(defaultChannel().send('bare 429')).resolves.toMatchObject({ content: 'bare 429' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);

    const slash = fake.sendSlashCommand({ name: 'x', options: [] });
    fake.rateLimitNext((r) => r.path === `/interactions/${slash.id}/${slash.token}/callback`, { retryAfterSeconds: 0.3 });
    const command = await received<ChatInputCommandInteraction>(slash.id);
    started = Date.now();
    await command.reply('after a 429 on the callback');
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(fake.requests.filter((r) => r.path.startsWith(`/interactions/${slash.id}/`)).map((r) => r.status)).toEqual([429, 204]);
    expect(rateLimits).toEqual([]);
  });

  it('5xx: discord.js retries at once, 4 attempts in all (retries: 3), then rejects with HTTPError', async () => {
    const attemptsFor = (token: string) =>
      fake.requests.filter((r) => r.method === 'PATCH' && r.path.endsWith(`/${token}/messages/@original`)).map((r) => r.status);
    const run = async (failures: number) => {
      const slash = fake.sendSlashCommand({ name: 'x', options: [] });
      const command = await received<ChatInputCommandInteraction>(slash.id);
      await command.deferReply();
      fake.failNext((r) => r.method === 'PATCH' && r.path.endsWith(`/${slash.token}/messages/@original`), {
        status: 500,
        body: { message: '500: Internal Server Error', code: 0 },
        times: failures,
      });
      const started = Date.now();
      const outcome: unknown = await command.editReply('edited').catch((e: unknown) => e);
      return { outcome, attempts: attemptsFor(slash.token), ms: Date.now() - started };
    };

    const two = await run(2);
    expect(two.outcome).toMatchObject({ content: 'edited' });
    expect(two.attempts).toEqual([500, 500, 200]);

    const three = await run(3);
    expect(three.outcome).toMatchObject({ content: 'edited' });
    expect(three.attempts).toEqual([500, 500, 500, 200]);

    const four = await run(4);
    expect(four.outcome).toBeInstanceOf(HTTPError);
    expect(four.outcome).not.toBeInstanceOf(DiscordAPIError);
    expect(four.outcome).toMatchObject({ status: 500, method: 'PATCH', name: 'HTTPError' });
    expect(four.attempts).toEqual([500, 500, 500, 500]);
    // no backoff between attempts
    expect(four.ms).toBeLessThan(500);
  });

  it('delivers commands from clients with stale definitions; the option getters throw DiscordjsTypeError', async () => {
    const url = fake.serveFile('stale.png', PNG);
    const attachments = { photo: { filename: 'stale.png', url, size: PNG.length } };
    const missing = fake.sendSlashCommand({ name: 'edit', options: [{ name: 'prompt', type: 'string', value: 'p' }] });
    const wrongType = fake.sendSlashCommand({ name: 'edit', options: [{ name: 'image', type: 'string', value: 'a cat' }] });
    const noResolved = fake.sendSlashCommand({
      name: 'edit',
      options: [{ name: 'image', type: 'attachment', value: 'photo' }],
      attachments,
      omitResolved: true,
    });
    const thrown = (read: () => unknown) => {
      try {
        read();
      } catch (error) {
        return error;
      }
      return undefined;
    };

    const a = await received<ChatInputCommandInteraction>(missing.id);
    const missingError = thrown(() => a.options.getAttachment('image', true));
    expect(missingError).toBeInstanceOf(DiscordjsTypeError);
    expect(missingError).toBeInstanceOf(TypeError);
    expect(missingError).toMatchObject({ code: 'CommandInteractionOptionNotFound' });
    expect(String(missingError)).toBe('DiscordjsTypeError [CommandInteractionOptionNotFound]: Required option "image" not found.');
    expect(a.options.getAttachment('image')).toBeNull();

    const b = await received<ChatInputCommandInteraction>(wrongType.id);
    expect(thrown(() => b.options.getAttachment('image', true))).toMatchObject({ code: 'CommandInteractionOptionType' });
    // even the non-required getter throws on a type mismatch
    expect(thrown(() => b.options.getAttachment('image'))).toMatchObject({ code: 'CommandInteractionOptionType' });
    expect(b.options.getString('image', true)).toBe('a cat');

    const c = await received<ChatInputCommandInteraction>(noResolved.id);
    expect(thrown(() => c.options.getAttachment('image', true))).toMatchObject({ code: 'CommandInteractionOptionEmpty' });
    expect(c.options.getAttachment('image')).toBeNull();
    expect(thrown(() => c.options.getString('image', true))).toMatchObject({ code: 'CommandInteractionOptionType' });

    for (const interaction of [a, b, c]) await interaction.reply('Your command is out of date, try again');
  });

  it('delays the headers of a served file by delayMs; a client timeout aborts it cleanly', async () => {
    const url = fake.serveFile('slow.png', PNG, { delayMs: 400 });
    let started = Date.now();
    const response = await fetch(url);
    expect(Date.now() - started).toBeGreaterThanOrEqual(390);
    expect(Buffer.from(await response.arrayBuffer()).equals(PNG)).toBe(true);

    started = Date.now();
    const error: unknown = await fetch(url, { signal: AbortSignal.timeout(100) }).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'TimeoutError' });
    expect(Date.now() - started).toBeLessThan(390);
    expect(fake.downloads.filter((d) => d.path === '/attachments/slow.png')).toHaveLength(2);
  });
});

describe('FakeDiscord gateway faults, with the client events discord.js emits', () => {
  let fake: FakeDiscord;
  let client: Client;
  /** client events, in order: 'name(args)' */
  const events: string[] = [];
  const debug: string[] = [];
  const seen = new Set<string>();

  beforeAll(async () => {
    fake = await FakeDiscord.start({ heartbeatIntervalMs: 250 });
    client = await loggedInClient(fake, (client) => {
      client.on(Events.ShardDisconnect, (event, id) => events.push(`ShardDisconnect(${event.code}, ${id})`));
      client.on(Events.ShardReconnecting, (id) => events.push(`ShardReconnecting(${id})`));
      client.on(Events.ShardResume, (id, replayed) => events.push(`ShardResume(${id}, ${replayed})`));
      client.on(Events.ShardError, (error, id) => events.push(`ShardError(${error.message}, ${id})`));
      client.on(Events.ShardReady, (id) => events.push(`ShardReady(${id})`));
      client.on(Events.Invalidated, () => events.push('Invalidated'));
      client.on(Events.Debug, (line) => {
        if (!/Heartbeat|heartbeat/.test(line)) debug.push(line);
      });
      client.on(Events.InteractionCreate, (interaction) => {
        seen.add(interaction.id);
        if (interaction.isChatInputCommand()) void interaction.reply('ok').catch(() => undefined);
      });
    });
  });

  afterAll(async () => {
    await client?.destroy();
    await fake?.close();
  });

  async function interactionStillArrives(): Promise<void> {
    const command = fake.sendSlashCommand({ name: 'x', options: [] });
    const callback = await fake.waitForRequest((r) => r.path === `/interactions/${command.id}/${command.token}/callback`);
    expect(callback.status).toBe(204);
  }

  const reset = () => {
    events.length = 0;
    debug.length = 0;
  };
  const callbackOf = (command: { id: string; token: string }) =>
    fake.waitForRequest((r) => r.path === `/interactions/${command.id}/${command.token}/callback`);

  // ShardResume's `replayed` is discord.js' sequence difference since the last HELLO: events missed + 1 (RESUMED)
  it('op 7 RECONNECT: ShardReconnecting then ShardResume; an interaction sent meanwhile is replayed', async () => {
    reset();
    const reconnecting = once(client, Events.ShardReconnecting);
    const resumed = once(client, Events.ShardResume);
    fake.requestGatewayReconnect();
    await reconnecting;
    const missed = fake.sendSlashCommand({ name: 'x', options: [] }); // queued by the fake, replayed on RESUME
    await resumed;
    expect((await callbackOf(missed)).status).toBe(204);
    await interactionStillArrives();
    expect(events).toEqual(['ShardReconnecting(0)', 'ShardResume(0, 2)']);
    expect(debug.some((line) => line.includes('Reason: Told to reconnect by Discord') && line.includes('Code: 4200'))).toBe(true);
    expect(debug).toContain('[WS => Shard 0] Resumed and replayed 2 events');
    expect(fake.identifies).toHaveLength(1);
  });

  it('op 9 INVALID_SESSION resumable: discord.js RESUMEs on the same socket, ShardResume only', async () => {
    reset();
    const resumed = once(client, Events.ShardResume);
    fake.invalidateSession(true);
    await resumed;
    await interactionStillArrives();
    // no new HELLO, so `replayed` is computed from the previous connection's sequence: not a count to trust here
    expect(events).toHaveLength(1);
    expect(events[0]).toMatch(/^ShardResume\(0, \d+\)$/);
    expect(debug[0]).toBe('[WS => Shard 0] Invalid session; will attempt to resume: true');
    expect(fake.identifies).toHaveLength(1);
  });

  it('missed heartbeat ACKs (zombie): discord.js closes 4200 within two intervals and resumes', async () => {
    reset();
    const reconnecting = once(client, Events.ShardReconnecting);
    const started = Date.now();
    fake.stopHeartbeatAcks();
    await reconnecting;
    expect(Date.now() - started).toBeLessThan(2 * 250 + 200);
    fake.resumeHeartbeatAcks();
    const missed = fake.sendSlashCommand({ name: 'x', options: [] });
    await once(client, Events.ShardResume);
    expect((await callbackOf(missed)).status).toBe(204);
    await interactionStillArrives();
    expect(events).toEqual(['ShardReconnecting(0)', 'ShardResume(0, 2)']);
    expect(debug.some((line) => line.includes('Reason: Zombie connection') && line.includes('Code: 4200'))).toBe(true);
    expect(fake.identifies).toHaveLength(1);
  });

  it('op 9 INVALID_SESSION not resumable: ShardReconnecting, a new IDENTIFY (identify throttle: up to 5 s), ShardReady', async () => {
    reset();
    let clientReadyAgain = false;
    client.once(Events.ClientReady, () => (clientReadyAgain = true));
    const shardReady = once(client, Events.ShardReady);
    fake.invalidateSession(false);
    await shardReady;
    await interactionStillArrives();
    expect(fake.identifies).toHaveLength(2);
    expect(events).toEqual(['ShardReconnecting(0)', 'ShardReady(0)']);
    expect(clientReadyAgain).toBe(false);
    expect(debug).toContain('[WS => Shard 0] Invalid session; will attempt to resume: false');
    expect(debug.some((line) => line.includes('Reason: Invalid session') && line.includes('Code: 1000'))).toBe(true);
    expect(debug).toContain('[WS => Shard 0] Waiting for identify throttle');
    // never seen for these faults: ShardDisconnect (only unrecoverable close codes), ShardError, Invalidated
  }, 15_000);
});

describe('FakeDiscord message commands and modals, with discord.js', () => {
  let fake: FakeDiscord;
  let client: Client;
  const interactions = new Map<string, Interaction>();

  beforeAll(async () => {
    fake = await FakeDiscord.start();
    client = await loggedInClient(fake);
    client.on(Events.InteractionCreate, (interaction) => void interactions.set(interaction.id, interaction));
  });

  afterAll(async () => {
    await client?.destroy();
    await fake?.close();
  });

  const received = <T extends Interaction>(id: string) => eventually(() => interactions.get(id) as T | undefined);
  const modal = () =>
    new ModalBuilder()
      .setCustomId('form:1')
      .setTitle('A form')
      .addLabelComponents(
        new LabelBuilder()
          .setLabel('Name')
          .setTextInputComponent(new TextInputBuilder().setCustomId('name').setStyle(TextInputStyle.Short).setMaxLength(10)),
        new LabelBuilder()
          .setLabel('Note')
          .setTextInputComponent(new TextInputBuilder().setCustomId('note').setStyle(TextInputStyle.Paragraph).setRequired(false)),
      );
  const userMessage = () =>
    fake.postUserMessage({
      content: 'a picture',
      attachments: [{ filename: 'p.png', url: fake.serveFile('p.png', PNG), size: PNG.length, width: 1, height: 1 }],
    });

  it('delivers a message command with the message resolved; its modal is recorded and submitted back as type 5', async () => {
    const message = userMessage();
    const menu = fake.sendMessageCommand({ name: 'Inspect', message });
    const command = await received<MessageContextMenuCommandInteraction>(menu.id);
    expect([command.isMessageContextMenuCommand(), command.commandName, command.targetId]).toEqual([true, 'Inspect', message.id]);
    expect(command.targetMessage.attachments.first()?.url).toMatch(/\/attachments\/p\.png\?ex=[0-9a-f]+&is=[0-9a-f]+&hm=[0-9a-f]{64}&$/);
    await command.showModal(modal());
    expect(fake.interaction(menu.id)?.callbackType).toBe(9);
    // Discord numbers components without an id depth first.
    expect(fake.modal(menu.token)?.components.map((c) => [c.id, 'component' in c ? c.component.id : undefined])).toEqual([
      [1, 2],
      [3, 4],
    ]);

    expect(() => fake.submitModal({ opener: menu.token, values: { note: 'x' } })).toThrow(/'name' is required/);
    expect(() => fake.submitModal({ opener: menu.token, values: { name: 'x'.repeat(11) } })).toThrow(/1-10 characters|0-10 characters/);
    const submit = fake.submitModal({ opener: menu.token, values: { name: 'Ada' } });
    const form = await received<ModalSubmitInteraction>(submit.id);
    expect([form.isModalSubmit(), form.customId, form.message, form.user.id]).toEqual([true, 'form:1', null, fake.defaultUser.id]);
    expect([form.fields.getTextInputValue('name'), form.fields.getTextInputValue('note')]).toEqual(['Ada', '']);
    await form.deferReply();
    const reply = await form.editReply('thanks');
    expect(fake.message(reply.id)?.interaction_metadata).toMatchObject({
      id: submit.id,
      type: 5,
      triggering_interaction_metadata: { id: menu.id, type: 2, target_message_id: message.id },
    });
  });

  it("refuses a modal beyond Discord's limits, and a modal in answer to a modal's submission (50035)", async () => {
    const tooMany = fake.sendMessageCommand({ name: 'Inspect', message: userMessage() });
    const command = await received<MessageContextMenuCommandInteraction>(tooMany.id);
    const six = modal().addLabelComponents(
      ...[1, 2, 3, 4].map((i) =>
        new LabelBuilder().setLabel(`f${i}`).setTextInputComponent(new TextInputBuilder().setCustomId(`f${i}`).setStyle(TextInputStyle.Short)),
      ),
    );
    const refused: unknown = await command.showModal(six).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(DiscordAPIError);
    expect((refused as DiscordAPIError).code).toBe(50035);

    const menu = fake.sendMessageCommand({ name: 'Inspect', message: userMessage() });
    await (await received<MessageContextMenuCommandInteraction>(menu.id)).showModal(modal());
    const submit = fake.submitModal({ opener: menu.id, values: { name: 'Ada' } });
    // discord.js offers no showModal on a modal's submission: the raw callback.
    const again: unknown = await client.rest
      .post(Routes.interactionCallback(submit.id, submit.token), { body: { type: 9, data: modal().toJSON() }, auth: false })
      .catch((error: unknown) => error);
    expect((again as DiscordAPIError).code).toBe(50035);
  });

  it('signs attachment links: expired ones answer 404, a fetch of the message signs them afresh; 10008 once deleted, 50001 without access', async () => {
    const message = userMessage();
    const stale = message.attachments[0]?.url as string;
    expect((await fetch(stale)).status).toBe(200);
    fake.expireAttachmentLinks();
    expect((await fetch(stale)).status).toBe(404);
    const channel = await client.channels.fetch(message.channel_id);
    if (channel === null || !channel.isTextBased()) throw new Error('no text channel');
    const fetched = await channel.messages.fetch({ message: message.id, force: true });
    const fresh = fetched.attachments.first()?.url as string;
    expect(fresh).not.toBe(stale);
    expect(Buffer.from(await (await fetch(fresh)).arrayBuffer())).toEqual(PNG);

    fake.setChannelAccess(message.channel_id, 'no-access');
    const noAccess: unknown = await channel.messages.fetch({ message: message.id, force: true }).catch((error: unknown) => error);
    fake.setChannelAccess(message.channel_id, 'full');
    expect((noAccess as DiscordAPIError).code).toBe(50001);
    fake.deleteMessage(message.id);
    const gone: unknown = await channel.messages.fetch({ message: message.id, force: true }).catch((error: unknown) => error);
    expect((gone as DiscordAPIError).code).toBe(10008);
  });

  it('registers message commands by their display name, without description or options', async () => {
    await client.application?.commands.set([new ContextMenuCommandBuilder().setName('DiffEdit this image').setType(ApplicationCommandType.Message)]);
    expect(fake.registeredCommands()).toMatchObject([{ name: 'DiffEdit this image', type: 3, description: '' }]);
    const refused: unknown = await client.rest
      .put(`/applications/${fake.applicationId}/commands`, { body: [{ name: 'Bad Slash', type: 1, description: 'x' }] })
      .catch((error: unknown) => error);
    expect((refused as DiscordAPIError).code).toBe(50035);
  });
});

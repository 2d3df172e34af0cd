import { once } from 'node:events';
import {
  ActionRowBuilder,
  AttachmentBuilder,
  ButtonBuilder,
  ButtonStyle,
  Client,
  DiscordAPIError,
  Events,
  GatewayIntentBits,
  MessageFlags,
  type ButtonInteraction,
  type ChatInputCommandInteraction,
  type Interaction,
} from 'discord.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeDiscord, Permission, snowflakeTime, type RecordedRequest } from './fake-discord/index.js';

/** A valid 1x1 PNG. */
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
);
const SOURCE = Buffer.from('source image bytes');

const isPatchOriginal = (token: string) => (r: RecordedRequest) =>
  r.method === 'PATCH' && r.path.endsWith(`/${token}/messages/@original`);

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
    client = new Client({ intents: [GatewayIntentBits.Guilds], rest: { api: fake.apiUrl } });
    client.on(Events.InteractionCreate, (interaction: Interaction) => {
      const work = interaction.isChatInputCommand()
        ? onCommand(interaction)
        : interaction.isButton()
          ? onButton(interaction)
          : Promise.resolve();
      work.catch((error: unknown) => handlerErrors.push(error));
    });
    const ready = once(client, Events.ClientReady);
    await client.login(fake.botToken);
    await ready;
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

    const progress = await fake.waitForRequest(
      (r) => isPatchOriginal(slash.token)(r) && r.files.length === 0,
    );
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
    await fake.waitForRequest((r) => r.method === 'POST' && r.path.endsWith(later.token) && (r.json as { content?: string }).content === 'second follow-up');
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
    client = new Client({ intents: [GatewayIntentBits.Guilds], rest: { api: fake.apiUrl } });
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
    const ready = once(client, Events.ClientReady);
    await client.login(fake.botToken);
    await ready;
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

/**
 * "DiffEdit this image" end to end: the real discord.js client on the fake Discord, a user's message holding a
 * picture, the message menu, the modal the bot answers with, its submission, and what the bot then sent.
 */
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIFFEDIT_THIS_IMAGE_COMMAND } from '../../commands/index.js';
import type { DiffEditBot } from '../../src/bot/bot.js';
import { textInputs, type FakeDiscord, type RecordedRequest } from '../fake-discord/index.js';
import { ALICE, BOB, QUERY, REF, contentOf, customIds, finalResult, forToken, privateAnswer, startBot, startWorld, type World } from './harness.js';

const MODEL_SIZE = 128;

let world: World;
let fake: FakeDiscord;
let bot: DiffEditBot;
/** The picture in the channel: the world's photo mirrored, so that it cannot be mistaken for another one. */
let picture: Buffer;
let pictureUrl: string;

beforeAll(async () => {
  world = await startWorld();
  fake = world.fake;
  picture = await sharp(world.photo).flop().png().toBuffer();
  pictureUrl = fake.serveFile('in-channel.png', picture, { contentType: 'image/png' });
  bot = await startBot(fake, { engine: world.engine, dataDir: world.dataDir });
});

afterAll(async () => {
  await bot.stop(1000);
  await world.close();
});

/** BOB posts a message holding the picture (and a text file before it, which the menu must pass over). */
function postPicture(): ReturnType<FakeDiscord['postUserMessage']> {
  return fake.postUserMessage({
    author: BOB,
    content: 'look at this',
    attachments: [
      { filename: 'notes.txt', url: fake.serveFile('notes.txt', Buffer.from('hello'), { contentType: 'text/plain' }), size: 5 },
      { filename: 'in-channel.png', url: pictureUrl, size: picture.length, width: MODEL_SIZE, height: MODEL_SIZE },
    ],
  });
}

/** ALICE uses the menu on `message`; resolves with the menu's interaction once the bot answered it. */
async function openMenu(message: ReturnType<FakeDiscord['postUserMessage']>): Promise<{ id: string; token: string; callback: RecordedRequest }> {
  const menu = fake.sendMessageCommand({ name: DIFFEDIT_THIS_IMAGE_COMMAND, message, user: ALICE });
  const callback = await fake.waitForRequest((r) => forToken(menu.token)(r) && r.path.endsWith('/callback'));
  return { ...menu, callback };
}

/** Requests a token's interaction caused, as "METHOD type" (the callback's type), in order. */
function trail(token: string): string[] {
  return fake.requests
    .filter(forToken(token))
    .map((r) => `${r.method}${r.path.endsWith('/callback') ? ` ${String((r.json as { type?: number }).type)}` : ''}`);
}

async function settle(): Promise<void> {
  // Long enough for a wrongly started job to have deferred publicly (the bot answers within milliseconds here).
  await new Promise((r) => setTimeout(r, 150));
}

describe('"DiffEdit this image" on a message with a picture', () => {
  let message: ReturnType<FakeDiscord['postUserMessage']>;
  let menu: Awaited<ReturnType<typeof openMenu>>;
  let submit: { id: string; token: string };
  let result: RecordedRequest;

  beforeAll(async () => {
    message = postPicture();
    menu = await openMenu(message);
  });

  it('answers with a modal asking for ref and query, the optional fields showing the defaults', () => {
    expect(menu.callback).toMatchObject({ status: 204, json: { type: 9 } });
    const modal = fake.modal(menu.token);
    const picked = message.attachments[1];
    expect(modal?.custom_id).toBe(`diffedit-image:${message.channel_id}:${message.id}:${String(picked?.id)}`);
    const inputs = textInputs(modal ?? { custom_id: '', title: '', components: [] });
    expect(inputs.map((i) => [i.custom_id, i.required])).toEqual([
      ['ref', true],
      ['query', true],
      ['strength', false],
      ['variations', false],
      ['seed', false],
    ]);
    expect(inputs.map((i) => i.placeholder)).toEqual([
      'a bowl of strawberries',
      'a bowl of grapes',
      '0.8 (default)',
      'the bot’s (default)',
      'random (default)',
    ]);
    expect(inputs.slice(0, 2).map((i) => i.max_length)).toEqual([500, 500]);
  });

  it('on submit, fetches the message afresh and delivers the edit of that picture', async () => {
    // The links the menu saw expire: only a fresh fetch of the message can reach the picture.
    fake.expireAttachmentLinks();
    submit = fake.submitModal({ opener: menu.token, values: { ref: REF, query: QUERY, seed: '42', strength: '0,6' } });
    result = await fake.waitForRequest(finalResult(submit.token), 20_000);
    expect(trail(submit.token)[0]).toBe('POST 5');
    const fetched = fake.requests.find((r) => r.method === 'GET' && r.path === `/channels/${message.channel_id}/messages/${message.id}`);
    expect(fetched?.auth).toMatch(/^Bot /);
    expect(fake.downloads.filter((d) => d.path.endsWith('in-channel.png')).map((d) => d.status)).toEqual([200]);

    expect(contentOf(result)).toMatch(/\*\*a bowl of strawberries\*\* -> \*\*a bowl of grapes\*\* \| seed 42 \| mask seed \d+ \| 50 steps/);
    const file = result.files[0];
    expect(file?.filename).toBe('diffedit.png');
    const inputPanel = await sharp(file?.data).extract({ left: 0, top: 0, width: MODEL_SIZE, height: MODEL_SIZE }).raw().toBuffer();
    const expected = await sharp(picture).removeAlpha().raw().toBuffer();
    const other = await sharp(world.photo).removeAlpha().raw().toBuffer();
    expect(meanAbsDiff(inputPanel, expected)).toBeLessThan(1);
    expect(meanAbsDiff(inputPanel, other)).toBeGreaterThan(20);
  });

  it('the photo belongs to whoever posted it: its author may delete the result', async () => {
    const deleteId = customIds(result).at(-1) as string;
    const click = fake.clickButton({ customId: deleteId, message: result.response, user: BOB });
    await fake.waitForRequest((r) => forToken(click.token)(r) && r.method === 'DELETE', 5000);
  });
});

describe('refusals are private and come before anything public', () => {
  it('a message without a picture: a private error instead of a modal', async () => {
    const text = fake.postUserMessage({
      author: BOB,
      content: 'no picture here',
      attachments: [{ filename: 'notes.txt', url: fake.serveFile('notes2.txt', Buffer.from('hello'), { contentType: 'text/plain' }), size: 5 }],
    });
    const menu = await openMenu(text);
    expect(menu.callback.json).toMatchObject({ type: 4, data: { flags: 64 } });
    expect(contentOf(menu.callback)).toMatch(/holds no picture I can edit.*JPEG, PNG or WebP/);
    await settle();
    expect(trail(menu.token)).toEqual(['POST 4']);
  });

  it('a channel the bot may not read: a private error instead of a modal', async () => {
    const message = postPicture();
    fake.setChannelAccess(message.channel_id, 'no-access');
    try {
      const menu = await openMenu(message);
      expect(menu.callback.json).toMatchObject({ type: 4, data: { flags: 64 } });
      expect(contentOf(menu.callback)).toMatch(/cannot read the messages of this channel/);
      await settle();
      expect(trail(menu.token)).toEqual(['POST 4']);
    } finally {
      fake.setChannelAccess(message.channel_id, 'full');
    }
  });

  it('a message deleted while the modal was open: a private error, nothing public', async () => {
    const message = postPicture();
    const menu = await openMenu(message);
    fake.deleteMessage(message.id);
    const submit = fake.submitModal({ opener: menu.token, values: { ref: REF, query: QUERY } });
    const reply = await fake.waitForRequest(privateAnswer(submit.token), 5000);
    expect(contentOf(reply)).toMatch(/picture is gone/);
    await settle();
    expect(trail(submit.token)).toEqual(['POST 4']);
  });

  it('a channel the bot can no longer read once the modal was open: a private error, nothing public', async () => {
    const message = postPicture();
    const menu = await openMenu(message);
    fake.setChannelAccess(message.channel_id, 'no-access');
    try {
      const submit = fake.submitModal({ opener: menu.token, values: { ref: REF, query: QUERY } });
      const reply = await fake.waitForRequest(privateAnswer(submit.token), 5000);
      expect(contentOf(reply)).toMatch(/cannot read that message/);
      await settle();
      expect(trail(submit.token)).toEqual(['POST 4']);
    } finally {
      fake.setChannelAccess(message.channel_id, 'full');
    }
  });

  it.each([
    ['text in a number field', { strength: 'lots' }, /strength must be a number from 0.05 to 1; "lots" is not a number/],
    ['a number out of range', { strength: '2' }, /strength must be a number from 0.05 to 1/],
    ['a fractional seed', { seed: '1.5' }, /seed must be a whole number/],
    ['identical prompts', { query: REF }, /same text/],
  ])('%s: a private error, nothing public', async (_name, values, error) => {
    const menu = await openMenu(postPicture());
    const submit = fake.submitModal({ opener: menu.token, values: { ref: REF, query: QUERY, ...values } });
    const reply = await fake.waitForRequest(privateAnswer(submit.token), 5000);
    expect(contentOf(reply)).toMatch(error);
    await settle();
    expect(trail(submit.token)).toEqual(['POST 4']);
  });
});

function meanAbsDiff(a: Buffer, b: Buffer): number {
  expect(a.length).toBe(b.length);
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs((a[i] as number) - (b[i] as number));
  return sum / a.length;
}

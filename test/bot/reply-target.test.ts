import type { RepliableInteraction } from 'discord.js';
import { describe, expect, it } from 'vitest';
import { INTERACTION_TOKEN_TTL_MS, InteractionReplyTarget } from '../../src/bot/reply-target.js';
import { silentLogger } from '../../src/logger.js';

/** The slice of a discord.js interaction the reply target touches, recording every call. */
function interaction(createdTimestamp: number) {
  const calls: string[] = [];
  const sent: { content?: string; allowedMentions?: unknown }[] = [];
  const channel = { isSendable: () => true, send: async (payload: { content?: string }) => (sent.push(payload), calls.push('channel.send')) };
  const fake = {
    id: '1',
    user: { id: '42' },
    channelId: '7',
    createdTimestamp,
    client: { channels: { fetch: async () => channel } },
    editReply: async () => calls.push('editReply'),
    deleteReply: async () => calls.push('deleteReply'),
    followUp: async () => calls.push('followUp'),
  };
  return { calls, sent, target: (now: number) => new InteractionReplyTarget(fake as unknown as RepliableInteraction, silentLogger, () => now) };
}

const message = { content: 'done', png: Buffer.from('png'), fileName: 'x.png', components: [] };

describe('InteractionReplyTarget', () => {
  it.each([
    ['a fresh interaction edits its reply', 60_000, ['editReply']],
    ['one older than the token lifetime posts in the channel, mentioning the user', INTERACTION_TOKEN_TTL_MS + 1, ['channel.send']],
  ])('%s', async (_name, age, expected) => {
    const { calls, sent, target } = interaction(1_000_000);
    await target(1_000_000 + age).deliver(message);
    expect(calls).toEqual(expected);
    if (expected[0] === 'channel.send') {
      expect(sent[0]?.content).toBe('<@42> done');
      expect(sent[0]?.allowedMentions).toEqual({ users: ['42'] });
    }
  });

  it('a failure is private while the token lives, and a mention in the channel after', async () => {
    const fresh = interaction(0);
    await fresh.target(1000).fail('bad picture');
    expect(fresh.calls).toEqual(['deleteReply', 'followUp']);
    const old = interaction(0);
    await old.target(INTERACTION_TOKEN_TTL_MS + 1).fail('bad picture');
    expect(old.sent[0]?.content).toBe('<@42> bad picture');
  });

  it('status edits stop once the token has expired', async () => {
    const { calls, target } = interaction(0);
    await target(INTERACTION_TOKEN_TTL_MS + 1).status('#2 in queue');
    expect(calls).toEqual([]);
  });
});

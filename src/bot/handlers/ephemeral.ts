/** Private answers to the user who clicked or typed, whether or not the interaction was acknowledged yet. */
import { MessageFlags, type RepliableInteraction } from 'discord.js';

/** Replies (or follows up, once acknowledged) with a message only `interaction.user` sees. */
export async function replyPrivately(interaction: RepliableInteraction, content: string): Promise<void> {
  const payload = { content, flags: MessageFlags.Ephemeral } as const;
  if (interaction.deferred || interaction.replied) await interaction.followUp(payload);
  else await interaction.reply(payload);
}

/** A promise with its resolve/reject exposed: the job waits on the interaction's deferral through it. */
export function deferred(): { promise: Promise<void>; resolve(): void; reject(error: unknown): void } {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // The job may be refused before anyone awaits this; an unobserved rejection must not crash the process.
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

/**
 * The buttons under results. Reroll of an edit: same inputs and mask seed (so the same region), a new edit seed
 * (new content there); of a mask: a new mask seed, as the mask is that result's content. Edit with this mask: the
 * full edit with the mask job's stored mask, exactly. Smaller / Larger area: the same job one area step tighter or
 * wider (the same mask seed's difference map re-thresholded: no new mask draws, no new inversion). Use k: candidate
 * k's photo on its own (use-candidate.ts). A job started from a button belongs to whoever pressed it, with as many
 * candidates as the job it sits under. Delete: the job's author, whoever brought its picture, or someone with Manage
 * Messages; a message that is already gone counts as deleted.
 */
import { MessageFlags, PermissionFlagsBits, type ButtonInteraction } from 'discord.js';
import { DiffEditError, ErrorCode } from '../../errors.js';
import { randomSeed } from '../../engine/noise.js';
import { PARAMETER_RANGES, type EditParameters } from '../../engine/parameters.js';
import type { Logger } from '../../logger.js';
import { admit } from '../admission.js';
import type { AttachmentLimits } from '../attachments.js';
import { parseButtonId } from '../custom-ids.js';
import { isUnknownMessage, type JobReply } from '../delivery.js';
import type { JobLifecycle } from '../job-lifecycle.js';
import type { JobStore } from '../job-store.js';
import { areaStep } from '../messages.js';
import { postCandidate } from './use-candidate.js';

/** What the button handler needs. */
export interface ButtonDeps {
  readonly lifecycle: JobLifecycle;
  readonly store: JobStore;
  readonly attachmentLimits: AttachmentLimits;
  readonly logger: Logger;
}

/** Handles a click on one of our buttons; throws what the user should be told privately. */
export async function handleButton(interaction: ButtonInteraction, reply: JobReply, deps: ButtonDeps): Promise<void> {
  const parsed = parseButtonId(interaction.customId);
  if (parsed === undefined) throw new DiffEditError(ErrorCode.StaleCommand, 'This button is not one of mine.', { customId: interaction.customId });
  const saved = await deps.store.load(parsed.jobId);
  if (parsed.action === 'delete') {
    await deleteResult(interaction, saved?.job);
    return;
  }
  if (saved === undefined) {
    throw new DiffEditError(ErrorCode.JobExpired, 'This result is too old: its picture is no longer kept. Run the command again with the picture.', {
      job: parsed.jobId,
    });
  }
  if (parsed.action === 'use') {
    await postCandidate(interaction, reply, saved, parsed.candidate ?? 0, deps);
    return;
  }
  const { job, image } = saved;
  const plan = admit(
    {
      kind: parsed.action === 'edit' ? 'diffedit' : job.kind,
      ref: job.ref,
      query: job.query,
      parameters: nextParameters(job.parameters, parsed.action, job.kind),
      variations: job.variations,
      image: { kind: 'bytes', bytes: image },
    },
    { userId: interaction.user.id, sourceUserId: job.sourceUserId, channelId: interaction.channelId, guildId: interaction.guildId },
    deps.attachmentLimits,
  );
  const latentMask = parsed.action === 'edit' ? job.latentMask : undefined;
  await deps.lifecycle.run(latentMask === undefined ? plan : { ...plan, latentMask }, reply);
}

/**
 * The parameters of the job a button starts, from those of the job it sits under (`kind`): a Reroll draws a new
 * seed for what that result shows (the edit seed of an edit, the mask seed of a mask) and keeps the rest; Smaller /
 * Larger area keep both seeds and move the area one step (refused privately past the steps offered). Jobs stored
 * before the seeds were split have one seed, which drove their mask: it is their mask seed.
 */
export function nextParameters(
  previous: Partial<EditParameters>,
  action: 'reroll' | 'edit' | 'smaller' | 'larger',
  kind: 'diffedit' | 'mask',
): Partial<EditParameters> {
  const maskSeed = previous.maskSeed ?? previous.seed;
  const kept = { ...previous, ...(maskSeed !== undefined ? { maskSeed } : {}) };
  if (action === 'edit') return kept;
  if (action === 'smaller' || action === 'larger') return { ...kept, area: nextArea(previous.area ?? 0, action) };
  return kind === 'mask' ? { ...kept, maskSeed: randomSeed() } : { ...kept, seed: randomSeed() };
}

/** One area step tighter or wider, or the typed refusal past the steps offered. */
function nextArea(area: number, action: 'smaller' | 'larger'): number {
  const next = area + (action === 'smaller' ? -1 : 1);
  const { min, max } = PARAMETER_RANGES.area;
  if (next >= min && next <= max) return next;
  throw new DiffEditError(
    ErrorCode.InvalidOption,
    `This result is already at the ${action === 'smaller' ? 'smallest' : 'largest'} area offered (${areaStep(area)}).`,
    { option: 'area', value: next, min, max },
  );
}

async function deleteResult(interaction: ButtonInteraction, job: { userId: string; sourceUserId: string } | undefined): Promise<void> {
  const clicker = interaction.user.id;
  // The message's own interaction metadata still names the author when the store has forgotten the job.
  const owners = job === undefined ? [interaction.message.interactionMetadata?.user.id] : [job.userId, job.sourceUserId];
  const isModerator = interaction.memberPermissions?.has(PermissionFlagsBits.ManageMessages) === true;
  if (!owners.includes(clicker) && !isModerator) {
    throw new DiffEditError(
      ErrorCode.NotAllowed,
      'Only the person who asked for this result, the owner of its photo, or a moderator can delete it.',
      {
        user: clicker,
      },
    );
  }
  try {
    // For a component interaction, "@original" is the message the button sits on: no channel permission needed.
    await interaction.deferUpdate();
    await interaction.deleteReply();
  } catch (error) {
    if (!isUnknownMessage(error)) throw error;
    // Someone else deleted it first: that is what was asked for. Discord refuses even the acknowledgement then.
    if (!interaction.deferred && !interaction.replied) await interaction.reply({ content: 'Already deleted.', flags: MessageFlags.Ephemeral });
  }
}

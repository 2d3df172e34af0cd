/**
 * The message that carries a result, the same whether it is delivered live or late: its line (both seeds, the
 * region's size, the warnings), the panel and the full-size photo, and the buttons when the job was kept. A job of
 * several candidates carries the panel of them all and "Use k" buttons instead of a photo; "Use k" posts candidate k
 * on its own (its photo, its line, its own buttons).
 */
import { ActionRowBuilder, ButtonBuilder, ButtonStyle } from 'discord.js';
import { PHOTO_EXTENSION, type EncodedPhoto } from '../engine/image/index.js';
import { buttonId } from './custom-ids.js';
import type { ResultMessage } from './delivery.js';
import type { EditOutput } from './edit-backend.js';
import type { StoredJob } from './job-store.js';
import { candidateLine, resultLine } from './messages.js';

/**
 * The result's message: its line, the pictures, and buttons when the job was kept. `notes` are further small lines
 * after the warnings (a late delivery says when the job ran).
 */
export function resultMessage(
  kind: 'diffedit' | 'mask',
  result: EditOutput,
  stored: StoredJob | undefined,
  notes: readonly string[] = [],
): ResultMessage {
  const unstored = stored === undefined ? ['Buttons are off for this result: it could not be stored.'] : [];
  const count = result.candidates.length;
  return {
    content: resultLine({
      kind,
      ref: result.ref,
      query: result.query,
      seed: result.parameters.seed,
      maskSeed: result.parameters.maskSeed,
      steps: result.parameters.steps,
      seconds: result.timings.total / 1000,
      coverage: result.coverage,
      area: result.parameters.area,
      seeds: result.candidates.map((c) => c.seed),
      warnings: [...result.warnings, ...unstored, ...notes],
    }),
    files: resultFiles(kind, result),
    components: stored === undefined ? [] : [...(count > 1 ? [useButtons(stored.id, count)] : []), resultButtons(kind, stored.id)],
  };
}

/** Candidate `index` (1-based) of `count` posted on its own, with the buttons of the job `stored` keeps for it. */
export function candidateMessage(
  job: Pick<StoredJob, 'ref' | 'query'>,
  candidate: { seed: number; maskSeed: number; photo: EncodedPhoto },
  position: { index: number; count: number },
  stored: StoredJob | undefined,
): ResultMessage {
  const unstored = stored === undefined ? '\n-# Buttons are off for this photo: it could not be stored.' : '';
  return {
    content: `${candidateLine({ ...job, ...position, seed: candidate.seed, maskSeed: candidate.maskSeed })}${unstored}`,
    files: [{ data: candidate.photo.data, name: editedPhotoName(candidate.photo) }],
    components: stored === undefined ? [] : [resultButtons('diffedit', stored.id)],
  };
}

/** The edited photo's file name without its extension ("DiffEdit this image" on a result picks that file). */
export const EDITED_PHOTO_NAME = 'edited';

/** The panel to look at, then the full-size photo (or, under /mask, the mask) to download. */
function resultFiles(kind: 'diffedit' | 'mask', result: EditOutput): ResultMessage['files'] {
  const panel = { data: result.png, name: resultFileName(kind) };
  const { photo } = result;
  if (photo === undefined) return [panel];
  const name = kind === 'mask' ? 'mask-full.png' : editedPhotoName(photo);
  return [panel, { data: photo.data, name }];
}

function editedPhotoName(photo: EncodedPhoto): string {
  return `${EDITED_PHOTO_NAME}.${PHOTO_EXTENSION[photo.format]}`;
}

/** The panel's file name. */
export function resultFileName(kind: 'diffedit' | 'mask'): string {
  return kind === 'mask' ? 'mask.png' : 'diffedit.png';
}

/**
 * The buttons under a result: Reroll, "Edit with this mask" under a mask, Smaller area, Larger area, and Delete last
 * (five, Discord's most in one row).
 */
export function resultButtons(kind: 'diffedit' | 'mask', jobId: string): ActionRowBuilder<ButtonBuilder> {
  const row = new ActionRowBuilder<ButtonBuilder>().addComponents(
    new ButtonBuilder().setCustomId(buttonId('reroll', jobId)).setLabel('Reroll').setEmoji('🎲').setStyle(ButtonStyle.Primary),
  );
  if (kind === 'mask') {
    row.addComponents(new ButtonBuilder().setCustomId(buttonId('edit', jobId)).setLabel('Edit with this mask').setStyle(ButtonStyle.Success));
  }
  row.addComponents(
    new ButtonBuilder().setCustomId(buttonId('smaller', jobId)).setLabel('Smaller area').setStyle(ButtonStyle.Secondary),
    new ButtonBuilder().setCustomId(buttonId('larger', jobId)).setLabel('Larger area').setStyle(ButtonStyle.Secondary),
    new ButtonBuilder().setCustomId(buttonId('delete', jobId)).setLabel('Delete').setStyle(ButtonStyle.Danger),
  );
  return row;
}

/** "Use 1" .. "Use N": each posts that candidate's full-size photo. */
function useButtons(jobId: string, count: number): ActionRowBuilder<ButtonBuilder> {
  return new ActionRowBuilder<ButtonBuilder>().addComponents(
    Array.from({ length: count }, (_, k) =>
      new ButtonBuilder()
        .setCustomId(buttonId('use', jobId, k + 1))
        .setLabel(`Use ${k + 1}`)
        .setStyle(ButtonStyle.Success),
    ),
  );
}

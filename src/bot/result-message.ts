/**
 * The message that carries a result, the same whether it is delivered live or late: its line (both seeds, the
 * warnings), the panel and the full-size photo, and the buttons when the job was kept.
 */
import { ActionRowBuilder, ButtonBuilder, ButtonStyle } from 'discord.js';
import { PHOTO_EXTENSION } from '../engine/image/index.js';
import { buttonId } from './custom-ids.js';
import type { ResultMessage } from './delivery.js';
import type { EditOutput } from './edit-backend.js';
import type { StoredJob } from './job-store.js';
import { resultLine } from './messages.js';

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
      warnings: [...result.warnings, ...unstored, ...notes],
    }),
    files: resultFiles(kind, result),
    components: stored === undefined ? [] : [resultButtons(kind, stored.id)],
  };
}

/** The edited photo's file name without its extension ("DiffEdit this image" on a result picks that file). */
export const EDITED_PHOTO_NAME = 'edited';

/** The panel to look at, then the full-size photo (or, under /mask, the mask) to download. */
function resultFiles(kind: 'diffedit' | 'mask', result: EditOutput): ResultMessage['files'] {
  const panel = { data: result.png, name: resultFileName(kind) };
  const { photo } = result;
  if (photo === undefined) return [panel];
  const name = kind === 'mask' ? 'mask-full.png' : `${EDITED_PHOTO_NAME}.${PHOTO_EXTENSION[photo.format]}`;
  return [panel, { data: photo.data, name }];
}

/** The panel's file name. */
export function resultFileName(kind: 'diffedit' | 'mask'): string {
  return kind === 'mask' ? 'mask.png' : 'diffedit.png';
}

/** The buttons under a result: Reroll and Delete, plus "Edit with this mask" under a mask. */
export function resultButtons(kind: 'diffedit' | 'mask', jobId: string): ActionRowBuilder<ButtonBuilder> {
  const row = new ActionRowBuilder<ButtonBuilder>().addComponents(
    new ButtonBuilder().setCustomId(buttonId('reroll', jobId)).setLabel('Reroll').setEmoji('🎲').setStyle(ButtonStyle.Primary),
  );
  if (kind === 'mask') {
    row.addComponents(new ButtonBuilder().setCustomId(buttonId('edit', jobId)).setLabel('Edit with this mask').setStyle(ButtonStyle.Success));
  }
  row.addComponents(new ButtonBuilder().setCustomId(buttonId('delete', jobId)).setLabel('Delete').setStyle(ButtonStyle.Danger));
  return row;
}

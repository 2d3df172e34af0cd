/** `/mask image ref query [seed]`: only DiffEdit's mask, to see where an edit would happen. */
import { SlashCommandBuilder } from 'discord.js';
import { addImageAndPrompts, addSeed } from './options.js';

/** The command's name, as handlers match it. */
export const MASK_COMMAND = 'mask';

/** The slash-command definition. */
export const maskCommand = addSeed(
  addImageAndPrompts(new SlashCommandBuilder().setName(MASK_COMMAND).setDescription('Show where DiffEdit would change a photo, without editing it')),
);

/** `/mask image ref query [mask_seed] [area]`: only DiffEdit's mask, to see where an edit would happen. */
import { SlashCommandBuilder, type ChatInputCommandInteraction } from 'discord.js';
import { definedOnly } from '../src/util/objects.js';
import type { CommandRequest, SlashCommand } from './command.js';
import { OPTION, OptionReader, addArea, addImageAndPrompts, addMaskSeed, readImageAndPrompts } from './options.js';

/** The command's name, as Discord sends it back. */
export const MASK_COMMAND = 'mask';

const definition = addArea(
  addMaskSeed(
    addImageAndPrompts(
      new SlashCommandBuilder().setName(MASK_COMMAND).setDescription('Show where DiffEdit would change a photo, without editing it'),
    ),
  ),
);

function read(interaction: ChatInputCommandInteraction): CommandRequest {
  const options = new OptionReader(interaction);
  return {
    kind: 'mask',
    ...readImageAndPrompts(options),
    parameters: definedOnly({ maskSeed: options.integer(OPTION.maskSeed), area: options.integer(OPTION.area) }),
  };
}

/** /mask: its definition and the reader of its options. */
export const maskCommand: SlashCommand = { name: MASK_COMMAND, definition: definition.toJSON(), read };

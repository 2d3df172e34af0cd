/**
 * `/diffedit image ref query [seed] [mask_seed] [steps] [strength] [guidance] [composite] [area] [variations]`: the full
 * three-panel edit (one output panel per candidate).
 */
import { SlashCommandBuilder, type ChatInputCommandInteraction } from 'discord.js';
import { PARAMETER_RANGES } from '../src/engine/parameters.js';
import { definedOnly } from '../src/util/objects.js';
import type { CommandRequest, SlashCommand } from './command.js';
import { OPTION, OptionReader, addArea, addImageAndPrompts, addMaskSeed, addSeed, addVariations, readImageAndPrompts } from './options.js';

/** The command's name, as Discord sends it back. */
export const DIFFEDIT_COMMAND = 'diffedit';

const base = addMaskSeed(
  addSeed(
    addImageAndPrompts(
      new SlashCommandBuilder().setName(DIFFEDIT_COMMAND).setDescription('Change part of a photo: DiffEdit finds where, Stable Diffusion redraws it'),
    ),
  ),
)
  .addIntegerOption((o) =>
    o
      .setName(OPTION.steps)
      .setDescription('Denoising steps (default 50)')
      .setMinValue(PARAMETER_RANGES.steps.min)
      .setMaxValue(PARAMETER_RANGES.steps.max),
  )
  .addNumberOption((o) =>
    o
      .setName(OPTION.strength)
      .setDescription('How far to re-draw, 0.05-1 (default 0.8): higher changes more')
      .setMinValue(PARAMETER_RANGES.strength.min)
      .setMaxValue(PARAMETER_RANGES.strength.max),
  )
  .addNumberOption((o) =>
    o
      .setName(OPTION.guidance)
      .setDescription('How closely to follow the query, 0-30 (default 7.5)')
      .setMinValue(PARAMETER_RANGES.guidance.min)
      .setMaxValue(PARAMETER_RANGES.guidance.max),
  )
  .addBooleanOption((o) =>
    o.setName(OPTION.composite).setDescription('Keep the photo as is outside the edit (default true); false: the whole re-drawn frame'),
  );
const definition = addVariations(addArea(base));

function read(interaction: ChatInputCommandInteraction): CommandRequest {
  const options = new OptionReader(interaction);
  return {
    kind: 'diffedit',
    ...readImageAndPrompts(options),
    parameters: definedOnly({
      seed: options.integer(OPTION.seed),
      maskSeed: options.integer(OPTION.maskSeed),
      steps: options.integer(OPTION.steps),
      strength: options.decimal(OPTION.strength),
      guidance: options.decimal(OPTION.guidance),
      composite: options.boolean(OPTION.composite),
      area: options.integer(OPTION.area),
    }),
    ...definedOnly({ variations: options.integer(OPTION.variations) }),
  };
}

/** /diffedit: its definition and the reader of its options. */
export const diffeditCommand: SlashCommand = { name: DIFFEDIT_COMMAND, definition: definition.toJSON(), read };

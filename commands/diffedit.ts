/** `/diffedit image ref query [seed] [steps] [strength] [guidance]`: the full three-panel edit. */
import { SlashCommandBuilder } from 'discord.js';
import { PARAMETER_RANGES } from '../src/engine/parameters.js';
import { addImageAndPrompts, addSeed } from './options.js';

/** The command's name, as handlers match it. */
export const DIFFEDIT_COMMAND = 'diffedit';

/** The slash-command definition. */
export const diffeditCommand = addSeed(
  addImageAndPrompts(new SlashCommandBuilder().setName(DIFFEDIT_COMMAND).setDescription('Change part of a photo: DiffEdit finds where, Stable Diffusion redraws it')),
)
  .addIntegerOption((o) =>
    o.setName('steps').setDescription('Denoising steps (default 50)').setMinValue(PARAMETER_RANGES.steps.min).setMaxValue(PARAMETER_RANGES.steps.max),
  )
  .addNumberOption((o) =>
    o
      .setName('strength')
      .setDescription('How far to re-draw, 0.05-1 (default 0.8): higher changes more')
      .setMinValue(PARAMETER_RANGES.strength.min)
      .setMaxValue(PARAMETER_RANGES.strength.max),
  )
  .addNumberOption((o) =>
    o
      .setName('guidance')
      .setDescription('How closely to follow the query, 0-30 (default 7.5)')
      .setMinValue(PARAMETER_RANGES.guidance.min)
      .setMaxValue(PARAMETER_RANGES.guidance.max),
  );

/**
 * Option builders shared by the slash commands, with limits taken from the engine's parameter ranges so
 * Discord refuses out-of-range values before they reach the bot.
 */
import type { SlashCommandBuilder, SlashCommandOptionsOnlyBuilder } from 'discord.js';
import { MAX_PROMPT_CHARS, PARAMETER_RANGES } from '../src/engine/parameters.js';

type Builder = SlashCommandBuilder | SlashCommandOptionsOnlyBuilder;

/** The picture and the two prompts every command takes. */
export function addImageAndPrompts<T extends Builder>(builder: T): T {
  builder
    .addAttachmentOption((o) => o.setName('image').setDescription('The photo to edit (JPEG, PNG or WebP)').setRequired(true))
    .addStringOption((o) =>
      o.setName('ref').setDescription('What the photo shows now, e.g. "a bowl of strawberries"').setRequired(true).setMaxLength(MAX_PROMPT_CHARS),
    )
    .addStringOption((o) =>
      o.setName('query').setDescription('What it should show, e.g. "a bowl of grapes"').setRequired(true).setMaxLength(MAX_PROMPT_CHARS),
    );
  return builder;
}

/** The optional seed. */
export function addSeed<T extends Builder>(builder: T): T {
  builder.addIntegerOption((o) =>
    o.setName('seed').setDescription('Random seed: the same seed gives the same result').setMinValue(PARAMETER_RANGES.seed.min).setMaxValue(PARAMETER_RANGES.seed.max),
  );
  return builder;
}

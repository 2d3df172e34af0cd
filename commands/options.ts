/**
 * What /diffedit and /mask share: option names (the one spelling both the definitions and the readers use), the
 * option builders, with limits taken from the engine's parameter ranges so Discord refuses out-of-range values
 * before they reach the bot, and defensive readers for what a client actually sent.
 */
import {
  ApplicationCommandOptionType,
  type Attachment,
  type ChatInputCommandInteraction,
  type CommandInteractionOption,
  type SlashCommandBuilder,
  type SlashCommandOptionsOnlyBuilder,
} from 'discord.js';
import type { AttachmentInfo } from '../src/bot/attachments.js';
import { DiffEditError, ErrorCode } from '../src/errors.js';
import { MAX_PROMPT_CHARS, PARAMETER_RANGES, VARIATIONS_RANGE } from '../src/engine/parameters.js';

/** Option names, as registered with Discord and as read back. */
export const OPTION = {
  image: 'image',
  ref: 'ref',
  query: 'query',
  seed: 'seed',
  maskSeed: 'mask_seed',
  steps: 'steps',
  strength: 'strength',
  guidance: 'guidance',
  composite: 'composite',
  area: 'area',
  variations: 'variations',
} as const;

type Builder = SlashCommandBuilder | SlashCommandOptionsOnlyBuilder;

/** The picture and the two prompts every command takes. */
export function addImageAndPrompts<T extends Builder>(builder: T): T {
  builder
    .addAttachmentOption((o) => o.setName(OPTION.image).setDescription('The photo to edit (JPEG, PNG, WebP or GIF)').setRequired(true))
    .addStringOption((o) =>
      o
        .setName(OPTION.ref)
        .setDescription('What the photo shows now, e.g. "a bowl of strawberries"')
        .setRequired(true)
        .setMaxLength(MAX_PROMPT_CHARS),
    )
    .addStringOption((o) =>
      o.setName(OPTION.query).setDescription('What it should show, e.g. "a bowl of grapes"').setRequired(true).setMaxLength(MAX_PROMPT_CHARS),
    );
  return builder;
}

/** The optional edit seed: what the masked region becomes. */
export function addSeed<T extends Builder>(builder: T): T {
  return addSeedOption(builder, OPTION.seed, 'Edit seed: what the masked region becomes (Reroll draws a new one)');
}

/** The optional mask seed: which region is edited. */
export function addMaskSeed<T extends Builder>(builder: T): T {
  return addSeedOption(builder, OPTION.maskSeed, 'Mask seed: which region is edited (Reroll keeps it)');
}

/** The optional region size: steps from the automatic threshold (docs/steering.md). */
export function addArea<T extends Builder>(builder: T): T {
  builder.addIntegerOption((o) =>
    o
      .setName(OPTION.area)
      .setDescription('Region size, -3 (smaller) to +3 (larger); 0 = automatic (default)')
      .setMinValue(PARAMETER_RANGES.area.min)
      .setMaxValue(PARAMETER_RANGES.area.max),
  );
  return builder;
}

/** The optional number of candidates to choose from. */
export function addVariations<T extends Builder>(builder: T): T {
  builder.addIntegerOption((o) =>
    o
      .setName(OPTION.variations)
      .setDescription('Candidates to choose from, 1-4 (default: the bot’s, 4 on a GPU)')
      .setMinValue(VARIATIONS_RANGE.min)
      .setMaxValue(VARIATIONS_RANGE.max),
  );
  return builder;
}

/** A seed option: both seeds share one range. */
function addSeedOption<T extends Builder>(builder: T, name: string, description: string): T {
  builder.addIntegerOption((o) =>
    o.setName(name).setDescription(description).setMinValue(PARAMETER_RANGES.seed.min).setMaxValue(PARAMETER_RANGES.seed.max),
  );
  return builder;
}

/** The picture and the two prompts, as {@link addImageAndPrompts} defined them. */
export function readImageAndPrompts(options: OptionReader): { attachment: AttachmentInfo; ref: string; query: string } {
  return { attachment: options.attachment(OPTION.image), ref: options.string(OPTION.ref), query: options.string(OPTION.query) };
}

/** What admission needs of a discord.js attachment (an option's, or one on a message). */
export function attachmentInfo(attachment: Attachment): AttachmentInfo {
  return {
    url: attachment.url,
    filename: attachment.name,
    size: attachment.size,
    contentType: attachment.contentType,
    width: attachment.width,
    height: attachment.height,
  };
}

/**
 * Reads options as the client sent them. A Discord client with stale command definitions (cached before a
 * deploy) can send an option missing, of another type, or an attachment without its `resolved` data: each
 * becomes a {@link ErrorCode.StaleCommand} the user can act on, never a bare discord.js exception.
 */
export class OptionReader {
  constructor(private readonly interaction: ChatInputCommandInteraction) {}

  /** The attachment's declared metadata. */
  attachment(name: string): AttachmentInfo {
    const option = this.option(name, ApplicationCommandOptionType.Attachment, true);
    const attachment = option?.attachment;
    if (attachment === undefined) throw this.stale(name, 'arrived without its file');
    return attachmentInfo(attachment);
  }

  /** A required text option. */
  string(name: string): string {
    const value = this.option(name, ApplicationCommandOptionType.String, true)?.value;
    if (typeof value !== 'string') throw this.stale(name, 'is not text');
    return value;
  }

  /** An optional whole number. */
  integer(name: string): number | undefined {
    return this.number(name, ApplicationCommandOptionType.Integer);
  }

  /** An optional true/false. */
  boolean(name: string): boolean | undefined {
    const value = this.option(name, ApplicationCommandOptionType.Boolean, false)?.value;
    if (value === undefined) return undefined;
    if (typeof value !== 'boolean') throw this.stale(name, 'is not true or false');
    return value;
  }

  /** An optional number. */
  decimal(name: string): number | undefined {
    return this.number(name, ApplicationCommandOptionType.Number);
  }

  private number(name: string, type: ApplicationCommandOptionType.Integer | ApplicationCommandOptionType.Number): number | undefined {
    const value = this.option(name, type, false)?.value;
    if (value === undefined) return undefined;
    if (typeof value !== 'number') throw this.stale(name, 'is not a number');
    return value;
  }

  private option(name: string, type: ApplicationCommandOptionType, required: boolean): CommandInteractionOption | undefined {
    const option = this.interaction.options.data.find((o) => o.name === name);
    if (option === undefined) {
      if (required) throw this.stale(name, 'is missing');
      return undefined;
    }
    if (option.type !== type) throw this.stale(name, 'has the wrong type');
    return option;
  }

  private stale(name: string, problem: string): DiffEditError {
    return new DiffEditError(
      ErrorCode.StaleCommand,
      `Your Discord app sent an out-of-date version of /${this.interaction.commandName} (the \`${name}\` option ${problem}). ` +
        'Reload Discord (Ctrl+R, or restart the app) and try again.',
      { command: this.interaction.commandName, option: name, problem },
    );
  }
}

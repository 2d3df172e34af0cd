/** The shape every slash-command module has: a command is one unit, its definition beside the reader of its options. */
import type { ChatInputCommandInteraction, RESTPostAPIChatInputApplicationCommandsJSONBody } from 'discord.js';
import type { AttachmentInfo } from '../src/bot/attachments.js';
import type { EditParameters } from '../src/engine/parameters.js';

/** What a user asked for, as read from the options (not yet checked: admission does that). */
export interface CommandRequest {
  readonly kind: 'diffedit' | 'mask';
  readonly attachment: AttachmentInfo;
  readonly ref: string;
  readonly query: string;
  readonly parameters: Partial<EditParameters>;
  /** Candidates to decode; undefined: the engine's default. */
  readonly variations?: number;
}

/** One slash command. */
export interface SlashCommand {
  readonly name: string;
  /** The JSON Discord's API takes to register it. */
  readonly definition: RESTPostAPIChatInputApplicationCommandsJSONBody;
  /** Reads the options a client sent; throws a StaleCommand DiffEditError for options that do not fit. */
  read(interaction: ChatInputCommandInteraction): CommandRequest;
}

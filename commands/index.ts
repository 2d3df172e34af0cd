/** Every slash command the bot serves. */
import type { RESTPostAPIChatInputApplicationCommandsJSONBody } from 'discord.js';
import type { SlashCommand } from './command.js';
import { diffeditCommand } from './diffedit.js';
import { maskCommand } from './mask.js';

export type { CommandRequest, SlashCommand } from './command.js';
export { DIFFEDIT_COMMAND } from './diffedit.js';
export { MASK_COMMAND } from './mask.js';

const COMMANDS: readonly SlashCommand[] = [diffeditCommand, maskCommand];

/** The command of this name, or undefined (a command deleted since the client cached it). */
export function findCommand(name: string): SlashCommand | undefined {
  return COMMANDS.find((command) => command.name === name);
}

/** The definitions to register. */
export function commandDefinitions(): RESTPostAPIChatInputApplicationCommandsJSONBody[] {
  return COMMANDS.map((command) => command.definition);
}

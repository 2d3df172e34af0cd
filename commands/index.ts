/** Every command the bot serves: the slash commands, and the "DiffEdit this image" message menu. */
import type { RESTPostAPIApplicationCommandsJSONBody } from 'discord.js';
import type { SlashCommand } from './command.js';
import { diffeditCommand } from './diffedit.js';
import { diffeditThisImageDefinition } from './diffedit-this-image.js';
import { maskCommand } from './mask.js';

export type { CommandRequest, SlashCommand } from './command.js';
export { DIFFEDIT_COMMAND } from './diffedit.js';
export { MASK_COMMAND } from './mask.js';
export { DIFFEDIT_THIS_IMAGE_COMMAND } from './diffedit-this-image.js';

const COMMANDS: readonly SlashCommand[] = [diffeditCommand, maskCommand];

/** The command of this name, or undefined (a command deleted since the client cached it). */
export function findCommand(name: string): SlashCommand | undefined {
  return COMMANDS.find((command) => command.name === name);
}

/** The definitions to register. */
export function commandDefinitions(): RESTPostAPIApplicationCommandsJSONBody[] {
  return [...COMMANDS.map((command) => command.definition), diffeditThisImageDefinition];
}

/** Every slash command the bot serves, in the JSON form Discord's API takes. */
import type { RESTPostAPIChatInputApplicationCommandsJSONBody } from 'discord.js';
import { diffeditCommand } from './diffedit.js';
import { maskCommand } from './mask.js';

export { DIFFEDIT_COMMAND } from './diffedit.js';
export { MASK_COMMAND } from './mask.js';

/** The definitions to register. */
export function commandDefinitions(): RESTPostAPIChatInputApplicationCommandsJSONBody[] {
  return [diffeditCommand.toJSON(), maskCommand.toJSON()];
}

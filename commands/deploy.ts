/**
 * `npm run deploy-commands`: registers the slash commands, in one guild when GUILD_ID is set (instant) or
 * globally (Discord may take up to an hour to show them everywhere).
 */
import 'dotenv/config';
import { ApplicationCommandType, REST, Routes } from 'discord.js';
import { readDiscordConfig } from '../src/config/discord.js';
import { EnvReader } from '../src/config/env.js';
import { commandDefinitions } from './index.js';

async function main(): Promise<void> {
  const env = new EnvReader(process.env);
  const { token, apiUrl, guildId } = readDiscordConfig(env);
  env.assertValid();
  if (token === undefined) {
    throw new Error('Set DISCORD_TOKEN in .env (Discord Developer Portal > your application > Bot > Reset Token).');
  }
  const rest = new REST(apiUrl !== undefined ? { api: apiUrl } : {}).setToken(token);
  const application = (await rest.get(Routes.currentApplication())) as { id: string };
  const route = guildId !== undefined ? Routes.applicationGuildCommands(application.id, guildId) : Routes.applicationCommands(application.id);
  const body = commandDefinitions();
  await rest.put(route, { body });
  const names = body.map((c) => (c.type === ApplicationCommandType.Message ? `"${c.name}" (message menu)` : `/${c.name}`));
  process.stdout.write(`Registered ${names.join(', ')} ${guildId !== undefined ? `in guild ${guildId}` : 'globally'}.\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`deploy-commands failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});

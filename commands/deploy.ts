/**
 * `npm run deploy-commands`: registers the slash commands, in one guild when GUILD_ID is set (instant) or
 * globally (Discord may take up to an hour to show them everywhere).
 */
import 'dotenv/config';
import { REST, Routes } from 'discord.js';
import { commandDefinitions } from './index.js';

async function main(): Promise<void> {
  const token = process.env['DISCORD_TOKEN']?.trim();
  if (!token) {
    throw new Error('Set DISCORD_TOKEN in .env (Discord Developer Portal > your application > Bot > Reset Token).');
  }
  const api = process.env['DISCORD_API_URL']?.trim();
  const rest = new REST(api ? { api } : {}).setToken(token);
  const application = (await rest.get(Routes.currentApplication())) as { id: string };
  const guildId = process.env['GUILD_ID']?.trim();
  const route = guildId ? Routes.applicationGuildCommands(application.id, guildId) : Routes.applicationCommands(application.id);
  const body = commandDefinitions();
  await rest.put(route, { body });
  process.stdout.write(`Registered ${body.map((c) => `/${c.name}`).join(', ')} ${guildId ? `in guild ${guildId}` : 'globally'}.\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`deploy-commands failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});

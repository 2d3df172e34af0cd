/** How to reach Discord: shared by `npm start` and `npm run deploy-commands`. */
import type { EnvReader } from './env.js';

/** The Discord connection settings. */
export interface DiscordConfig {
  /** DISCORD_TOKEN: the bot token (required to start or deploy). */
  readonly token: string | undefined;
  /** DISCORD_API_URL: REST base override (tests point it at a local fake Discord); Discord's own when unset. */
  readonly apiUrl: string | undefined;
  /** GUILD_ID: `deploy-commands` registers in this guild only (instant) instead of globally. */
  readonly guildId: string | undefined;
}

/** Reads the Discord settings; problems are collected in `env`. */
export function readDiscordConfig(env: EnvReader): DiscordConfig {
  const apiUrl = env.string('DISCORD_API_URL');
  if (apiUrl !== undefined && !/^https?:\/\/[^/]+/.test(apiUrl)) {
    env.problems.push({ variable: 'DISCORD_API_URL', message: `"${apiUrl}" is not an http(s) URL` });
  }
  const guildId = env.string('GUILD_ID');
  if (guildId !== undefined && !/^\d{17,20}$/.test(guildId)) {
    env.problems.push({ variable: 'GUILD_ID', message: `"${guildId}" is not a Discord id (17-20 digits)` });
  }
  return { token: env.string('DISCORD_TOKEN'), apiUrl, guildId };
}

/**
 * One source for every default: the config readers take them from BOT_DEFAULTS / ENGINE_DEFAULTS / HUB_DEFAULTS,
 * and .env.example and the settings table in docs/settings.md must say the same. Also: every variable in .env.example is
 * read by some config reader, and no reader reads a variable .env.example does not document.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BOT_DEFAULTS, readBotConfig } from '../../src/config/bot.js';
import { readDiscordConfig } from '../../src/config/discord.js';
import { ENGINE_DEFAULTS, readEngineConfig } from '../../src/config/engine.js';
import { EnvReader } from '../../src/config/env.js';
import { HUB_DEFAULTS, readHubConfig } from '../../src/config/hub.js';

const root = path.resolve(import.meta.dirname, '../..');
const DEFAULTS: Record<string, string | number> = { ...BOT_DEFAULTS, ...ENGINE_DEFAULTS, ...HUB_DEFAULTS };

/** NAME=value lines of .env.example. */
function envExample(): Map<string, string> {
  const text = readFileSync(path.join(root, '.env.example'), 'utf8');
  return new Map([...text.matchAll(/^([A-Z0-9_]+)=(.*)$/gm)].map((m) => [m[1] as string, (m[2] as string).trim()]));
}

/** `| \`NAME\` | value | ... |` rows of the settings table in docs/settings.md. */
function documentedSettings(): Map<string, string> {
  const text = readFileSync(path.join(root, 'docs/settings.md'), 'utf8');
  return new Map(
    [...text.matchAll(/^\| `([A-Z0-9_]+)` \| ([^|]*) \|/gm)].map((m) => [m[1] as string, (m[2] as string).trim().replace(/^`|`$/g, '')]),
  );
}

/** Every variable name the config readers look at. */
function variablesRead(): Set<string> {
  const seen = new Set<string>();
  const env = new Proxy({}, { get: (_t, name) => (typeof name === 'string' && seen.add(name), undefined) });
  const reader = new EnvReader(env);
  readBotConfig(reader);
  readEngineConfig(reader);
  readDiscordConfig(reader);
  readHubConfig(reader);
  return seen;
}

describe('defaults have one source', () => {
  it.each(Object.entries(DEFAULTS))('.env.example says %s=%s', (name, value) => {
    expect(envExample().get(name)).toBe(String(value));
  });

  it.each(Object.entries(DEFAULTS))('docs/settings.md says %s defaults to %s', (name, value) => {
    expect(documentedSettings().get(name)).toBe(String(value));
  });

  it('variables without a default are empty in .env.example and "unset" in docs/settings.md', () => {
    const withoutDefault = [...envExample()].filter(([name]) => !(name in DEFAULTS));
    for (const [name, value] of withoutDefault) {
      expect(value, name).toBe('');
      expect(documentedSettings().get(name), name).toBe('unset');
    }
  });

  it('.env.example documents exactly the variables the config readers read', () => {
    expect([...envExample().keys()].sort()).toEqual([...variablesRead()].sort());
  });

  it('docs/settings.md lists the same variables', () => {
    expect([...documentedSettings().keys()].sort()).toEqual([...envExample().keys()].sort());
  });
});

/**
 * `npm start`: validates the configuration, loads the models (warming the UNet up), logs the bot in, and
 * shuts down cleanly on SIGINT/SIGTERM.
 */
import 'dotenv/config';
import { DiffEditBot } from './bot/bot.js';
import { readBotConfig } from './config/bot.js';
import { engineOptionsFrom, readEngineConfig } from './config/engine.js';
import { EnvReader } from './config/env.js';
import { DiffEditEngine } from './engine/engine.js';
import { describeFailure } from './cli/failure.js';
import { createLogger } from './logger.js';

const SETUP_HELP = `DISCORD_TOKEN is not set. To run the bot:
  1. Create an application at https://discord.com/developers/applications, add a Bot, and copy its token.
  2. cp .env.example .env, and set DISCORD_TOKEN=<the token> (and MODEL_DIR if your models are elsewhere).
  3. Invite the bot with the applications.commands and bot scopes, then: npm run deploy-commands
  4. npm start`;

async function main(): Promise<void> {
  const env = new EnvReader(process.env);
  const engineConfig = readEngineConfig(env);
  const botConfig = readBotConfig(env);
  env.assertValid();
  const logger = createLogger(engineConfig.logLevel);
  const token = botConfig.token;
  if (token === undefined) {
    process.stderr.write(`${SETUP_HELP}\n`);
    process.exitCode = 2;
    return;
  }
  const engine = await DiffEditEngine.create({ ...engineOptionsFrom(engineConfig, logger), maxInputPixels: botConfig.maxInputPixels });
  const warm = await engine.warmUp();
  logger.info('engine ready', { providers: engine.models.providers, warmUpMs: warm });
  const bot = await DiffEditBot.start({ config: { ...botConfig, token }, engine, logger });

  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    logger.info('signal received', { signal });
    void bot
      .stop()
      .then(() => engine.close())
      .then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error('shutdown failed', { error });
          process.exit(1);
        },
      );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`${describeFailure(error)}\n`);
  process.exit(1);
});

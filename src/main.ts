/**
 * `npm start`: validates the configuration, loads the models (warming the UNet up), logs the bot in, and
 * shuts down cleanly on SIGINT/SIGTERM. The signal handlers come first: a signal during start-up (models
 * loading, login) exits at once instead of killing the process mid-way without a word.
 */
import 'dotenv/config';
import { DiffEditBot } from './bot/bot.js';
import { readBotConfig } from './config/bot.js';
import { readEngineConfig } from './config/engine.js';
import { EnvReader } from './config/env.js';
import type { DiffEditEngine } from './engine/engine.js';
import { assertExportPresent } from './engine/models/layout.js';
import { describeFailure } from './cli/failure.js';
import { loadWarmEngine } from './cli/load-engine.js';
import { createLogger } from './logger.js';
import { onShutdownSignal } from './cli/shutdown-signal.js';

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
    // A newcomer's first `npm start` usually lacks both: say both at once. (QUEUE_BACKEND=redis: the workers load models.)
    const models =
      botConfig.queueBackend === 'memory' ? await assertExportPresent(engineConfig.modelDir).then(() => undefined, describeFailure) : undefined;
    process.stderr.write(`${[models, SETUP_HELP].filter((text) => text !== undefined).join('\n\n')}\n`);
    process.exitCode = 2;
    return;
  }

  let engine: DiffEditEngine | undefined;
  let bot: DiffEditBot | undefined;
  onShutdownSignal(logger, botConfig.shutdownGraceMs, async () => {
    await bot?.stop();
    await engine?.close();
  });

  // With QUEUE_BACKEND=redis the engines live in the workers (npm run worker).
  if (botConfig.queueBackend === 'memory') {
    engine = await loadWarmEngine(engineConfig, botConfig, logger);
  }
  bot = await DiffEditBot.start({ config: { ...botConfig, token }, ...(engine !== undefined ? { engine } : {}), logger });
}

main().catch((error: unknown) => {
  process.stderr.write(`${describeFailure(error)}\n`);
  process.exit(1);
});

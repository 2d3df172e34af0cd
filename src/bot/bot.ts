/**
 * The bot: a discord.js client wired to the command and button handlers, one job queue, one job store and
 * one engine. `start` logs in; `stop` stops taking jobs, lets the running one finish (or cancels it after a
 * grace period) and logs out.
 */
import path from 'node:path';
import { Client, Events, GatewayIntentBits, type Interaction } from 'discord.js';
import type { BotConfig } from '../config/bot.js';
import type { Logger } from '../logger.js';
import type { AttachmentLimits } from './attachments.js';
import { handleButton } from './handlers/buttons.js';
import { handleCommand } from './handlers/commands.js';
import { JobQueue } from './job-queue.js';
import { JobRunner, type EditRunner } from './job-runner.js';
import { JobStore } from './job-store.js';

/** What the bot is built from. */
export interface BotOptions {
  readonly config: BotConfig & { readonly token: string };
  readonly engine: EditRunner;
  readonly logger: Logger;
}

/** A running bot. */
export class DiffEditBot {
  /** The discord.js client (exposed for tests and diagnostics). */
  readonly client: Client;
  private readonly queue: JobQueue;
  private readonly pending = new Set<Promise<void>>();

  private constructor(
    private readonly options: BotOptions,
    private readonly store: JobStore,
  ) {
    const { config, logger } = options;
    this.client = new Client({
      intents: [GatewayIntentBits.Guilds],
      ...(config.apiUrl !== undefined ? { rest: { api: config.apiUrl } } : {}),
    });
    this.queue = new JobQueue({ perUserLimit: config.perUserQueueLimit, globalLimit: config.queueLimit, logger });
    const attachmentLimits: AttachmentLimits = {
      maxBytes: config.maxUploadBytes,
      maxPixels: config.maxInputPixels,
      timeoutMs: config.downloadTimeoutMs,
      allowedHosts: config.attachmentHosts,
    };
    const runner = new JobRunner({
      engine: options.engine,
      queue: this.queue,
      store,
      attachmentLimits,
      progressIntervalMs: config.progressIntervalMs,
      logger,
    });
    this.client.on(Events.InteractionCreate, (interaction) => this.track(this.dispatch(interaction, runner, attachmentLimits)));
    this.client.on(Events.Error, (error) => logger.error('discord client error', { error }));
    this.client.once(Events.ClientReady, (client) => logger.info('logged in', { user: client.user.tag, id: client.user.id }));
  }

  /** Opens the job store and logs in. */
  static async start(options: BotOptions): Promise<DiffEditBot> {
    // A folder of its own: DATA_DIR may hold other things.
    const store = await JobStore.open(path.join(options.config.dataDir, 'jobs'), { maxBytes: options.config.jobStoreMaxBytes, logger: options.logger });
    const bot = new DiffEditBot(options, store);
    await bot.client.login(options.config.token);
    return bot;
  }

  /**
   * Stops taking jobs, waits up to `graceMs` for the running one (then cancels it), answers everything in
   * flight, and logs out.
   */
  async stop(graceMs = this.options.config.shutdownGraceMs): Promise<void> {
    const { logger } = this.options;
    logger.info('shutting down: no new jobs', { waiting: this.queue.waiting, running: this.queue.running });
    const drained = this.queue.shutdown({ cancelRunning: false });
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), graceMs);
    });
    if ((await Promise.race([drained.then(() => 'drained' as const), timedOut])) === 'timeout') {
      logger.warn('running job did not finish in time: cancelling it', { graceMs });
      await this.queue.shutdown({ cancelRunning: true });
    }
    clearTimeout(timer);
    await Promise.allSettled([...this.pending]);
    await this.client.destroy();
    logger.info('logged out');
  }

  private async dispatch(interaction: Interaction, runner: JobRunner, attachmentLimits: AttachmentLimits): Promise<void> {
    const { logger } = this.options;
    try {
      if (interaction.isChatInputCommand()) await handleCommand(interaction, { runner, attachmentLimits, logger });
      else if (interaction.isButton()) await handleButton(interaction, { runner, store: this.store, logger });
    } catch (error) {
      // Last line of defence: a handler bug must not take the bot down.
      logger.error('interaction handler failed', { error, interaction: interaction.id });
    }
  }

  private track(work: Promise<void>): void {
    this.pending.add(work);
    void work.finally(() => this.pending.delete(work));
  }
}

/**
 * The bot: a discord.js client whose interactions go to the command and button handlers behind one error
 * boundary, one job queue, one job store and one engine. `start` opens the store and logs in; `stop` stops taking
 * jobs, lets the running one finish (or cancels it after a grace period), answers everyone, and logs out, within
 * the grace period plus a few seconds whatever a task or Discord does.
 */
import path from 'node:path';
import { Client, Events, GatewayIntentBits, type Interaction } from 'discord.js';
import PQueue from 'p-queue';
import type { BotConfig } from '../config/bot.js';
import { DiffEditError, ErrorCode, isDiffEditError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { AttachmentLimits } from './attachments.js';
import { parseButtonId } from './custom-ids.js';
import { JobReply, type JobReplyOptions } from './delivery.js';
import { logConnectionEvents } from './gateway-log.js';
import { handleButton } from './handlers/buttons.js';
import { handleCommand } from './handlers/commands.js';
import { handlePictureMenu, handlePictureModal } from './handlers/diffedit-this-image.js';
import { startHealthServer, type HealthServer } from './health-server.js';
import type { EditBackend } from './edit-backend.js';
import { JobLifecycle } from './job-lifecycle.js';
import { JobQueue } from '../queue/memory/job-queue.js';
import { MemoryBackend, type EditRunner } from '../queue/memory/backend.js';
import { openRedis } from '../queue/redis/connection.js';
import { RedisBackend } from '../queue/redis/backend.js';
import { FileJobStore, type JobStore } from './job-store.js';
import { retryUndelivered } from './late-delivery.js';
import { RedisJobStore } from '../queue/redis/job-store.js';
import { BotMetrics } from './metrics.js';
import { userMessageFor } from './user-errors.js';
import { within } from '../util/settle-within.js';

/** After the grace period, how long stop() still gives messages in flight (the users' last answers). */
const STOP_MARGIN_MS = 5000;
/** QUEUE_BACKEND=redis: a bot process's heartbeat; what it leaves undelivered is taken over 3 beats after it dies. */
const HEARTBEAT_MS = 2000;

/** What the bot is built from. */
export interface BotOptions {
  readonly config: BotConfig & { readonly token: string };
  /** QUEUE_BACKEND=memory: the engine in this process. */
  readonly engine?: EditRunner;
  /** Another backend (QUEUE_BACKEND=redis); takes the place of `engine`. */
  readonly backend?: EditBackend;
  readonly logger: Logger;
}

/** A running bot. */
export class DiffEditBot {
  /** The discord.js client (exposed for tests and diagnostics). */
  readonly client: Client;
  readonly metrics: BotMetrics;
  private readonly backend: EditBackend;
  private readonly lifecycle: JobLifecycle;
  private readonly attachmentLimits: AttachmentLimits;
  private readonly replyOptions: JobReplyOptions;
  private readonly shutdown = new AbortController();
  private readonly pending = new Set<Promise<void>>();
  private healthServer: HealthServer | undefined;

  private constructor(
    private readonly options: BotOptions,
    private readonly store: JobStore,
  ) {
    const { config, logger } = options;
    this.client = new Client({
      intents: [GatewayIntentBits.Guilds],
      ...(config.apiUrl !== undefined ? { rest: { api: config.apiUrl } } : {}),
    });
    this.backend = options.backend ?? memoryBackend(options);
    this.metrics = new BotMetrics(() => this.backend.counts(), this.backend.workers?.bind(this.backend));
    this.replyOptions = { retryMs: config.deliveryRetryMs, logger };
    this.attachmentLimits = {
      maxBytes: config.maxUploadBytes,
      maxPixels: config.maxInputPixels,
      timeoutMs: config.downloadTimeoutMs,
      allowedHosts: config.attachmentHosts,
    };
    this.lifecycle = new JobLifecycle({
      backend: this.backend,
      store,
      downloads: new PQueue({ concurrency: config.downloadConcurrency }),
      shutdown: this.shutdown.signal,
      progressIntervalMs: config.progressIntervalMs,
      metrics: this.metrics,
      logger,
    });
    this.client.on(Events.InteractionCreate, (interaction) => this.track(this.dispatch(interaction)));
    this.client.on(Events.Error, (error) => logger.error('discord client error', { error }));
    this.client.once(Events.ClientReady, (client) => {
      logger.info('logged in', { user: client.user.tag, id: client.user.id });
      this.track(this.recoverDeliveries(client));
    });
    logConnectionEvents(this.client, logger);
  }

  /** Opens the job store, starts the metrics server when configured, and logs in. */
  static async start(options: BotOptions): Promise<DiffEditBot> {
    const { config, logger } = options;
    const redis = config.queueBackend === 'redis';
    const store: JobStore = redis
      ? new RedisJobStore(openRedis(config.redisUrl, logger), config.jobStoreMaxBytes, logger)
      : // A folder of its own: DATA_DIR may hold other things.
        await FileJobStore.open(path.join(config.dataDir, 'jobs'), { maxBytes: config.jobStoreMaxBytes, logger });
    const backend = options.backend ?? (redis ? await redisBackend(options) : undefined);
    const bot = new DiffEditBot(backend === undefined ? options : { ...options, backend }, store);
    if (config.metricsPort !== undefined) {
      bot.healthServer = await startHealthServer({
        host: config.metricsHost,
        port: config.metricsPort,
        registry: bot.metrics.registry,
        healthy: () => bot.client.isReady(),
        ...(bot.backend.workers ? { workers: bot.backend.workers.bind(bot.backend) } : {}),
      });
      logger.info('metrics server listening', { host: config.metricsHost, port: bot.healthServer.port });
    }
    await bot.client.login(config.token);
    return bot;
  }

  /** The metrics server's port, when one runs. */
  get metricsPort(): number | undefined {
    return this.healthServer?.port;
  }

  /**
   * Stops taking jobs, cancels waiting ones (their users are told privately), waits up to `graceMs` for the running
   * one (then cancels it, without waiting for a task that ignores its signal), gives the last messages a few seconds,
   * and logs out.
   */
  async stop(graceMs = this.options.config.shutdownGraceMs): Promise<void> {
    const { logger } = this.options;
    const deadline = Date.now() + graceMs;
    logger.info('shutting down: no new jobs', { waiting: this.backend.waiting, running: this.backend.running });
    this.shutdown.abort(new DiffEditError(ErrorCode.ShuttingDown, 'The bot is restarting; your job was cancelled. Try again in a minute.'));
    if ((await within(this.backend.shutdown({ cancelRunning: false }), graceMs)) === 'timeout') {
      logger.warn('running job did not finish in time: cancelling it', { graceMs });
      await this.backend.shutdown({ cancelRunning: true });
    }
    if ((await within(Promise.allSettled([...this.pending]), Math.max(deadline - Date.now(), 0) + STOP_MARGIN_MS)) === 'timeout') {
      logger.warn('some messages were still in flight at shutdown', { interactions: this.pending.size });
    }
    await this.healthServer?.close();
    await this.client.destroy();
    await this.store.close();
    logger.info('logged out');
  }

  /**
   * Once logged in: results kept undelivered (no route reached their user last time) are tried again, and with
   * QUEUE_BACKEND=redis, deliveries that dead bot processes left are taken over, now and whenever one dies.
   */
  private async recoverDeliveries(client: Client<true>): Promise<void> {
    const { logger } = this.options;
    this.backend.adoptOrphans?.((orphan) => {
      const work = this.lifecycle.resume(orphan, JobReply.resume(this.client, orphan.target, this.replyOptions));
      this.track(work);
      return work;
    });
    try {
      await retryUndelivered(this.store, client, this.replyOptions, this.metrics);
    } catch (error) {
      logger.error('could not retry undelivered results', { error });
    }
  }

  /** The one error boundary: whatever a handler throws is told to the user privately, with a logged reference. */
  private async dispatch(interaction: Interaction): Promise<void> {
    if (!interaction.isRepliable()) return;
    const { logger } = this.options;
    const reply = JobReply.forInteraction(interaction, this.replyOptions);
    try {
      if (interaction.isChatInputCommand()) {
        await handleCommand(interaction, reply, { lifecycle: this.lifecycle, attachmentLimits: this.attachmentLimits });
      } else if (interaction.isButton()) {
        await handleButton(interaction, reply, { lifecycle: this.lifecycle, store: this.store, attachmentLimits: this.attachmentLimits, logger });
      } else if (interaction.isMessageContextMenuCommand()) {
        await handlePictureMenu(interaction, { attachmentLimits: this.attachmentLimits });
      } else if (interaction.isModalSubmit()) {
        await handlePictureModal(interaction, reply, { lifecycle: this.lifecycle, attachmentLimits: this.attachmentLimits });
      } else {
        throw new DiffEditError(ErrorCode.StaleCommand, 'I do not handle this kind of interaction.', { type: interaction.type });
      }
    } catch (error) {
      if (isDiffEditError(error, ErrorCode.HandedOver)) {
        logger.info('job left to the next bot process', { interaction: interaction.id, ...error.details });
        return;
      }
      const acknowledged = interaction.deferred || interaction.replied;
      const kind = interaction.isCommand()
        ? interaction.commandName
        : interaction.isButton()
          ? (parseButtonId(interaction.customId)?.action ?? 'button')
          : interaction.isModalSubmit()
            ? 'modal'
            : 'other';
      this.metrics.jobEnded(kind, acknowledged ? 'failed' : 'refused');
      await reply.fail(userMessageFor(error, logger, { interaction: interaction.id, user: interaction.user.id, kind }));
    }
  }

  private track(work: Promise<void>): void {
    this.pending.add(work);
    void work.finally(() => this.pending.delete(work));
  }
}

/** QUEUE_BACKEND=redis: GPU workers behind Redis. */
function redisBackend({ config, logger }: BotOptions): Promise<EditBackend> {
  return RedisBackend.open({
    redisUrl: config.redisUrl,
    perUserLimit: config.perUserQueueLimit,
    globalLimit: config.queueLimit,
    maxInlinePictureBytes: config.maxInlinePictureBytes,
    // A reservation is queued once its picture is downloaded; past that it can only be a bot that died.
    reserveTtlMs: config.downloadTimeoutMs + 60_000,
    pollMs: Math.max(config.progressIntervalMs, 250),
    // A delivery's retries and its uploads: past that, a claimant that died leaves the job to another process.
    deliveryClaimMs: config.deliveryRetryMs + 60_000,
    heartbeatMs: HEARTBEAT_MS,
    queueWaitMs: config.queueWaitMs,
    jobTimeoutMs: config.jobTimeoutMs,
    // Three lock periods: a worker restarting (or all of them, briefly) is not refused for; none for that long is down.
    noWorkerMs: 3 * config.workerLockMs,
    logger,
  });
}

/** The default backend: the engine in this process behind the in-process queue. */
function memoryBackend({ config, engine, logger }: BotOptions): EditBackend {
  if (engine === undefined) throw new Error('DiffEditBot needs an engine or a backend');
  const queue = new JobQueue({ perUserLimit: config.perUserQueueLimit, globalLimit: config.queueLimit, jobTimeoutMs: config.jobTimeoutMs, logger });
  return new MemoryBackend(queue, engine);
}

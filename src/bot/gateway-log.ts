/**
 * Makes connection trouble visible: gateway disconnects, reconnects, resumes and invalidated sessions (discord.js
 * recovers from them by itself, silently), and REST rate limits (discord.js waits them out, silently).
 */
import { Events, RESTEvents, type Client } from 'discord.js';
import type { Logger } from '../logger.js';

/** discord.js debug lines worth an info-level log: the ones that explain a reconnect. */
const NOTABLE_DEBUG = /zombie|heartbeat ack|invalid session|reconnect|resum|close code/i;

/** Subscribes `logger` to the client's connection events. */
export function logConnectionEvents(client: Client, logger: Logger): void {
  client.on(Events.ShardDisconnect, (event, shard) => logger.warn('gateway disconnected', { shard, code: event.code }));
  client.on(Events.ShardReconnecting, (shard) => logger.warn('gateway reconnecting', { shard }));
  client.on(Events.ShardResume, (shard, replayedEvents) => logger.info('gateway session resumed', { shard, replayedEvents }));
  client.on(Events.ShardReady, (shard) => logger.info('gateway ready', { shard }));
  client.on(Events.ShardError, (error, shard) => logger.error('gateway error', { shard, error }));
  client.on(Events.Invalidated, () => logger.error('gateway session invalidated and not recoverable'));
  client.on(Events.Debug, (line) => {
    if (NOTABLE_DEBUG.test(line)) logger.info('gateway', { detail: line });
    else logger.debug('gateway', { detail: line });
  });
  client.rest.on(RESTEvents.RateLimited, (info) =>
    logger.warn('Discord rate limit: waiting', {
      method: info.method,
      route: info.route,
      retryAfterMs: info.retryAfter,
      global: info.global,
      scope: info.scope,
      limit: info.limit,
    }),
  );
}

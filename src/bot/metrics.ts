/**
 * The bot's Prometheus metrics (prom-client, in a registry of its own so tests and several bots in one process
 * never share counters): queue length, jobs by outcome, edit seconds, delivery routes, plus Node's process metrics.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { DeliveryRoute } from './delivery.js';

/** How a job ended. */
export type JobOutcome = 'delivered' | 'undelivered' | 'refused' | 'failed';

/** Live numbers the gauges read when scraped: queue-wide (every bot process's jobs, in Redis mode). */
export type QueueCounts = () => Promise<{ readonly waiting: number; readonly running: number }>;

/** Every metric the bot keeps. */
export class BotMetrics {
  readonly registry = new Registry();
  readonly jobs = new Counter({
    name: 'diffedit_jobs_total',
    help: 'Jobs by kind and how they ended (refused: before acknowledging; failed: told the user why)',
    labelNames: ['kind', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly editSeconds = new Histogram({
    name: 'diffedit_edit_seconds',
    help: 'Engine time of one job',
    labelNames: ['kind'] as const,
    buckets: [0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600],
    registers: [this.registry],
  });
  readonly deliveries = new Counter({
    name: 'diffedit_deliveries_total',
    help: 'Results by the route that reached the user (none: kept as undelivered)',
    labelNames: ['route'] as const,
    registers: [this.registry],
  });

  /** `workers`: GPU workers connected (redis mode; no gauge in memory mode). */
  constructor(counts: QueueCounts, workers?: () => number) {
    // A scrape collects both gauges at once: they share one reading (in redis mode, two round trips, not four).
    let reading: ReturnType<QueueCounts> | undefined;
    const read: QueueCounts = () => (reading ??= counts().finally(() => (reading = undefined)));
    new Gauge({
      name: 'diffedit_queue_waiting',
      help: 'Jobs downloading or waiting for a worker, in the whole queue (every bot process in redis mode)',
      registers: [this.registry],
      async collect() {
        this.set((await read()).waiting);
      },
    });
    new Gauge({
      name: 'diffedit_queue_running',
      help: 'Jobs running, in the whole queue (every worker in redis mode)',
      registers: [this.registry],
      async collect() {
        this.set((await read()).running);
      },
    });
    if (workers !== undefined) {
      new Gauge({
        name: 'diffedit_workers',
        help: 'GPU workers connected to the queue when last looked (redis mode): 0 means jobs are refused',
        registers: [this.registry],
        collect() {
          this.set(workers());
        },
      });
    }
    collectDefaultMetrics({ register: this.registry });
  }

  /** Counts a job's end. */
  jobEnded(kind: string, outcome: JobOutcome): void {
    this.jobs.inc({ kind, outcome });
  }

  /** Counts a delivery. */
  delivered(route: DeliveryRoute): void {
    this.deliveries.inc({ route });
  }
}

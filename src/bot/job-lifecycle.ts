/**
 * The life of one admitted job, as a straight line:
 *
 *   reserve a place (caps) -> acknowledge -> download -> queue -> run -> keep -> deliver
 *
 * It throws what the interaction's one error boundary (bot.ts) should tell the user privately; a refusal at the
 * first step comes before anything public exists. Once the engine has produced a result, nothing here can lose it:
 * a disk fault only costs the buttons, and delivery goes down the ladder in delivery.ts; if no route reaches the
 * user the whole result (both pictures, seeds, warnings) stays in the job store, marked undelivered.
 *
 * With QUEUE_BACKEND=redis the job's delivery is handed over in Redis when it is queued: if this bot process dies,
 * the next one takes it at "run" ({@link JobLifecycle.resume}) and finishes the same line from there. "Keep ->
 * deliver" happens at most once per job whichever process gets there (the backend's delivery claim).
 */
import type PQueue from 'p-queue';
import type { EditRequest } from '../engine/engine.js';
import { ErrorCode, isDiffEditError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { ImageSource, JobPlan } from './admission.js';
import { downloadAttachment } from './attachments.js';
import type { JobReply } from './delivery.js';
import type { DeliveryGuard, EditBackend, EditHooks, EditOutput, Orphan } from './edit-backend.js';
import type { JobStore, NewJob, StoredJob } from './job-store.js';
import { progressLine, queueLine } from './messages.js';
import type { BotMetrics } from './metrics.js';
import { resultMessage } from './result-message.js';
import { ThrottledStatus } from './throttled-status.js';
import { encodeUndelivered } from './undelivered-result.js';
import { storedCandidate } from './candidates.js';
import { userMessageFor } from './user-errors.js';

export type { EditRunner } from '../queue/memory/backend.js';

/** What a job's life needs. */
export interface JobLifecycleDeps {
  /** Where the edit runs: this process's engine, or GPU workers behind Redis. */
  readonly backend: EditBackend;
  readonly store: JobStore;
  /** Attachment downloads, bounded in number, outside the engine's slot. */
  readonly downloads: PQueue;
  /** Aborted when the bot shuts down: stops downloads in flight. */
  readonly shutdown: AbortSignal;
  readonly progressIntervalMs: number;
  readonly metrics: BotMetrics;
  readonly logger: Logger;
}

/** Runs admitted jobs. */
export class JobLifecycle {
  constructor(private readonly deps: JobLifecycleDeps) {}

  /** One job, from its place in line to the delivered result. */
  async run(plan: JobPlan, reply: JobReply): Promise<void> {
    const { backend, metrics } = this.deps;
    const slot = await backend.reserve(plan.owner.userId);
    const status = this.status(reply);
    try {
      await reply.acknowledge();
      if (plan.image.kind === 'attachment') status.update('Downloading the picture...');
      const image = await this.download(plan.image);

      const request: EditRequest = {
        image,
        ref: plan.ref,
        query: plan.query,
        maskOnly: plan.kind === 'mask',
        ...plan.parameters,
        ...(plan.latentMask !== undefined ? { latentMask: plan.latentMask } : {}),
        ...(plan.variations !== undefined ? { variations: plan.variations } : {}),
      };
      const job = jobToKeep(plan);
      const running = slot.submit(request, statusHooks(status), { target: reply.target, job });
      // Unknown until a remote queue has answered: its first position report says it then.
      const position = slot.position();
      if (position !== undefined) status.update(queueLine(position));
      const result = await running;
      await status.stop();
      metrics.editSeconds.observe({ kind: plan.kind }, result.timings.total / 1000);

      await this.keepAndDeliver(job, image, result, reply, slot);
    } finally {
      await status.stop();
      await slot.release();
    }
  }

  /**
   * A job whose bot process died, taken over here at "run": follows it to its outcome (its place and progress shown
   * in the placeholder again while the token lives), then keep -> deliver with the stored interaction (its token
   * while it lives, else the ladder's channel and DM rungs). Never rejects.
   */
  async resume(orphan: Orphan, reply: JobReply): Promise<void> {
    const { logger, metrics } = this.deps;
    const status = this.status(reply);
    let result: EditOutput;
    try {
      result = await orphan.follow(statusHooks(status));
    } catch (error) {
      await status.stop();
      if (isDiffEditError(error, ErrorCode.HandedOver) || !(await orphan.claimDelivery())) return;
      await reply.fail(userMessageFor(error, logger, { user: orphan.target.userId, kind: orphan.job.kind, resumed: true }));
      metrics.jobEnded(orphan.job.kind, 'failed');
      await orphan.settleDelivery();
      return;
    }
    await status.stop();
    await this.keepAndDeliver(orphan.job, orphan.image, result, reply, orphan);
  }

  /** The placeholder's status line (queue position, progress), edited at most every PROGRESS_INTERVAL_MS. */
  private status(reply: JobReply): ThrottledStatus {
    const { interactionId } = reply.target;
    return new ThrottledStatus(
      (content) => reply.status(content),
      this.deps.progressIntervalMs,
      (error) => this.deps.logger.warn('progress edit failed', { interaction: interactionId, error }),
    );
  }

  /** Keep -> deliver, unless another bot process has (or had) this job's delivery. */
  private async keepAndDeliver(job: NewJob, image: Uint8Array, result: EditOutput, reply: JobReply, guard: DeliveryGuard): Promise<void> {
    const { logger, metrics } = this.deps;
    if (!(await guard.claimDelivery())) {
      logger.info('another bot process delivers this job', { kind: job.kind, user: job.userId });
      return;
    }
    const stored = await this.keep(job, image, result);
    const route = await reply.deliver(resultMessage(job.kind, result, stored));
    metrics.delivered(route);
    if (route === 'none') {
      await this.keepUndelivered(stored, result);
      metrics.jobEnded(job.kind, 'undelivered');
    } else {
      metrics.jobEnded(job.kind, 'delivered');
      const { seed, maskSeed } = result.parameters;
      logger.info('job done', { job: stored?.id, kind: job.kind, user: job.userId, route, seed, maskSeed, ms: result.timings });
    }
    await guard.settleDelivery();
  }

  private async download(source: ImageSource): Promise<Uint8Array> {
    if (source.kind === 'bytes') return source.bytes;
    const { downloads, shutdown } = this.deps;
    return downloads.add<Uint8Array>(() => downloadAttachment(source.info, source.limits, shutdown));
  }

  /**
   * Saves the job for its buttons (a mask job with its mask, which "Edit with this mask" reuses exactly; a job of
   * several candidates with their photos, which "Use k" posts); a disk fault is logged and costs only the buttons.
   */
  private async keep(job: NewJob, image: Uint8Array, result: EditOutput): Promise<StoredJob | undefined> {
    const latentMask = job.kind === 'mask' ? { latentMask: result.packedMask } : {};
    const candidates = result.candidates.length > 1 ? { candidates: result.candidates.map(storedCandidate) } : {};
    try {
      return await this.deps.store.save({ ...job, ...latentMask, ...candidates }, image);
    } catch (error) {
      this.deps.logger.error('could not keep the job: delivering it without buttons', { user: job.userId, error });
      return undefined;
    }
  }

  /** Keeps the whole output (both pictures, seeds, warnings) for a late delivery that posts what this one would have. */
  private async keepUndelivered(stored: StoredJob | undefined, result: EditOutput): Promise<void> {
    const { store, logger } = this.deps;
    if (stored === undefined) {
      logger.error('result lost: no route reached the user and the job store is unavailable', {});
      return;
    }
    try {
      await store.keepUndelivered(stored.id, encodeUndelivered(result));
      logger.error('no route reached the user: result kept as undelivered', { job: stored.id, user: stored.userId });
    } catch (error) {
      logger.error('result lost: no route reached the user and it could not be kept', { job: stored.id, user: stored.userId, error });
    }
  }
}

/** A job's place and progress, as its placeholder shows them. */
function statusHooks(status: ThrottledStatus): EditHooks {
  return {
    onPosition: (position) => status.update(queueLine(position)),
    onStart: () => status.update(queueLine(1)),
    onProgress: (progress) => status.update(progressLine(progress)),
  };
}

/** What the job store keeps of a plan for the result's buttons. */
function jobToKeep(plan: JobPlan): NewJob {
  const variations = plan.variations === undefined ? {} : { variations: plan.variations };
  return { kind: plan.kind, ...plan.owner, ref: plan.ref, query: plan.query, parameters: { ...plan.parameters }, ...variations };
}

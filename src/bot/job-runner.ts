/**
 * One job from admission to the posted result: queue (position shown), download, DiffEdit with throttled
 * progress, store (so buttons work later, across restarts), and the reply with its buttons. Failures of any
 * kind end as a short message to the user; they never reach the queue or the bot.
 */
import { ActionRowBuilder, ButtonBuilder, ButtonStyle } from 'discord.js';
import type { RunControls } from '../engine/diffedit/progress.js';
import type { EditRequest, EditResult } from '../engine/engine.js';
import type { EditParameters } from '../engine/parameters.js';
import type { Logger } from '../logger.js';
import { downloadAttachment, effectiveMaxBytes, type AttachmentInfo, type AttachmentLimits } from './attachments.js';
import { buttonId } from './custom-ids.js';
import type { JobQueue } from './job-queue.js';
import type { JobStore, StoredJob } from './job-store.js';
import { progressLine, queueLine, resultLine } from './messages.js';
import type { ReplyTarget } from './reply-target.js';
import { ThrottledStatus } from './throttled-status.js';
import { userMessageFor } from './user-errors.js';

/** The engine as the bot sees it. */
export interface EditRunner {
  run(request: EditRequest, controls?: RunControls): Promise<EditResult>;
}

/** Where the picture comes from: a fresh attachment, or a stored job's bytes (buttons). */
export type ImageSource =
  | { readonly kind: 'attachment'; readonly info: AttachmentInfo; readonly sizeLimit: number | undefined }
  | { readonly kind: 'bytes'; readonly bytes: Uint8Array };

/** Everything a job needs besides where to reply: what the store keeps of it, plus the picture's source. */
export interface JobInput extends Pick<StoredJob, 'kind' | 'userId' | 'channelId' | 'guildId' | 'ref' | 'query'> {
  readonly parameters: Partial<EditParameters>;
  readonly image: ImageSource;
}

/** What the runner needs. */
export interface JobRunnerDeps {
  readonly engine: EditRunner;
  readonly queue: JobQueue;
  readonly store: JobStore;
  readonly attachmentLimits: AttachmentLimits;
  readonly progressIntervalMs: number;
  readonly logger: Logger;
}

/** Runs jobs through the queue. */
export class JobRunner {
  constructor(private readonly deps: JobRunnerDeps) {}

  /**
   * Admits a job, or throws the queue's typed error (full, shutting down) at once so the caller can answer
   * privately before acknowledging. The returned promise settles when the job has been answered; it never rejects.
   * @param ready resolves once the interaction is acknowledged (its deferral); rejecting it drops the job
   */
  admit(input: JobInput, target: ReplyTarget, ready: Promise<unknown>): Promise<void> {
    const { queue, logger, progressIntervalMs } = this.deps;
    const status = new ThrottledStatus((content) => target.status(content), progressIntervalMs, (error) =>
      logger.warn('progress edit failed', { error }),
    );
    let acknowledged = false;
    const job = queue.enqueue(
      input.userId,
      async (signal) => {
        await ready;
        status.update('Starting...');
        return this.execute(input, signal, status);
      },
      { onPosition: (position) => acknowledged && status.update(queueLine(position)) },
    );
    return (async () => {
      try {
        await ready;
        acknowledged = true;
        const position = queue.positionOf(job.id);
        if (position !== undefined && position > 1) status.update(queueLine(position));
      } catch (error) {
        job.cancel('the interaction could not be acknowledged');
        logger.warn('could not acknowledge the interaction; job dropped', { error });
        return;
      }
      try {
        const { result, stored } = await job.promise;
        await status.stop();
        await target.deliver({
          content: resultLine({
            kind: input.kind,
            ref: result.ref,
            query: result.query,
            seed: result.parameters.seed,
            steps: result.parameters.steps,
            seconds: result.timings.total / 1000,
            coverage: result.coverage,
            warnings: result.warnings,
          }),
          png: result.png,
          fileName: input.kind === 'mask' ? 'mask.png' : 'diffedit.png',
          components: [resultButtons(input.kind, stored.id)],
        });
        logger.info('job done', { job: stored.id, kind: input.kind, seed: result.parameters.seed, ms: result.timings });
      } catch (error) {
        await status.stop();
        const message = userMessageFor(error, logger, { user: input.userId, kind: input.kind });
        await target.fail(message).catch((failError: unknown) => logger.error('could not tell the user about a failure', { error: failError }));
      }
    })();
  }

  private async execute(input: JobInput, signal: AbortSignal, status: ThrottledStatus): Promise<{ result: EditResult; stored: StoredJob }> {
    const image =
      input.image.kind === 'bytes'
        ? input.image.bytes
        : await downloadAttachment(input.image.info, withSizeLimit(this.deps.attachmentLimits, input.image.sizeLimit), signal);
    const result = await this.deps.engine.run(
      { image, ref: input.ref, query: input.query, maskOnly: input.kind === 'mask', ...input.parameters },
      { signal, onProgress: (p) => status.update(progressLine(p)) },
    );
    const stored = await this.deps.store.save(
      {
        kind: input.kind,
        userId: input.userId,
        channelId: input.channelId,
        guildId: input.guildId,
        ref: result.ref,
        query: result.query,
        parameters: { ...result.parameters },
      },
      image,
    );
    return { result, stored };
  }
}

/** The buttons under a result: Reroll and Delete, plus "Edit with this mask" under a mask. */
export function resultButtons(kind: 'diffedit' | 'mask', jobId: string): ActionRowBuilder<ButtonBuilder> {
  const row = new ActionRowBuilder<ButtonBuilder>().addComponents(
    new ButtonBuilder().setCustomId(buttonId('reroll', jobId)).setLabel('Reroll').setEmoji('🎲').setStyle(ButtonStyle.Primary),
  );
  if (kind === 'mask') {
    row.addComponents(new ButtonBuilder().setCustomId(buttonId('edit', jobId)).setLabel('Edit with this mask').setStyle(ButtonStyle.Success));
  }
  row.addComponents(new ButtonBuilder().setCustomId(buttonId('delete', jobId)).setLabel('Delete').setStyle(ButtonStyle.Danger));
  return row;
}

/** The configured limits, tightened by the interaction's own upload limit when it has one. */
function withSizeLimit(limits: AttachmentLimits, sizeLimit: number | undefined): AttachmentLimits {
  return { ...limits, maxBytes: effectiveMaxBytes(limits, sizeLimit) };
}

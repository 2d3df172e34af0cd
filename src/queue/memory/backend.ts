/**
 * QUEUE_BACKEND=memory: the engine in this process behind {@link JobQueue} (one job at a time, round-robin across
 * users, deadlines). The default: nothing to install beyond npm ci.
 */
import type { RunControls } from '../../engine/diffedit/progress.js';
import type { EditRequest, EditResult } from '../../engine/engine.js';
import type { EditBackend, EditSlot } from '../../bot/edit-backend.js';
import type { JobQueue } from './job-queue.js';

/** The engine as the bot sees it. */
export interface EditRunner {
  run(request: EditRequest, controls?: RunControls): Promise<EditResult>;
}

/** Runs edits on `engine`, one at a time, in `queue`'s order. */
export class MemoryBackend implements EditBackend {
  constructor(
    private readonly queue: JobQueue,
    private readonly engine: EditRunner,
  ) {}

  reserve(userId: string): Promise<EditSlot> {
    const ticket = this.queue.reserve(userId);
    return Promise.resolve({
      submit: (request, hooks) =>
        ticket.run((signal) => this.engine.run(request, { signal, onProgress: (p) => hooks.onProgress(p) }), {
          onPosition: (position) => hooks.onPosition(position),
          onStart: () => hooks.onStart(),
        }),
      position: () => ticket.position(),
      release: () => Promise.resolve(ticket.release()),
      // One process, one result event: nothing else can deliver it.
      claimDelivery: () => Promise.resolve(true),
      settleDelivery: () => Promise.resolve(),
    });
  }

  counts(): Promise<{ waiting: number; running: number }> {
    return Promise.resolve({ waiting: this.waiting, running: this.running });
  }

  get waiting(): number {
    return this.queue.waiting;
  }

  get running(): number {
    return this.queue.running;
  }

  shutdown(options: { cancelRunning: boolean }): Promise<void> {
    return this.queue.shutdown(options);
  }
}

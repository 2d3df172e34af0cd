/**
 * Keeps a status message current without flooding Discord: at most one edit per interval, never two at
 * once, and the latest text always wins (intermediate texts are dropped, not queued).
 */

/** A status line that is edited at most every `intervalMs`. */
export class ThrottledStatus {
  private latest: string | undefined;
  private lastSentAt = Number.NEGATIVE_INFINITY;
  private inFlight: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  /**
   * @param send edits the message; its failures are reported to `onError` and never stop the job
   * @param intervalMs least time between two edits
   */
  constructor(
    private readonly send: (content: string) => Promise<unknown>,
    private readonly intervalMs: number,
    private readonly onError: (error: unknown) => void = () => {},
  ) {}

  /** Sets the text; it is sent now if allowed, else when the interval has passed. */
  update(content: string): void {
    if (this.stopped) return;
    this.latest = content;
    this.schedule();
  }

  /** Stops editing: pending text is dropped; resolves once any edit in flight has finished. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    await this.inFlight;
  }

  private schedule(): void {
    if (this.inFlight !== undefined || this.timer !== undefined || this.latest === undefined) return;
    const wait = this.lastSentAt + this.intervalMs - Date.now();
    if (wait > 0) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.schedule();
      }, wait);
      return;
    }
    const content = this.latest;
    this.latest = undefined;
    this.lastSentAt = Date.now();
    this.inFlight = this.send(content)
      .then(
        () => undefined,
        (error: unknown) => this.onError(error),
      )
      .finally(() => {
        this.inFlight = undefined;
        if (!this.stopped) this.schedule();
      });
  }
}

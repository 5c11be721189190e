import type { Logger } from '@nestjs/common';

/**
 * A background job on an unref'd timer (it never keeps the process alive), one run at a time: a run
 * asked for while one is under way joins it. A failed timed run is logged as a warning (what), told to
 * `onFailure` (e.g. a metric) and left for the next; `stop` waits for the run under way.
 */
export class PeriodicJob<Report> {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<Report> | null = null;

  constructor(
    private readonly work: (now: Date) => Promise<Report>,
    private readonly logger: Pick<Logger, 'warn'>,
    /** What a run does, for the warning when it fails, e.g. `closing consultations`. */
    private readonly what: string,
    private readonly onFailure: (error: unknown) => void = () => {},
  ) {}

  start(intervalMs: number): void {
    this.timer = setInterval(() => {
      this.run(new Date()).catch((error: unknown) => {
        this.onFailure(error);
        this.logger.warn(`${this.what} failed: ${(error as Error).message.slice(0, 300)}`);
      });
    }, intervalMs);
    this.timer.unref();
  }

  /** Whether the timer runs (started, not stopped). */
  get scheduled(): boolean {
    return this.timer !== null;
  }

  /** One run as of `now` (or the one already running). */
  run(now: Date): Promise<Report> {
    this.running ??= this.work(now).finally(() => (this.running = null));
    return this.running;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running?.catch(() => undefined);
  }
}

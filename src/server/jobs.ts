import type { FastifyBaseLogger } from 'fastify';

/** A background job the app starts when it is ready and stops when it closes. */
export interface Job {
  readonly name: string;
  start(): void;
  stop(): Promise<void> | void;
}

/**
 * Runs `tick` every `intervalMs`. A tick never overlaps the previous one, a failing tick is
 * logged and the schedule goes on, and `stop()` waits for a running tick to finish.
 */
export class IntervalJob implements Job {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    readonly name: string,
    private readonly intervalMs: number,
    private readonly tick: () => Promise<unknown>,
    private readonly log: FastifyBaseLogger,
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.runOnce(), this.intervalMs);
    this.timer.unref();
  }

  /** Runs one tick now unless one is already running; resolves when it is done. */
  runOnce(): Promise<void> {
    if (!this.running) {
      this.running = this.tick()
        .then(() => undefined)
        .catch((err: unknown) => this.log.error({ err, job: this.name }, 'background job failed'))
        .finally(() => {
          this.running = undefined;
        });
    }
    return this.running;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}

/** The app's jobs: started together on ready, stopped together (in reverse) on close. */
export class JobSet {
  private readonly jobs: Job[] = [];
  private started = false;

  add(job: Job): void {
    this.jobs.push(job);
    if (this.started) job.start();
  }

  startAll(): void {
    this.started = true;
    for (const job of this.jobs) job.start();
  }

  async stopAll(): Promise<void> {
    this.started = false;
    for (const job of [...this.jobs].reverse()) await job.stop();
  }
}

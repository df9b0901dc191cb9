import { AsyncLocalStorage } from 'node:async_hooks';
import type { FastifyBaseLogger } from 'fastify';
import type { Closable, LeaderTerm, Replicas } from '../db/replicas.js';

/** A background job the app starts when it is ready and stops when it closes. */
export interface Job {
  readonly name: string;
  /**
   * Where it runs when several replicas share one PostgreSQL database. `leader` (the default):
   * the job works on the shared data (pruning, liveness, sending webhooks), and only the one
   * replica that leads runs it. `every-replica`: it works on this process's own state (its
   * counters, its live subscribers) and runs everywhere.
   */
  readonly runsOn?: 'leader' | 'every-replica';
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

/**
 * The app's jobs: started together on ready, stopped together (in reverse) on close. Jobs for
 * the leader start once this replica leads (at once on SQLite, where the one process always
 * does) and stop if it stops leading, so another replica can take over.
 */
export class JobSet {
  private readonly jobs: Job[] = [];
  private started = false;
  private leading = false;
  /**
   * The leadership the leader's jobs run under: their timers are started inside it, so every
   * change a job commits carries it, and the committer refuses the change once another
   * replica has taken over (fencing; see Replicas.stillLeads).
   */
  private readonly term = new AsyncLocalStorage<LeaderTerm>();
  private currentTerm: LeaderTerm | undefined;
  private leadership: Closable | undefined;
  /** Stopping the leader's jobs, when under way: starting again waits for it. */
  private stoppingLeaderJobs: Promise<void> = Promise.resolve();

  constructor(
    private readonly replicas: Replicas,
    private readonly log: FastifyBaseLogger,
  ) {}

  /** Whether this replica runs the leader's jobs now (always, once started, on SQLite). */
  get isLeader(): boolean {
    return this.leading;
  }

  add(job: Job): void {
    this.jobs.push(job);
    if (!this.started) return;
    if (job.runsOn === 'every-replica') job.start();
    else if (this.leading) this.startUnderTerm(job);
  }

  /** The leadership the calling code runs under: set for the leader's jobs, undefined elsewhere. */
  leaderTerm(): LeaderTerm | undefined {
    return this.term.getStore();
  }

  /**
   * Told by the committer that a job's change was refused: `term` is over, another replica
   * leads. Stops the leader's jobs and competes for leadership again.
   */
  leadershipLost(term: LeaderTerm): void {
    if (!this.started || this.currentTerm?.term !== term.term) return;
    this.log.warn({ term: term.term }, 'another replica took over the background jobs; stepping down');
    const leadership = this.leadership;
    this.leadership = undefined;
    // Out of the old term's context: what follows belongs to no job of it.
    this.term.exit(() =>
      void this.stopLeaderJobs()
        .then(() => leadership?.close())
        .then(() => {
          if (this.started && !this.leadership) this.compete();
        }),
    );
  }

  startAll(): void {
    this.started = true;
    for (const job of this.everyReplica()) job.start();
    this.compete();
  }

  private compete(): void {
    this.leadership = this.replicas.lead('jobs', (leading, term) => {
      if (leading) void this.startLeaderJobs(term);
      else void this.stopLeaderJobs();
    });
  }

  private startUnderTerm(job: Job): void {
    if (this.currentTerm) this.term.run(this.currentTerm, () => job.start());
    else job.start();
  }

  async stopAll(): Promise<void> {
    this.started = false;
    await this.stopLeaderJobs();
    await this.leadership?.close();
    this.leadership = undefined;
    for (const job of this.everyReplica().reverse()) await job.stop();
  }

  private everyReplica(): Job[] {
    return this.jobs.filter((job) => job.runsOn === 'every-replica');
  }

  private forLeader(): Job[] {
    return this.jobs.filter((job) => job.runsOn !== 'every-replica');
  }

  private async startLeaderJobs(term: LeaderTerm | undefined): Promise<void> {
    await this.stoppingLeaderJobs;
    if (!this.started || this.leading) return;
    this.leading = true;
    this.currentTerm = term;
    // Said at info: with several replicas, this is how an operator sees which one leads.
    this.log.info({ term: term?.term }, 'running the background jobs');
    for (const job of this.forLeader()) this.startUnderTerm(job);
  }

  private stopLeaderJobs(): Promise<void> {
    if (!this.leading) return this.stoppingLeaderJobs;
    this.leading = false;
    this.currentTerm = undefined;
    if (this.started) this.log.warn('stopped running the background jobs: leadership lost; another replica takes over');
    this.stoppingLeaderJobs = (async () => {
      for (const job of this.forLeader().reverse()) {
        try {
          await job.stop();
        } catch (err) {
          this.log.error({ err, job: job.name }, 'background job did not stop cleanly');
        }
      }
    })();
    return this.stoppingLeaderJobs;
  }
}

import type { FastifyInstance, FastifyReply } from 'fastify';
import type { EventHub, KoorEvent } from '../events/hub.js';
import { badRequest } from './errors.js';
import { parseDuration } from './duration.js';

/**
 * Long polls: `?wait=30s` holds a request until its answer is there (a message arrives, a
 * lease is free, an event is published) instead of the client asking again and again.
 * Committed events wake the waiting requests; the hub also carries what other replicas
 * commit, so a wait on one replica ends for a change made on another.
 */

/** The longest a request may be held. */
export const MAX_WAIT_MS = 5 * 60_000;

/** Reads a `wait` duration (`30s`, `500ms`); absent means 0 (answer at once). */
export function parseWait(value: string | undefined, param = 'wait'): number {
  if (value === undefined || value === '') return 0;
  const ms = parseDuration(value);
  if (ms === null) throw badRequest(`invalid ${param} "${value}": expected a duration like 500ms, 30s or 2m`);
  if (ms > MAX_WAIT_MS) throw badRequest(`invalid ${param} "${value}": at most 5m`);
  return ms;
}

export interface LongPoll<T> {
  /** Tries to answer; undefined while there is nothing to answer yet. */
  attempt(): Promise<T | undefined>;
  /** Whether this committed event may change the answer (then `attempt` runs again). */
  wakesOn(event: KoorEvent): boolean;
  /** A time (ms since the epoch) to try again without any event, e.g. when a lease runs out. */
  retryAt?(): number | undefined;
  /** The answer when the wait is over (or the client went away) with nothing better. */
  timedOut(): T | Promise<T>;
}

/**
 * Answers `poll` within `waitMs`: at once if it can, else as soon as an event it wakes on (or
 * its retry time) lets it, else with `timedOut()`. The hub is listened to before each attempt,
 * so an event committed while an attempt reads is not missed. Ends early when `signal` aborts.
 */
export async function holdUntilAnswered<T>(hub: EventHub, poll: LongPoll<T>, waitMs: number, signal?: AbortSignal): Promise<T> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const wake = new Wakeup(hub, poll.wakesOn, signal);
    try {
      const answer = await poll.attempt();
      if (answer !== undefined) return answer;
      if (Date.now() >= deadline || signal?.aborted) return await poll.timedOut();
      await wake.until(Math.min(deadline, poll.retryAt?.() ?? Infinity));
    } finally {
      wake.close();
    }
  }
}

/** One wait for the first of: a matching event, a time, an abort. Listens from construction. */
class Wakeup {
  private fired = false;
  private resolve: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly unsubscribe: () => void;
  private readonly onAbort = () => this.fire();

  constructor(hub: EventHub, matches: (event: KoorEvent) => boolean, private readonly signal?: AbortSignal) {
    this.unsubscribe = hub.subscribe((event) => {
      if (matches(event)) this.fire();
    });
    signal?.addEventListener('abort', this.onAbort);
  }

  private fire(): void {
    this.fired = true;
    this.resolve?.();
  }

  until(time: number): Promise<void> {
    if (this.fired) return Promise.resolve();
    return new Promise((resolve) => {
      this.resolve = resolve;
      this.timer = setTimeout(resolve, Math.max(0, time - Date.now()));
    });
  }

  close(): void {
    clearTimeout(this.timer);
    this.unsubscribe();
    this.signal?.removeEventListener('abort', this.onAbort);
  }
}

/**
 * Call when registering routes that hold requests. Returns what makes each held request's
 * signal: it aborts when the client goes away before its answer, or when the app closes (a
 * held request must not keep a shutdown waiting for minutes).
 */
export function heldRequests(app: FastifyInstance): (reply: FastifyReply) => AbortSignal {
  const shutdown = new AbortController();
  app.addHook('preClose', async () => shutdown.abort());
  return (reply) => {
    const gone = new AbortController();
    reply.raw.once('close', () => {
      if (!reply.raw.writableFinished) gone.abort();
    });
    return AbortSignal.any([gone.signal, shutdown.signal]);
  };
}

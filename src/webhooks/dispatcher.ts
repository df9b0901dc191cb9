import type { Selectable } from 'kysely';
import type { AppContext } from '../kernel/context.js';
import type { Job } from '../kernel/jobs.js';
import type { WriteTx } from '../commit/change.js';
import { eventJson, type KoorEvent } from '../events/hub.js';
import { storedEventJson } from '../events/history.js';
import type { EventRetainer } from '../events/prune.js';
import type { TopicPattern } from '../events/topics.js';
import { maskCredentials } from '../outbound/urls.js';
import { MAX_CONSECUTIVE_FAILURES, retryDelayMs, sendDelivery } from './delivery.js';
import { loadActiveWebhooks, WEBHOOKS_CHANGED } from './webhooks.js';
import type { WebhookDeliveryRow, WebhookRow } from './tables.js';
import './tables.js';

/** How long in-flight deliveries may finish when the app closes before they are cut off (and left pending). */
const STOP_GRACE_MS = 1_000;
/** Deliveries on their way at once, across all webhooks: bounds the memory that sending holds. */
const MAX_CONCURRENT_SENDS = 32;
/** Event bodies kept in memory for sending (the same event usually goes to several webhooks). */
const BODY_CACHE_CHARS = 64 * 1024 * 1024;
/** Most deliveries one webhook may have waiting; older ones are dropped past it (see trimBacklogs). */
export const MAX_PENDING_PER_WEBHOOK = 10_000;

/** Events stored by a webhook's pending deliveries stay until they are sent (the pruning job asks). */
export const pendingDeliveryEvents: EventRetainer = (trx) => trx.selectFrom('webhook_deliveries').select('event_id');

declare module '../kernel/context.js' {
  interface AppContext {
    /** Stores and sends webhook deliveries (see WebhookDispatcher). */
    webhooks: WebhookDispatcher;
  }
}

/** A webhook's oldest pending delivery, with where and how to send it. */
type PendingHead = Pick<Selectable<WebhookDeliveryRow>, 'id' | 'webhook_id' | 'event_id' | 'topic' | 'attempts' | 'next_attempt_at'> &
  Pick<WebhookRow, 'url' | 'secret'>;

/**
 * Webhook delivery, in two halves that meet in the `webhook_deliveries` table:
 *
 * - one pending delivery per matching active webhook is stored in the same transaction as
 *   its event (the committer's stored-event hook), so a delivery is never lost between the
 *   two; publishers never wait on the webhooks themselves. A delivery refers to its stored
 *   event (no copy: one big event matching many webhooks is stored once). Every replica does
 *   this for the events it stores (the `storing` job);
 * - a worker sends each webhook's oldest pending delivery, one at a time per webhook so a
 *   receiver sees its events in order; a failure is retried with backoff, a success deletes
 *   the row. Rows left pending at shutdown are sent by the next start. Only the leading
 *   replica sends (this job), woken by events stored on any replica.
 */
export class WebhookDispatcher implements Job {
  readonly name = 'webhooks.delivery';
  /** Stores deliveries with the events of this replica, and keeps its list of webhooks fresh. */
  readonly storing: Job = {
    name: 'webhooks.store',
    runsOn: 'every-replica',
    start: () => {
      const stopStoring = this.ctx.committer.onEventStored((trx, event) => this.store(trx, event));
      const listening = this.ctx.db.replicas.listen(WEBHOOKS_CHANGED, () => {
        this.refresh().catch((err: unknown) => this.ctx.log.error({ err }, 'cannot reload the webhooks'));
      });
      this.stopStoringJob = async () => {
        stopStoring();
        await listening.close();
      };
    },
    stop: async () => {
      await this.stopStoringJob?.();
      this.stopStoringJob = undefined;
    },
  };
  private stopStoringJob: (() => Promise<void>) | undefined;
  /** Deliveries answered with a 2xx, and failed attempts, since start (for the metrics). */
  deliveries = 0;
  failures = 0;
  /**
   * Per webhook, the delivery this process last finished trying, and when it may be tried
   * again (undefined once it was delivered and deleted). The list of pending deliveries is
   * read while others are being sent; a list read just before an attempt ended still shows
   * that delivery as it was, and must not send it again (or retry it before its time).
   */
  private readonly settled = new Map<string, { id: number; retryAt?: number }>();
  private hooks: { id: string; patterns: TopicPattern[] }[] = [];
  private unsubscribe: (() => void) | undefined;
  private readonly sending = new Map<string, Promise<void>>();
  private readonly bodies = new EventBodies(BODY_CACHE_CHARS);
  private shutdown = new AbortController();
  private stopped = true;
  private timer: NodeJS.Timeout | undefined;
  private timerDue = Infinity;
  private passing = false;
  private passAgain = false;

  constructor(private readonly ctx: AppContext) {}

  /** Re-reads which webhooks are active; call after creating, deleting or disabling one. */
  async refresh(): Promise<void> {
    this.hooks = await loadActiveWebhooks(this.ctx);
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.shutdown = new AbortController();
    // Once the event is committed (and emitted), its deliveries can be sent.
    this.unsubscribe = this.ctx.hub.subscribe((event) => {
      if (this.targetsOf(event).length === 0) return;
      // Encoded once already for live subscribers; kept so that sending needs no read.
      this.bodies.offer(event.id, eventJson(event).toString('utf8'));
      this.wake();
    });
    this.wake();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    clearTimeout(this.timer);
    this.timerDue = Infinity;
    const inFlight = Promise.all(this.sending.values());
    const grace = new Promise<void>((resolve) => setTimeout(resolve, STOP_GRACE_MS).unref());
    await Promise.race([inFlight, grace]);
    this.shutdown.abort();
    await inFlight;
  }

  private targetsOf(event: KoorEvent): { id: string; patterns: TopicPattern[] }[] {
    return this.hooks.filter((hook) => hook.patterns.some((p) => p.matches(event.topic)));
  }

  /** Stores the event's pending deliveries, inside the transaction that stores the event. */
  private async store(trx: WriteTx, event: KoorEvent): Promise<void> {
    const targets = this.targetsOf(event);
    if (targets.length === 0) return;
    const now = new Date().toISOString();
    const rows = targets.map((hook) => ({
      webhook_id: hook.id,
      event_id: event.id,
      topic: event.topic,
      attempts: 0,
      next_attempt_at: now,
      last_error: '',
      created_at: now,
    }));
    await trx.insertInto('webhook_deliveries').values(rows).execute();
  }

  private wake(): void {
    this.schedule(0);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    const due = Date.now() + Math.max(0, delayMs);
    if (this.timer && due >= this.timerDue) return;
    clearTimeout(this.timer);
    this.timerDue = due;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerDue = Infinity;
      void this.pass();
    }, Math.max(0, delayMs));
    this.timer.unref();
  }

  /** Starts sending every webhook's oldest pending delivery that is due and not already on its way. */
  private async pass(): Promise<void> {
    if (this.passing) {
      this.passAgain = true;
      return;
    }
    this.passing = true;
    try {
      do {
        this.passAgain = false;
        const heads = await this.pendingHeads();
        const now = Date.now();
        for (const head of heads) {
          if (this.stopped) return;
          // The others wait for a send to finish (which wakes the next pass).
          if (this.sending.size >= MAX_CONCURRENT_SENDS) break;
          if (this.sending.has(head.webhook_id)) continue;
          const settled = this.settled.get(head.webhook_id);
          if (settled && head.id < settled.id) continue;
          if (settled && head.id === settled.id && settled.retryAt === undefined) continue;
          const due = Math.max(Date.parse(head.next_attempt_at), settled?.id === head.id ? settled.retryAt! : 0);
          if (due > now) {
            this.schedule(due - now);
            continue;
          }
          const sending = this.attempt(head)
            .catch((err: unknown) => this.ctx.log.error({ err, webhook: head.webhook_id }, 'webhook delivery failed'))
            .finally(() => {
              this.sending.delete(head.webhook_id);
              this.wake();
            });
          this.sending.set(head.webhook_id, sending);
        }
      } while (this.passAgain && !this.stopped);
    } catch (err) {
      this.ctx.log.error({ err }, 'cannot read pending webhook deliveries');
      this.schedule(5_000);
    } finally {
      this.passing = false;
    }
  }

  private pendingHeads(): Promise<PendingHead[]> {
    return this.ctx.db.query
      .selectFrom('webhook_deliveries as d')
      .innerJoin('webhooks as w', 'w.id', 'd.webhook_id')
      .select(['d.id', 'd.webhook_id', 'd.event_id', 'd.topic', 'd.attempts', 'd.next_attempt_at', 'w.url', 'w.secret'])
      .where('w.active', '=', 1)
      .where('d.id', 'in', (eb) =>
        eb.selectFrom('webhook_deliveries').select((e) => e.fn.min<number>('id').as('first_id')).groupBy('webhook_id'),
      )
      .execute();
  }

  /** The event's JSON, from memory when it was emitted recently, else from the events table. */
  private async eventBody(id: number): Promise<string | null> {
    const cached = this.bodies.get(id);
    if (cached !== undefined) return cached;
    const stored = await storedEventJson(this.ctx, id);
    if (stored !== null) this.bodies.offer(id, stored);
    return stored;
  }

  private async attempt(head: PendingHead): Promise<void> {
    const { ctx } = this;
    const body = await this.eventBody(Number(head.event_id));
    if (body === null) {
      // Its event is gone (a database restored from before deliveries referred to events).
      ctx.log.warn({ webhook: head.webhook_id, event: head.event_id }, 'webhook delivery dropped: its event no longer exists');
      await this.forget(head.id);
      this.settled.set(head.webhook_id, { id: head.id });
      return;
    }
    const result = await sendDelivery(
      { url: head.url, secret: head.secret },
      { topic: head.topic, eventId: Number(head.event_id), body },
      { policy: ctx.outbound, timeoutMs: ctx.config.webhookTimeoutMs, userAgent: `koor/${ctx.version}`, signal: this.shutdown.signal },
    );
    if (!result.ok && result.aborted) return; // left pending for the next start
    const now = new Date().toISOString();

    if (result.ok) {
      this.deliveries++;
      await ctx.commit(
        async (trx) => {
          await trx.deleteFrom('webhook_deliveries').where('id', '=', head.id).execute();
          await trx.updateTable('webhooks').set({ fail_count: 0, last_fired: now }).where('id', '=', head.webhook_id).execute();
          return { value: undefined };
        },
        { emits: false },
      );
      this.settled.set(head.webhook_id, { id: head.id });
      return;
    }

    this.failures++;
    const disabled = await ctx.commit(async (trx) => {
      await trx
        .updateTable('webhooks')
        .set((eb) => ({ fail_count: eb('fail_count', '+', 1), last_fired: now }))
        .where('id', '=', head.webhook_id)
        .execute();
      const hook = await trx.selectFrom('webhooks').select(['url', 'fail_count', 'active']).where('id', '=', head.webhook_id).executeTakeFirst();
      if (!hook) return { value: false };
      if (hook.fail_count >= MAX_CONSECUTIVE_FAILURES && hook.active === 1) {
        await trx.updateTable('webhooks').set({ active: 0 }).where('id', '=', head.webhook_id).execute();
        // Nothing will send them any more.
        await trx.deleteFrom('webhook_deliveries').where('webhook_id', '=', head.webhook_id).execute();
        return {
          value: true,
          events: [{ topic: 'webhook.disabled', data: { id: head.webhook_id, url: maskCredentials(hook.url) }, source: '' }],
          notify: [WEBHOOKS_CHANGED],
        };
      }
      const retryAt = Date.now() + retryDelayMs(head.attempts + 1);
      await trx
        .updateTable('webhook_deliveries')
        .set({ attempts: head.attempts + 1, next_attempt_at: new Date(retryAt).toISOString(), last_error: result.error.slice(0, 500) })
        .where('id', '=', head.id)
        .execute();
      return { value: false, afterCommit: () => this.settled.set(head.webhook_id, { id: head.id, retryAt }) };
    });

    if (disabled) {
      ctx.log.warn({ webhook: head.webhook_id, failures: MAX_CONSECUTIVE_FAILURES }, 'webhook disabled');
      await this.refresh();
    }
  }

  private async forget(deliveryId: number): Promise<void> {
    await this.ctx.commit(
      async (trx) => {
        await trx.deleteFrom('webhook_deliveries').where('id', '=', deliveryId).execute();
        return { value: undefined };
      },
      { emits: false },
    );
  }

  /**
   * Bounds what a slow or unreachable webhook keeps waiting on disk: past
   * MAX_PENDING_PER_WEBHOOK pending deliveries, its oldest are dropped (and logged). A webhook
   * that fails outright is disabled long before; this is for one that keeps up too slowly.
   */
  async trimBacklogs(): Promise<number> {
    const { ctx } = this;
    const backlogs = await ctx.db.query
      .selectFrom('webhook_deliveries')
      .select((eb) => ['webhook_id', eb.fn.countAll<number>().as('pending')])
      .groupBy('webhook_id')
      .having((eb) => eb.fn.countAll(), '>', MAX_PENDING_PER_WEBHOOK)
      .execute();
    let dropped = 0;
    for (const { webhook_id: webhookId, pending } of backlogs) {
      const excess = Number(pending) - MAX_PENDING_PER_WEBHOOK;
      dropped += await ctx.commit(
        async (trx) => {
          const oldest = trx.selectFrom('webhook_deliveries').select('id').where('webhook_id', '=', webhookId).orderBy('id').limit(excess);
          const result = await trx.deleteFrom('webhook_deliveries').where('id', 'in', oldest).executeTakeFirst();
          return { value: Number(result.numDeletedRows) };
        },
        { emits: false },
      );
      ctx.log.warn({ webhook: webhookId, dropped: excess, kept: MAX_PENDING_PER_WEBHOOK }, 'webhook backlog too long: oldest deliveries dropped');
    }
    return dropped;
  }
}

/**
 * Event JSON by id, up to a number of characters in all, oldest dropped first: a burst of
 * deliveries of one event reads (or encodes) it once, however many webhooks it goes to.
 */
class EventBodies {
  private readonly bodies = new Map<number, string>();
  private chars = 0;

  constructor(private readonly maxChars: number) {}

  get(id: number): string | undefined {
    return this.bodies.get(id);
  }

  offer(id: number, body: string): void {
    if (this.bodies.has(id) || body.length > this.maxChars) return;
    this.bodies.set(id, body);
    this.chars += body.length;
    for (const [oldest, dropped] of this.bodies) {
      if (this.chars <= this.maxChars) break;
      this.bodies.delete(oldest);
      this.chars -= dropped.length;
    }
  }
}

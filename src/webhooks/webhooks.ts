import type { Actor, AppContext } from '../kernel/context.js';
import { badRequest, conflict, notFound } from '../kernel/errors.js';
import { OutboundDenied, deniedMessage } from '../outbound/policy.js';
import { maskCredentials } from '../outbound/urls.js';
import { TopicPattern, TopicPatternError } from '../events/topics.js';
import type { WebhookRow } from './tables.js';
import { sendDelivery } from './delivery.js';
import './tables.js';

/** The audit actions of the webhooks domain, named once. */
export const WEBHOOK_ACTIONS = { create: 'webhook.create', delete: 'webhook.delete', test: 'webhook.test' } as const;

/**
 * A webhook as clients see it: the secret never leaves the server (`has_secret` says whether
 * deliveries are signed), and credentials in the URL are shown as `***`.
 */
// Webhook and NewWebhook are the static types of the route schemas (schemas.ts).
import type { NewWebhook, Webhook } from './schemas.js';
export type { NewWebhook, Webhook };

function toWebhook(row: WebhookRow): Webhook {
  return {
    id: row.id,
    url: maskCredentials(row.url),
    has_secret: row.secret !== '',
    patterns: JSON.parse(row.patterns) as string[],
    active: row.active === 1,
    created_at: row.created_at,
    fail_count: row.fail_count,
    last_fired: row.last_fired,
  };
}

/**
 * Accepts only absolute http(s) URLs the outbound policy lets the server call (not its own
 * API either): a webhook must be something we can POST to, and nothing we must not.
 */
export async function checkWebhookUrl(ctx: AppContext, url: string): Promise<void> {
  const shown = maskCredentials(url);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw badRequest(`invalid url "${shown}": expected an absolute http:// or https:// URL`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw badRequest(`invalid url "${shown}": only http:// and https:// URLs are accepted`);
  }
  try {
    await ctx.outbound.checkUrl(parsed);
  } catch (err) {
    if (err instanceof OutboundDenied) throw badRequest(deniedMessage('webhook url', shown, err), { reason: 'outbound_denied' });
    throw err;
  }
}

/** Compiles a webhook's patterns; a bad one is a 400 naming it. */
export function compilePatterns(patterns: string[]): TopicPattern[] {
  return patterns.map((pattern) => {
    try {
      return TopicPattern.compile(pattern);
    } catch (err) {
      if (err instanceof TopicPatternError) throw badRequest(`invalid patterns: ${err.message}`);
      throw err;
    }
  });
}

export async function createWebhook(ctx: AppContext, input: NewWebhook, actor: Actor): Promise<Webhook> {
  await checkWebhookUrl(ctx, input.url);
  const patterns = input.patterns ?? ['*'];
  if (patterns.length === 0) throw badRequest('invalid patterns: give at least one pattern (or leave it out for "*")');
  compilePatterns(patterns);
  const row: WebhookRow = {
    id: input.id,
    url: input.url,
    patterns: JSON.stringify(patterns),
    secret: input.secret ?? '',
    active: 1,
    fail_count: 0,
    created_at: new Date().toISOString(),
    last_fired: null,
  };
  const created = await ctx.commit(async (trx) => {
    const existing = await trx.selectFrom('webhooks').select('id').where('id', '=', input.id).executeTakeFirst();
    if (existing) throw conflict(`webhook already exists: ${input.id}`);
    // Counted in the change, so that concurrent creations cannot pass the limit together.
    const { n } = await trx.selectFrom('webhooks').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    if (Number(n) >= ctx.config.maxWebhooks) {
      throw conflict(`this server holds ${ctx.config.maxWebhooks} webhooks, its limit (--max-webhooks): delete one first`, { reason: 'limit_reached' });
    }
    await trx.insertInto('webhooks').values(row).execute();
    return {
      value: toWebhook(row),
      audit: { actor: actor.id, action: WEBHOOK_ACTIONS.create, resource: input.id, detail: `url=${maskCredentials(input.url)} patterns=${patterns.join(',')}` },
      notify: [WEBHOOKS_CHANGED],
    };
  });
  // Known before the answer, so no event published after it slips past the new webhook.
  await ctx.webhooks.refresh();
  return created;
}

export async function listWebhooks(ctx: AppContext): Promise<Webhook[]> {
  const rows = await ctx.db.query.selectFrom('webhooks').selectAll().orderBy('created_at').orderBy('id').execute();
  return rows.map(toWebhook);
}

/** A webhook with its secret, for sending; throws 404 when there is none. */
export async function webhookForDelivery(ctx: AppContext, id: string): Promise<WebhookRow> {
  const row = await ctx.db.query.selectFrom('webhooks').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw notFound('webhook', id);
  return row;
}

/**
 * Notified when the set of active webhooks changes, so that every replica (each keeps the
 * list to match events against as they are stored) reads it again.
 */
export const WEBHOOKS_CHANGED = 'koor_webhooks';

/** Removes a webhook and whatever it still had pending. */
export async function deleteWebhook(ctx: AppContext, id: string, actor: Actor): Promise<void> {
  await ctx.commit(async (trx) => {
    const result = await trx.deleteFrom('webhooks').where('id', '=', id).executeTakeFirst();
    if (Number(result.numDeletedRows) === 0) throw notFound('webhook', id);
    await trx.deleteFrom('webhook_deliveries').where('webhook_id', '=', id).execute();
    return { value: undefined, audit: { actor: actor.id, action: WEBHOOK_ACTIONS.delete, resource: id }, notify: [WEBHOOKS_CHANGED] };
  });
  await ctx.webhooks.refresh();
}

/** Active webhooks with their compiled patterns, for matching events as they are published. */
export async function loadActiveWebhooks(ctx: AppContext): Promise<{ id: string; patterns: TopicPattern[] }[]> {
  const rows = await ctx.db.query.selectFrom('webhooks').select(['id', 'patterns']).where('active', '=', 1).execute();
  return rows.map((row) => ({ id: row.id, patterns: compilePatterns(JSON.parse(row.patterns) as string[]) }));
}

/**
 * Sends a `webhook.test` event to one webhook now, signed like any delivery. The event is not
 * stored (its id is 0) and the outcome does not count towards the webhook's failures.
 */
export async function testWebhook(ctx: AppContext, id: string, actor: Actor): Promise<void> {
  const hook = await webhookForDelivery(ctx, id);
  const event = { id: 0, topic: 'webhook.test', data: { webhook_id: id }, source: '', created_at: new Date().toISOString() };
  const result = await sendDelivery(
    { url: hook.url, secret: hook.secret },
    { topic: event.topic, eventId: event.id, body: JSON.stringify(event) },
    { policy: ctx.outbound, timeoutMs: ctx.config.webhookTimeoutMs, userAgent: `koor/${ctx.version}` },
  );
  if (!result.ok) throw badRequest(`webhook test failed for ${id}: ${result.error}`, result.denied ? { reason: 'outbound_denied' } : {});
  await ctx.commit(
    async () => ({ value: undefined, audit: { actor: actor.id, action: WEBHOOK_ACTIONS.test, resource: id, detail: `status=${result.status}` } }),
    { emits: false },
  );
}

import { randomUUID } from 'node:crypto';
import { instanceActor, type Actor, type AppContext } from '../kernel/context.js';
import type { Change, NewEvent, WriteTx } from '../commit/change.js';
import { badRequest, HttpError, notFound } from '../kernel/errors.js';
import { optionalText } from '../kernel/text.js';
import { hashToken, newInstanceToken } from './tokens.js';
import type { InstanceRow } from './tables.js';
import './tables.js';

export const INSTANCE_STATUSES = ['pending', 'active', 'stale'] as const;

/** The audit actions of the instance registry, named once. */
export const INSTANCE_ACTIONS = {
  register: 'instance.register',
  heartbeat: 'instance.heartbeat',
  intent: 'instance.intent',
  activate: 'instance.activate',
  capabilities: 'instance.capabilities',
  deregister: 'instance.deregister',
  livenessCheck: 'liveness.check',
} as const;
export type InstanceStatus = (typeof INSTANCE_STATUSES)[number];

// Instance, RegisteredInstance, InstanceFilter and RegisterInput are the static types of the
// route schemas (schemas.ts).
import type { Instance, InstanceFilter, RegisteredInstance, RegisterInput } from './schemas.js';
export type { Instance, InstanceFilter, RegisteredInstance, RegisterInput };

// Limits keep one agent from filling the registry with megabytes; they are far above real use.
export const LIMITS = { name: 200, workspace: 1000, intent: 2000, stack: 200, capability: 200, capabilities: 100, baseUrl: 2000 };

function toInstance(row: InstanceRow): Instance {
  let capabilities: string[] = [];
  try {
    const parsed: unknown = JSON.parse(row.capabilities);
    if (Array.isArray(parsed)) capabilities = parsed.filter((c): c is string => typeof c === 'string');
  } catch {
    // A damaged list reads as empty rather than breaking every listing.
  }
  return {
    id: row.id,
    name: row.name,
    workspace: row.workspace,
    intent: row.intent,
    stack: row.stack,
    capabilities,
    status: row.status as InstanceStatus,
    registered_at: row.registered_at,
    last_seen: row.last_seen,
    base_url: row.base_url,
  };
}

function checkName(value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '') throw badRequest('name is required and must be a non-empty string');
  const name = value.trim();
  if (name.length > LIMITS.name) throw badRequest(`name is longer than ${LIMITS.name} characters`);
  return name;
}

/** Checks a capability list and drops duplicates, keeping the first occurrence's order. */
export function checkCapabilities(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw badRequest('capabilities must be an array of strings');
  if (value.length > LIMITS.capabilities) throw badRequest(`capabilities has more than ${LIMITS.capabilities} entries`);
  const seen = new Set<string>();
  for (const [i, item] of value.entries()) {
    if (typeof item !== 'string' || item.trim() === '') throw badRequest(`capabilities[${i}] must be a non-empty string`);
    if (item.length > LIMITS.capability) throw badRequest(`capabilities[${i}] is longer than ${LIMITS.capability} characters`);
    seen.add(item.trim());
  }
  return [...seen];
}

function checkBaseUrl(value: unknown): string {
  const text = optionalText('base_url', value, LIMITS.baseUrl).trim();
  if (text === '') return '';
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw badRequest(`base_url "${text}" is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw badRequest(`base_url "${text}" must be an http or https URL`);
  return text.replace(/\/+$/, '');
}

const eventSource = (actor: Actor) => actor.instanceId ?? '';

const agentEvent = (topic: string, instance: Instance, actor: Actor): NewEvent => ({ topic, data: instance, source: eventSource(actor) });

export async function listInstances(ctx: AppContext, filter: InstanceFilter = {}): Promise<Instance[]> {
  let query = ctx.db.query.selectFrom('instances').selectAll();
  if (filter.name) query = query.where('name', '=', filter.name);
  if (filter.workspace) query = query.where('workspace', '=', filter.workspace);
  if (filter.stack) query = query.where('stack', '=', filter.stack);
  if (filter.status) query = query.where('status', '=', filter.status);
  const rows = await query.orderBy('registered_at').orderBy('id').execute();
  const instances = rows.map(toInstance);
  // Capabilities are a JSON list; the registry is small, so matching them here stays portable.
  return filter.capability ? instances.filter((i) => i.capabilities.includes(filter.capability!)) : instances;
}

export async function listStaleInstances(ctx: AppContext): Promise<Instance[]> {
  return listInstances(ctx, { status: 'stale' });
}

/** The instance, or null when there is none with this id. */
export async function findInstance(ctx: AppContext, id: string): Promise<Instance | null> {
  const row = await ctx.db.query.selectFrom('instances').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? toInstance(row) : null;
}

/** The instance; throws 404 when there is none with this id. */
export async function getInstance(ctx: AppContext, id: string): Promise<Instance> {
  const instance = await findInstance(ctx, id);
  if (!instance) throw notFound('instance', id);
  return instance;
}

/**
 * Registers an agent and returns it with its new token. Only the admin may (the route's and
 * the MCP tool's permission): an instance token must not mint further credentials.
 */
export async function registerInstance(ctx: AppContext, input: RegisterInput, actor: Actor): Promise<RegisteredInstance> {
  const now = new Date().toISOString();
  const token = newInstanceToken();
  const row: InstanceRow = {
    id: randomUUID(),
    name: checkName(input.name),
    workspace: optionalText('workspace', input.workspace, LIMITS.workspace),
    intent: optionalText('intent', input.intent, LIMITS.intent),
    stack: optionalText('stack', input.stack, LIMITS.stack),
    capabilities: JSON.stringify(checkCapabilities(input.capabilities)),
    status: 'pending',
    registered_at: now,
    last_seen: now,
    base_url: checkBaseUrl(input.base_url),
    token_hash: hashToken(token),
  };
  const instance = toInstance(row);
  await ctx.commit(async (trx) => {
    await trx.insertInto('instances').values(row).execute();
    return {
      value: instance,
      audit: { actor: actor.id, action: INSTANCE_ACTIONS.register, resource: row.id, detail: `name=${row.name}` },
      events: [agentEvent('agent.registered', instance, actor)],
    };
  });
  return { ...instance, token };
}

/**
 * Refreshes last_seen and makes a pending or stale instance active (SPEC §7: "active" means
 * activated or heard from), as a part of a change: `agent.activated` when its status changed.
 * The value is the updated instance, or null when it does not exist.
 */
export async function refreshLastSeenIn(trx: WriteTx, id: string, actor: Actor): Promise<Change<Instance | null>> {
  const now = new Date().toISOString();
  const revived = await trx
    .updateTable('instances')
    .set({ status: 'active', last_seen: now })
    .where('id', '=', id)
    .where('status', '!=', 'active')
    .returningAll()
    .executeTakeFirst();
  if (revived) {
    const instance = toInstance(revived);
    return { value: instance, events: [agentEvent('agent.activated', instance, actor)] };
  }
  const row = await trx.updateTable('instances').set({ last_seen: now }).where('id', '=', id).returningAll().executeTakeFirst();
  return { value: row ? toInstance(row) : null };
}

/** The instance refreshed in `trx`, or a 404; with the audit entry of the call that refreshed it. */
async function heardFromIn(trx: WriteTx, id: string, actor: Actor, action: string, detail?: string): Promise<Change<Instance>> {
  const refreshed = await refreshLastSeenIn(trx, id, actor);
  if (!refreshed.value) throw notFound('instance', id);
  return { ...refreshed, value: refreshed.value, audit: { actor: actor.id, action, resource: id, detail } };
}

/**
 * Records that an instance is alive: refreshes last_seen; a pending or stale instance becomes active
 * (and `agent.activated` is published). `actor` defaults to the instance itself.
 */
export async function heartbeat(ctx: AppContext, id: string, actor: Actor = instanceActor(id)): Promise<Instance> {
  return ctx.commit((trx) => heardFromIn(trx, id, actor, INSTANCE_ACTIONS.heartbeat));
}

/** Sets what the instance is working on; counts as a heartbeat too. */
export async function setIntent(ctx: AppContext, id: string, intent: string, actor: Actor): Promise<Instance> {
  const text = optionalText('intent', intent, LIMITS.intent);
  return ctx.commit(async (trx) => {
    const heard = await heardFromIn(trx, id, actor, INSTANCE_ACTIONS.intent, text.slice(0, 200));
    const row = await trx.updateTable('instances').set({ intent: text }).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
    return { ...heard, value: toInstance(row) };
  });
}

export async function activateInstance(ctx: AppContext, id: string, actor: Actor): Promise<Instance> {
  return ctx.commit(async (trx) => {
    const row = await trx
      .updateTable('instances')
      .set({ status: 'active', last_seen: new Date().toISOString() })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst();
    if (!row) throw notFound('instance', id);
    const instance = toInstance(row);
    return {
      value: instance,
      audit: { actor: actor.id, action: INSTANCE_ACTIONS.activate, resource: id },
      events: [agentEvent('agent.activated', instance, actor)],
    };
  });
}

/** Replaces the instance's capability list. */
export async function setCapabilities(ctx: AppContext, id: string, capabilities: unknown, actor: Actor): Promise<Instance> {
  const list = checkCapabilities(capabilities);
  return ctx.commit(async (trx) => {
    const row = await trx
      .updateTable('instances')
      .set({ capabilities: JSON.stringify(list) })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst();
    if (!row) throw notFound('instance', id);
    return { value: toInstance(row), audit: { actor: actor.id, action: INSTANCE_ACTIONS.capabilities, resource: id, detail: JSON.stringify(list) } };
  });
}

/** Removes an instance; its token stops working at once, and its open streams end. */
export async function deregisterInstance(ctx: AppContext, id: string, actor: Actor): Promise<Instance> {
  // Forget the token before the commit as well as after, so that no request resolves it in
  // between (forgetting too early costs at most one lookup if the change is refused).
  ctx.tokens.forgetInstance(id);
  return ctx.commit(async (trx) => {
    const row = await trx.deleteFrom('instances').where('id', '=', id).returningAll().executeTakeFirst();
    if (!row) throw notFound('instance', id);
    const instance = toInstance(row);
    return {
      value: instance,
      audit: { actor: actor.id, action: INSTANCE_ACTIONS.deregister, resource: id, detail: `name=${row.name}` },
      events: [agentEvent('agent.deregistered', instance, actor)],
      afterCommit: () => {
        ctx.tokens.forgetInstance(id);
        ctx.streams.endInstance(id, 'instance deregistered');
      },
    };
  });
}

/**
 * Marks every instance not heard from since `silentSince` as stale and returns those that just
 * became stale, each announced by `agent.stale`. One UPDATE decides it, so concurrent checks
 * never report an instance twice. A check someone asked for (`requestedBy`) is audited as
 * `liveness.check`; the monitor's own runs are not.
 */
export async function markSilentInstancesStale(ctx: AppContext, silentSince: Date, requestedBy?: Actor): Promise<Instance[]> {
  return ctx.commit(async (trx) => {
    const rows = await trx
      .updateTable('instances')
      .set({ status: 'stale' })
      .where('status', '!=', 'stale')
      .where('last_seen', '<', silentSince.toISOString())
      .returningAll()
      .execute();
    const stale = rows.map(toInstance).sort((a, b) => a.last_seen.localeCompare(b.last_seen));
    const detail = `newly_stale=${rows.map((r) => r.id).join(',')}`;
    return {
      value: stale,
      audit: requestedBy ? { actor: requestedBy.id, action: INSTANCE_ACTIONS.livenessCheck, resource: 'instances', detail } : undefined,
      events: stale.map((instance) => ({ topic: 'agent.stale', data: instance, source: '' })),
    };
  });
}

/** The id of the instance holding the token with this hash, or null. */
export async function instanceIdForTokenHash(ctx: AppContext, hash: string): Promise<string | null> {
  const row = await ctx.db.query.selectFrom('instances').select('id').where('token_hash', '=', hash).executeTakeFirst();
  return row?.id ?? null;
}

/**
 * A call made with the instance's token: refreshes last_seen and makes the instance active,
 * without an audit entry (the call itself is audited). Returns false when the instance is gone.
 */
export async function recordSignOfLife(ctx: AppContext, id: string): Promise<boolean> {
  const instance = await ctx.commit((trx) => refreshLastSeenIn(trx, id, instanceActor(id)));
  return instance !== null;
}

import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import type { Actor, AppContext } from '../kernel/context.js';
import type { NewEvent, WriteTx } from '../commit/change.js';
import { badRequest, conflict, HttpError, notFound, preconditionFailed } from '../kernel/errors.js';
import { optionalText } from '../kernel/text.js';
import { parseDuration } from '../kernel/duration.js';
import { findInstance, listInstances } from '../instances/instances.js';
import { parseResource, parseResources, type Resource } from './resources.js';
import type { Found, ProjectLeases } from './active.js';
import type { LeaseRow } from './tables.js';
import './tables.js';

/** Audit actions of the leases domain. */
export const LEASE_ACQUIRE = 'lease.acquire';
export const LEASE_RENEW = 'lease.renew';
export const LEASE_RELEASE = 'lease.release';

export const DEFAULT_TTL_MS = 15 * 60_000;
export const MAX_TTL_MS = 24 * 60 * 60_000;
export const MAX_REASON_LENGTH = 1000;
export const MAX_PROJECT_LENGTH = 200;

export const LEASE_MODES = ['exclusive', 'shared'] as const;
export type LeaseMode = (typeof LEASE_MODES)[number];

/** Why a lease ended (the `reason` of `lease.released`). */
export type ReleaseReason = 'released' | 'expired' | 'holder_stale' | 'holder_deregistered';

/** What a person reads as the holder when a lease is held by the admin (or anyone in local mode). */
export const HUMAN = 'human';

// Lease, LeaseConflict, AcquireInput and LeaseFilter are the static types of the route
// schemas (schemas.ts).
import type { AcquireInput, Lease, LeaseConflict, LeaseFilter } from './schemas.js';
export type { AcquireInput, Lease, LeaseConflict, LeaseFilter };

/** Who holds what a caller acquires: its instance, or `admin` / `anonymous` for a person. */
export const holderOf = (actor: Actor) => actor.instanceId ?? actor.id;

/** The admin (the server token, or anyone without a token in local mode) may release or renew any lease. */
const actsAsAdmin = (actor: Actor) => actor.role === 'admin';

const eventSource = (actor: Actor) => actor.instanceId ?? '';

export function toLease(row: LeaseRow): Lease {
  return {
    id: row.id,
    resources: JSON.parse(row.resources) as string[],
    mode: row.mode as LeaseMode,
    holder: row.holder,
    holder_name: row.holder_name,
    project: row.project,
    reason: row.reason,
    fence: Number(row.fence),
    acquired_at: row.acquired_at,
    expires_at: row.expires_at,
  };
}

export function parseTtl(value: string | undefined, fallback = DEFAULT_TTL_MS): number {
  if (value === undefined) return fallback;
  const ms = parseDuration(value);
  if (ms === null || ms <= 0) throw badRequest(`invalid ttl "${value}": expected a duration like 90s, 15m or 2h`);
  if (ms > MAX_TTL_MS) throw badRequest(`invalid ttl "${value}": a lease lasts at most 24h (renew it to keep it longer)`);
  return ms;
}

/** The name a person reads for a holder: the instance's name, or `human`. */
async function holderName(ctx: AppContext, actor: Actor): Promise<string> {
  if (!actor.instanceId) return HUMAN;
  return (await findInstance(ctx, actor.instanceId))?.name ?? actor.instanceId;
}

/** Whether a lease held by someone else in `held` mode stands in the way of `holder` taking `mode`. */
function blocks(holder: string, mode: LeaseMode): (row: LeaseRow) => boolean {
  // A holder never conflicts with itself; shared leases only with exclusive ones.
  return (row) => row.holder !== holder && !(mode === 'shared' && row.mode === 'shared');
}

/**
 * The leases' generation as committed (0 before the first lease change made the counter row).
 * On SQLite this process is the only one on the database (the data directory's lock) and every
 * lease change passes through it and updates the cache as it commits, so a cache that holds
 * a generation holds the current one and no read is needed.
 */
async function readGeneration(ctx: AppContext): Promise<number> {
  if (ctx.db.engine === 'sqlite' && ctx.activeLeases.heldGeneration >= 0) return ctx.activeLeases.heldGeneration;
  return Number((await ctx.db.query.selectFrom('lease_fence').select('generation').where('id', '=', 1).executeTakeFirst())?.generation ?? 0);
}

/** The committed leases of every project (expired ones included until deleted), from the cache when it is current. */
async function committedRows(ctx: AppContext): Promise<LeaseRow[]> {
  const generation = await readGeneration(ctx);
  const cache = ctx.activeLeases;
  const cached = cache.rowsAt(generation);
  if (cached) return cached;
  const rows = await ctx.db.query.selectFrom('leases').selectAll().execute();
  cache.remember(generation, rows);
  return rows;
}

/** One project's committed leases, indexed. */
async function committedProject(ctx: AppContext, project: string): Promise<ProjectLeases> {
  const generation = await readGeneration(ctx);
  const cache = ctx.activeLeases;
  const cached = cache.projectAt(generation, project);
  if (cached) return cached;
  const rows = await ctx.db.query.selectFrom('leases').selectAll().execute();
  cache.remember(generation, rows);
  return cache.projectAt(generation, project) ?? ctx.activeLeases.index(rows.filter((row) => row.project === project));
}

/**
 * Raises the leases' generation inside a change that wrote lease rows some other way (an
 * import): every replica's cached leases stop being current.
 */
export async function markLeasesChangedIn(trx: WriteTx): Promise<void> {
  // Without the counter row there are no leases (the row comes with the first one).
  await trx.updateTable('lease_fence').set({ generation: sql<number>`generation + 1` }).where('id', '=', 1).execute();
}

/**
 * Starts a change to the leases inside its transaction: raises the generation (and, for a
 * grant, the fence) under the counter row's lock, and hands back the leases as committed
 * before it — from the cache when it is exactly that generation, else read through `trx`.
 */
async function beginLeaseChange(ctx: AppContext, trx: WriteTx, grant: boolean) {
  // An upsert: the first change ever makes the row (two first changes at once: one waits).
  const raised = { generation: sql<number>`lease_fence.generation + 1`, ...(grant ? { fence: sql<number>`lease_fence.fence + 1` } : {}) };
  const counters = await trx
    .insertInto('lease_fence')
    .values({ id: 1, fence: grant ? 1 : 0, generation: 1 })
    .onConflict((oc) => oc.column('id').doUpdateSet(raised))
    .returning(['fence', 'generation'])
    .executeTakeFirstOrThrow();
  const generation = Number(counters.generation);
  const cache = ctx.activeLeases;
  const cached = cache.rowsAt(generation - 1);
  const before = cached ?? (await trx.selectFrom('leases').selectAll().execute());
  return {
    fence: Number(counters.fence),
    generation,
    before,
    project: (project: string) => (cached && cache.projectAt(generation - 1, project)) || ctx.activeLeases.index(before.filter((row) => row.project === project)),
    /** After the commit: the cache learns the leases as this change left them. */
    remember: (after: LeaseRow[]) => () => cache.remember(generation, after),
  };
}

/** Thrown inside the transaction; turned into the 409 (with names and intents) outside it. */
class LeaseConflicts extends Error {
  constructor(readonly found: Found[]) {
    super('lease conflict');
  }
}

/** Adds each holder's current intent, read from the instance registry: by id for a few holders, else all at once. */
async function describeConflicts(ctx: AppContext, found: Found[]): Promise<LeaseConflict[]> {
  if (found.length === 0) return [];
  const holders = [...new Set(found.map(({ row }) => row.holder))];
  const intents = new Map<string, string>();
  if (holders.length <= 3) {
    for (const holder of holders) intents.set(holder, (await findInstance(ctx, holder))?.intent ?? '');
  } else {
    for (const instance of await listInstances(ctx)) intents.set(instance.id, instance.intent);
  }
  return found.map(({ row, resources }) => ({
    id: row.id,
    holder: row.holder,
    holder_name: row.holder_name,
    intent: intents.get(row.holder) ?? '',
    reason: row.reason,
    mode: row.mode as LeaseMode,
    resources,
    expires_at: row.expires_at,
  }));
}

/** One line per conflict: what, by whom, until when, and why. */
export function conflictMessage(conflicts: readonly LeaseConflict[]): string {
  const lines = conflicts.map((c) => {
    const why = c.reason || c.intent;
    return `${c.resources.map((r) => `"${r}"`).join(', ')} ${c.mode === 'shared' ? 'shared' : 'held'} by ${c.holder_name} until ${c.expires_at}${why ? ` (${why})` : ''}`;
  });
  return conflicts.length === 1 ? `lease conflict: ${lines[0]}` : `${conflicts.length} lease conflicts: ${lines.join('; ')}`;
}

function conflictError(conflicts: LeaseConflict[]): HttpError {
  return conflict(conflictMessage(conflicts), { reason: 'lease_conflict', conflicts });
}

/** What a lease's end announces: who held what, and why it ended. */
function releasedEvent(row: LeaseRow, reason: ReleaseReason, source: string): NewEvent {
  return {
    topic: 'lease.released',
    data: { id: row.id, holder: row.holder, holder_name: row.holder_name, project: row.project, resources: JSON.parse(row.resources), reason },
    source,
  };
}

/** Deletes the leases among `rows` that ran out, inside a change; their `lease.released` events. */
async function purgeExpiredIn(trx: WriteTx, rows: readonly LeaseRow[], now: string): Promise<{ ids: Set<string>; events: NewEvent[] }> {
  const expired = rows.filter((row) => row.expires_at <= now).map((row) => row.id);
  if (expired.length === 0) return { ids: new Set(), events: [] };
  const deleted = await trx.deleteFrom('leases').where('id', 'in', expired).returningAll().execute();
  return { ids: new Set(deleted.map((row) => row.id)), events: deleted.map((row) => releasedEvent(row, 'expired', '')) };
}

interface CheckedAcquire {
  resources: Resource[];
  mode: LeaseMode;
  ttlMs: number;
  reason: string;
  project: string;
}

export function checkAcquire(input: AcquireInput): CheckedAcquire {
  const mode = input.mode ?? 'exclusive';
  if (!LEASE_MODES.includes(mode)) throw badRequest(`invalid mode "${String(mode)}": expected exclusive or shared`);
  return {
    resources: parseResources(input.resources),
    mode,
    ttlMs: parseTtl(input.ttl),
    reason: optionalText('reason', input.reason, MAX_REASON_LENGTH),
    project: optionalText('project', input.project, MAX_PROJECT_LENGTH).trim(),
  };
}

/**
 * Grants a lease on all of the resources or on none (409 naming what stands in the way).
 *
 * The conflict check and the insert are one transaction, and every acquiring transaction
 * first raises the one fencing counter row: that row lock makes acquirers take turns, on
 * PostgreSQL across replicas too, so each one's check sees every lease granted before it and
 * two can never both be granted overlapping resources. (On SQLite the one connection runs one
 * transaction at a time.)
 */
export async function acquireLease(ctx: AppContext, checked: CheckedAcquire, actor: Actor): Promise<Lease> {
  const holder = holderOf(actor);
  const name = await holderName(ctx, actor);
  try {
    return await ctx.commit(async (trx) => {
      const change = await beginLeaseChange(ctx, trx, true);
      const now = new Date();
      const nowText = now.toISOString();
      const found = change.project(checked.project).overlapping(checked.resources, nowText, blocks(holder, checked.mode));
      if (found.length > 0) throw new LeaseConflicts(found);
      const expired = await purgeExpiredIn(trx, change.before.filter((row) => row.project === checked.project), nowText);
      const row: LeaseRow = {
        id: randomBytes(8).toString('hex'),
        project: checked.project,
        holder,
        holder_name: name,
        mode: checked.mode,
        resources: JSON.stringify(checked.resources.map((r) => r.text)),
        reason: checked.reason,
        fence: change.fence,
        ttl_ms: checked.ttlMs,
        acquired_at: nowText,
        expires_at: new Date(now.getTime() + checked.ttlMs).toISOString(),
      };
      await trx.insertInto('leases').values(row).execute();
      const lease = toLease(row);
      return {
        value: lease,
        audit: { actor: actor.id, action: LEASE_ACQUIRE, resource: row.id, detail: `${row.mode} ${row.resources}`.slice(0, 1000) },
        events: [...expired.events, { topic: 'lease.acquired', data: lease, source: eventSource(actor) }],
        afterCommit: change.remember([...change.before.filter((r) => !expired.ids.has(r.id)), row]),
      };
    });
  } catch (err) {
    if (err instanceof LeaseConflicts) throw conflictError(await describeConflicts(ctx, err.found));
    throw err;
  }
}

/** The conflicts a 409 from `acquireLease` carries, or null for any other error. */
export function conflictsOf(err: unknown): LeaseConflict[] | null {
  if (!(err instanceof HttpError) || err.status !== 409) return null;
  const conflicts = err.extra.conflicts;
  return Array.isArray(conflicts) ? (conflicts as LeaseConflict[]) : null;
}

/** The lease if it is active (not released, not run out), else null. */
async function activeLease(ctx: AppContext, id: string): Promise<LeaseRow | null> {
  const row = (await committedRows(ctx)).find((r) => r.id === id);
  return row && row.expires_at > new Date().toISOString() ? row : null;
}

/** 403 unless the caller holds the lease or acts as the admin. */
function checkMayChange(row: LeaseRow, actor: Actor, verb: string): void {
  if (row.holder === holderOf(actor) || actsAsAdmin(actor)) return;
  throw new HttpError(403, `lease ${row.id} is held by ${row.holder_name}: only its holder or the admin may ${verb} it`);
}

const gone = (id: string) => notFound('lease (it may have expired or been released)', id);

/** Gives the lease a new expiry, `ttl` (default: its own TTL) from now. 404 once it ended. */
export async function renewLease(ctx: AppContext, id: string, ttl: string | undefined, actor: Actor): Promise<Lease> {
  const found = await activeLease(ctx, id);
  if (!found) throw gone(id);
  checkMayChange(found, actor, 'renew');
  const ttlMs = parseTtl(ttl, Number(found.ttl_ms));
  return ctx.commit(async (trx) => {
    const change = await beginLeaseChange(ctx, trx, false);
    const now = new Date();
    const row = await trx
      .updateTable('leases')
      .set({ expires_at: new Date(now.getTime() + ttlMs).toISOString(), ttl_ms: ttlMs })
      .where('id', '=', id)
      .where('expires_at', '>', now.toISOString())
      .returningAll()
      .executeTakeFirst();
    if (!row) throw gone(id);
    return {
      value: toLease(row),
      audit: { actor: actor.id, action: LEASE_RENEW, resource: id, detail: `ttl ${ttlMs}ms` },
      afterCommit: change.remember(change.before.map((r) => (r.id === id ? row : r))),
    };
  }, { emits: false });
}

/** Ends a lease now (`lease.released`, reason released). 404 when it is not active. */
export async function releaseLease(ctx: AppContext, id: string, actor: Actor): Promise<{ released: string }> {
  const found = await activeLease(ctx, id);
  if (!found) throw gone(id);
  checkMayChange(found, actor, 'release');
  return ctx.commit(async (trx) => {
    const change = await beginLeaseChange(ctx, trx, false);
    const row = await trx.deleteFrom('leases').where('id', '=', id).where('expires_at', '>', new Date().toISOString()).returningAll().executeTakeFirst();
    if (!row) throw gone(id);
    return {
      value: { released: id },
      audit: { actor: actor.id, action: LEASE_RELEASE, resource: id, detail: row.holder === holderOf(actor) ? undefined : `held by ${row.holder_name}` },
      events: [releasedEvent(row, 'released', eventSource(actor))],
      afterCommit: change.remember(change.before.filter((r) => r.id !== id)),
    };
  });
}

/** Active leases, oldest grant first. */
export async function listLeases(ctx: AppContext, filter: LeaseFilter = {}): Promise<Lease[]> {
  const now = new Date().toISOString();
  let rows: LeaseRow[];
  if (filter.resource !== undefined) {
    const wanted = parseResource(filter.resource);
    const projects = filter.project !== undefined ? [filter.project] : [...new Set((await committedRows(ctx)).map((row) => row.project))];
    rows = [];
    for (const project of projects) rows.push(...(await committedProject(ctx, project)).overlapping([wanted], now).map((f) => f.row));
  } else {
    rows = (await committedRows(ctx)).filter((row) => row.expires_at > now && (filter.project === undefined || row.project === filter.project));
  }
  if (filter.holder) rows = rows.filter((row) => row.holder === filter.holder);
  return rows.sort((a, b) => Number(a.fence) - Number(b.fence)).map(toLease);
}

/** What stops the caller from taking `paths` in `mode` (default exclusive: editing them). */
export async function checkLeases(ctx: AppContext, input: { paths: unknown; project?: string; mode?: LeaseMode }, actor: Actor): Promise<LeaseConflict[]> {
  const wanted = parseResources(input.paths, 'paths');
  const project = optionalText('project', input.project, MAX_PROJECT_LENGTH).trim();
  const index = await committedProject(ctx, project);
  const found = index.overlapping(wanted, new Date().toISOString(), blocks(holderOf(actor), input.mode ?? 'exclusive'));
  return describeConflicts(ctx, found);
}

/**
 * The fencing check of a write that names a lease (`X-Koor-Lease`), inside the write's own
 * transaction: 412 unless the lease is active and held by the caller. On PostgreSQL the lease
 * row is share-locked until the write commits, so it cannot be released in between.
 */
export async function requireLeaseHeldIn(trx: WriteTx, ctx: AppContext, leaseId: string, actor: Actor): Promise<void> {
  let query = trx.selectFrom('leases').selectAll().where('id', '=', leaseId);
  if (ctx.db.engine === 'postgres') query = query.forShare();
  const row = await query.executeTakeFirst();
  if (!row || row.expires_at <= new Date().toISOString()) {
    throw preconditionFailed(`X-Koor-Lease ${leaseId}: the lease is no longer held (it expired or was released)`, { reason: 'lease_not_held', lease: leaseId });
  }
  if (row.holder !== holderOf(actor)) {
    throw preconditionFailed(`X-Koor-Lease ${leaseId}: the lease is held by ${row.holder_name}, not by the caller`, { reason: 'lease_not_held', lease: leaseId });
  }
}

/**
 * Ends every lease that ran out, and those whose holder went stale or was deregistered
 * (`lease.released` with the reason). Run by the leader's job, and at once when an instance
 * is reported stale or deregistered. Returns how many ended.
 */
export async function endLapsedLeases(ctx: AppContext): Promise<number> {
  const now = new Date().toISOString();
  const rows = await committedRows(ctx);
  if (rows.length === 0) return 0;
  const anyExpired = rows.some((row) => row.expires_at <= now);
  const instanceHolders = new Set(rows.map((row) => row.holder).filter((h) => h !== 'admin' && h !== 'anonymous'));
  const lapsed = new Map<string, ReleaseReason>();
  if (instanceHolders.size > 0) {
    const known = new Map((await listInstances(ctx)).map((i) => [i.id, i.status]));
    for (const holder of instanceHolders) {
      const status = known.get(holder);
      if (status === undefined) lapsed.set(holder, 'holder_deregistered');
      else if (status === 'stale') lapsed.set(holder, 'holder_stale');
    }
  }
  if (!anyExpired && lapsed.size === 0) return 0;
  return ctx.commit(async (trx) => {
    const change = await beginLeaseChange(ctx, trx, false);
    const { ids, events } = await purgeExpiredIn(trx, change.before, new Date().toISOString());
    for (const [holder, reason] of lapsed) {
      const ended = await trx.deleteFrom('leases').where('holder', '=', holder).returningAll().execute();
      for (const row of ended) {
        ids.add(row.id);
        events.push(releasedEvent(row, reason, ''));
      }
    }
    return { value: events.length, events, afterCommit: change.remember(change.before.filter((r) => !ids.has(r.id))) };
  });
}

import type { Actor, AppContext } from '../kernel/context.js';
import { badRequest, notFound } from '../kernel/errors.js';
import type { Change, NewEvent, WriteTx } from '../commit/change.js';
import { diffJson, type JsonDifference } from '../mvcc/json-diff.js';
import { MAX_JSON_DEPTH, nestedDeeperThan } from '../kernel/json-depth.js';
import { NO_PRECONDITION, type Precondition, type WriteGuard } from '../mvcc/preconditions.js';
import type { KeySummary, StoredValue, VersionedStore, VersionSummary, WriteResult } from '../mvcc/versioned-store.js';
import './tables.js';

declare module '../kernel/context.js' {
  interface AppContext {
    /** The state store's versioned key space (its cache is shared by every caller). */
    stateStore: VersionedStore;
  }
}

export type { KeySummary, StoredValue, VersionSummary, WriteResult } from '../mvcc/versioned-store.js';
export type { Precondition } from '../mvcc/preconditions.js';

export const MAX_KEY_LENGTH = 1024;
export const DEFAULT_CONTENT_TYPE = 'application/json';
export const DEFAULT_HISTORY_LIMIT = 50;

/** The audit actions of the state store, named once. */
export const STATE_ACTIONS = { put: 'state.put', rollback: 'state.rollback', delete: 'state.delete' } as const;

/** Rejects keys the store does not accept: empty, longer than 1024 characters, or with NUL. */
export function checkStateKey(key: string): void {
  if (key === '') throw badRequest('state key must not be empty');
  if (key.length > MAX_KEY_LENGTH) throw badRequest(`state key is ${key.length} characters long; the limit is ${MAX_KEY_LENGTH}`);
  // PostgreSQL text cannot hold NUL; refusing it on both engines keeps them alike.
  if (key.includes('\0')) throw badRequest('state key must not contain the NUL character (%00)');
}

/** The `state.changed` event of a new version. */
function changed(result: WriteResult, actor: Actor): NewEvent {
  return { topic: 'state.changed', data: { key: result.key, version: result.version }, source: actor.id };
}

/** The key's current value, or null when it does not exist. */
export async function getState(ctx: AppContext, key: string): Promise<StoredValue | null> {
  checkStateKey(key);
  return ctx.stateStore.current(key);
}

/** Existing keys, sorted, optionally only those starting with `prefix`. */
export async function listState(ctx: AppContext, prefix = ''): Promise<KeySummary[]> {
  if (prefix.includes('\0')) return []; // no key contains NUL (and PostgreSQL could not compare it)
  return ctx.stateStore.list(prefix);
}

/** How many keys exist. */
export async function countState(ctx: AppContext): Promise<number> {
  return ctx.stateStore.count();
}

export interface StateWrite {
  key: string;
  data: Buffer;
  /** Defaults to application/json. */
  contentType?: string;
}

/** A new version of a key (if the precondition holds), announced by `state.changed`: a part of a change. */
export async function putStateIn(ctx: AppContext, trx: WriteTx, input: StateWrite, actor: Actor, precondition: Precondition = NO_PRECONDITION): Promise<Change<WriteResult>> {
  checkStateKey(input.key);
  if (input.data.length === 0) throw badRequest(`empty body: a value for state key "${input.key}" needs at least one byte`);
  const contentType = input.contentType || DEFAULT_CONTENT_TYPE;
  return ctx.stateStore.writeIn(trx, {
    key: input.key,
    data: input.data,
    contentType,
    actor,
    precondition,
    audit: { action: STATE_ACTIONS.put, resource: input.key, detail: `${input.data.length} bytes ${contentType}` },
    announce: (result) => changed(result, actor),
  });
}

/** Stores a new version of a key (if the precondition holds) and announces `state.changed`. */
export async function putState(ctx: AppContext, input: StateWrite, actor: Actor, precondition: Precondition = NO_PRECONDITION, guard?: WriteGuard): Promise<WriteResult> {
  checkStateKey(input.key);
  return ctx.commit(async (trx) => {
    await guard?.(trx);
    return putStateIn(ctx, trx, input, actor, precondition);
  });
}

/** Deletes a key (its history stays readable) and announces `state.deleted`. */
export async function deleteState(ctx: AppContext, key: string, actor: Actor, precondition: Precondition = NO_PRECONDITION, guard?: WriteGuard): Promise<{ deleted: string; version: number }> {
  checkStateKey(key);
  const removed = await ctx.commit(async (trx) => {
    await guard?.(trx);
    return ctx.stateStore.removeIn(trx, {
      key,
      actor,
      precondition,
      audit: { action: STATE_ACTIONS.delete, resource: key },
      announce: (version) => ({ topic: 'state.deleted', data: { key, version }, source: actor.id }),
    });
  });
  return { deleted: key, version: removed.version };
}

/** Stores an old version's value as a new version (also bringing back a deleted key). */
export async function rollbackState(
  ctx: AppContext,
  key: string,
  version: number,
  actor: Actor,
  precondition: Precondition = NO_PRECONDITION,
  guard?: WriteGuard,
): Promise<WriteResult & { rolled_back: number }> {
  const old = await stateAtVersion(ctx, key, version);
  const result = await ctx.commit(async (trx) => {
    await guard?.(trx);
    return ctx.stateStore.writeIn(trx, {
      key,
      data: old.data,
      contentType: old.content_type,
      actor,
      precondition,
      audit: { action: STATE_ACTIONS.rollback, resource: key, detail: `restored version ${version}` },
      announce: (written) => changed(written, actor),
    });
  });
  return { ...result, rolled_back: version };
}

/** One version of a key; 404 when the key or that version is unknown. */
export async function stateAtVersion(ctx: AppContext, key: string, version: number): Promise<StoredValue> {
  checkStateKey(key);
  const found = await ctx.stateStore.atVersion(key, version);
  if (found) return found;
  if (!(await ctx.stateStore.known(key))) throw notFound('state key', key);
  throw notFound(`version ${version} of state key`, key);
}

/** The key's versions, newest first (also for a deleted key); 404 when it was never written. */
export async function stateHistory(ctx: AppContext, key: string, limit = DEFAULT_HISTORY_LIMIT): Promise<{ key: string; versions: VersionSummary[] }> {
  checkStateKey(key);
  const versions = await ctx.stateStore.history(key, limit);
  if (versions.length === 0) throw notFound('state key', key);
  return { key, versions };
}

function parseJsonVersion(value: StoredValue): unknown {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value.data.toString('utf8'));
  } catch {
    throw badRequest(`version ${value.version} of state key "${value.key}" is not JSON (${value.content_type})`);
  }
  // Values are stored as sent, however deep; comparing them walks both recursively.
  if (nestedDeeperThan(parsed)) {
    throw badRequest(`version ${value.version} of state key "${value.key}" is nested more than ${MAX_JSON_DEPTH} levels deep, too deep to diff`);
  }
  return parsed;
}

/** The JSON differences from version `a` to version `b`; 400 when either is not JSON. */
export async function diffState(ctx: AppContext, key: string, a: number, b: number): Promise<{ key: string; v1: number; v2: number; diffs: JsonDifference[] }> {
  const [before, after] = [await stateAtVersion(ctx, key, a), await stateAtVersion(ctx, key, b)];
  return { key, v1: a, v2: b, diffs: diffJson(parseJsonVersion(before), parseJsonVersion(after)) };
}

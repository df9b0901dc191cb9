import { hash as digest } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { ReadDb } from '../db/engine.js';
import type { Database } from '../db/schema.js';
import { FixedStatement, type Placeholders } from '../db/fixed-statement.js';
import type { Change, NewEvent, WriteTx } from '../commit/change.js';
import type { Actor } from '../kernel/context.js';
import { HttpError, notFound, preconditionFailed } from '../kernel/errors.js';
import { ValueCache, type CachedValue } from './cache.js';
import { etagOf, type Precondition } from './preconditions.js';
import type { VersionedKeyRow, VersionedValueRow } from './rows.js';

/** The value of one version of a key. */
export type StoredValue = Omit<VersionedValueRow, 'updated_by'> & {
  /** `"<hash>"`, ready for the ETag header. */
  etag: string;
};

export type KeySummary = Pick<VersionedKeyRow, 'key' | 'version' | 'content_type' | 'updated_at'>;

export type VersionSummary = Pick<VersionedValueRow, 'version' | 'hash' | 'content_type' | 'updated_at' | 'updated_by'>;

export type WriteResult = Pick<VersionedValueRow, 'key' | 'version' | 'hash' | 'content_type' | 'updated_at'>;

/** What the audit log says of a write, besides who made it. */
export interface AuditNoteOf {
  action: string;
  resource: string;
  detail?: string;
}

export interface WriteInput {
  key: string;
  data: Buffer;
  contentType: string;
  actor: Actor;
  precondition: Precondition;
  audit: AuditNoteOf;
  /** The event announcing the new version. */
  announce: (result: WriteResult) => NewEvent;
}

export interface RemoveInput {
  key: string;
  actor: Actor;
  precondition: Precondition;
  audit: AuditNoteOf;
  /** The event announcing the deletion, given the version that was current. */
  announce: (version: number) => NewEvent;
}

export type Space = 'state' | 'spec';

/** Bytes of current values kept in memory per key space (SQLite only). */
const CACHE_BYTES = 64 * 1024 * 1024;

/** One-shot hashing (no Hash object per write); hex, as ETags and `hash` fields carry it. */
export const sha256Hex = (data: Buffer) => digest('sha256', data, 'hex');

// Kysely types the two spaces' tables identically; queries are typed against the state tables
// and run against whichever space this store serves.
type KeysTable = 'state_keys';
type ValuesTable = 'state_versions';

/**
 * A versioned key space: every write is a new version of its key, versions of a key only ever
 * rise (the `*_keys` row keeps the highest one given, also across delete), every version stays
 * readable, and writes can be made conditional on the current version or content hash.
 *
 * Atomicity of conditional writes comes from the database, not from this process: the write
 * bumps the key's row with one statement whose WHERE clause is the precondition, so on
 * PostgreSQL concurrent writers (also in other server processes) serialize on that row lock
 * and re-check the condition, and on SQLite the single connection runs one transaction at a
 * time. Writes are parts of changes (`writeIn`, `removeIn`) that the committer runs in its
 * group-committed transactions, one after another, each with its audit entry and event.
 */
export class VersionedStore {
  private readonly keys: KeysTable;
  private readonly values: ValuesTable;
  /** Current values; only where this process owns the database file (SQLite). */
  private readonly cache: ValueCache | undefined;
  private readonly writes: WriteStatements;

  constructor(
    private readonly db: ReadDb,
    readonly space: Space,
    /** What messages call one key, e.g. `state key`. */
    private readonly noun: string,
  ) {
    this.keys = `${space}_keys` as KeysTable;
    this.values = `${space}_versions` as ValuesTable;
    this.cache = db.engine === 'sqlite' ? new ValueCache(CACHE_BYTES) : undefined;
    this.writes = writeStatements(space);
  }

  /** The key's current value, or null when it does not exist (never written, or deleted). */
  async current(key: string): Promise<StoredValue | null> {
    const cached = this.cache?.get(key);
    if (cached) return cached.data ? fromCache(key, cached) : null;
    const row = await this.db.query
      .selectFrom(`${this.keys} as k` as 'state_keys as k')
      .innerJoin(`${this.values} as v` as 'state_versions as v', (join) =>
        join.onRef('v.key', '=', 'k.key').onRef('v.version', '=', 'k.version'),
      )
      .select(['v.version', 'v.data', 'v.hash', 'v.content_type', 'v.updated_at'])
      .where('k.key', '=', key)
      .where('k.live', '=', 1)
      .executeTakeFirst();
    if (!row) return null;
    const value = toStored(key, row);
    this.cache?.offer(key, toCached(value));
    return value;
  }

  forgetCache(): void {
    this.cache?.clear();
  }

  /** One stored version of the key, deleted or not; null when it was never written. */
  async atVersion(key: string, version: number): Promise<StoredValue | null> {
    const row = await this.db.query
      .selectFrom(this.values)
      .select(['version', 'data', 'hash', 'content_type', 'updated_at'])
      .where('key', '=', key)
      .where('version', '=', version)
      .executeTakeFirst();
    return row ? toStored(key, row) : null;
  }

  /** Whether the key was ever written (its history survives a delete). */
  async known(key: string): Promise<boolean> {
    const row = await this.db.query.selectFrom(this.keys).select('version').where('key', '=', key).executeTakeFirst();
    return row !== undefined;
  }

  /** The key's versions, newest first. */
  async history(key: string, limit: number): Promise<VersionSummary[]> {
    return this.db.query
      .selectFrom(this.values)
      .select(['version', 'hash', 'content_type', 'updated_at', 'updated_by'])
      .where('key', '=', key)
      .orderBy('version', 'desc')
      .limit(limit)
      .execute();
  }

  /** Existing keys starting with `prefix`, sorted by key. */
  async list(prefix = ''): Promise<KeySummary[]> {
    let query = this.db.query
      .selectFrom(this.keys)
      .select(['key', 'version', 'content_type', 'updated_at'])
      .where('live', '=', 1);
    // substr counts characters (code points) on both engines, and unlike LIKE or a key range
    // it needs no escaping and does not depend on PostgreSQL's collation.
    if (prefix !== '') query = query.where(sql<string>`substr(${sql.ref('key')}, 1, ${[...prefix].length})`, '=', prefix);
    const rows = await query.execute();
    return rows.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  /** How many keys exist. */
  async count(): Promise<number> {
    const row = await this.db.query
      .selectFrom(this.keys)
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('live', '=', 1)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /**
   * A new version of the key, if the precondition holds, as a part of a change: the write,
   * its audit entry and its announcing event. A precondition that does not hold throws its 412
   * (with the current version and ETag). The cache learns the new value once committed.
   */
  async writeIn(trx: WriteTx, input: WriteInput): Promise<Change<WriteResult>> {
    const { key, data, contentType, actor, precondition } = input;
    const hash = sha256Hex(data);
    const updatedAt = new Date().toISOString();
    const current = { hash, content_type: contentType, updated_at: updatedAt };
    const version = await this.bumpVersion(trx, key, precondition, current);
    if (version === undefined) throw await this.preconditionError(trx, key, precondition);
    await this.writes.insert.run(trx, { key, version, data, hash, content_type: contentType, updated_at: updatedAt, updated_by: actor.id });
    const result: WriteResult = { key, version, hash, content_type: contentType, updated_at: updatedAt };
    return {
      value: result,
      audit: { actor: actor.id, ...input.audit },
      events: [input.announce(result)],
      afterCommit: () => this.cache?.offer(key, toCached({ ...result, data, etag: etagOf(hash) })),
    };
  }

  /**
   * Marks the key deleted, as a part of a change (its history stays; its version counter keeps
   * rising on re-create). The value is the version that was current. 404 for a key that does
   * not exist, 412 when a precondition was given and does not hold (also on a missing key).
   */
  async removeIn(trx: WriteTx, input: RemoveInput): Promise<Change<{ key: string; version: number }>> {
    const { key, actor, precondition } = input;
    if (precondition.kind === 'absent') throw new HttpError(400, 'If-None-Match is not supported on DELETE');
    const updatedAt = new Date().toISOString();
    let update = trx.updateTable(this.keys).set({ live: 0, updated_at: updatedAt }).where('key', '=', key).where('live', '=', 1);
    if (precondition.kind === 'version') update = update.where('version', '=', precondition.version);
    if (precondition.kind === 'etag') update = update.where('hash', '=', precondition.hash);
    const row = await update.returning('version').executeTakeFirst();
    if (!row) {
      if (precondition.kind === 'any') throw notFound(this.noun, key);
      throw await this.preconditionError(trx, key, precondition);
    }
    const version = Number(row.version);
    return {
      value: { key, version },
      audit: { actor: actor.id, ...input.audit },
      events: [input.announce(version)],
      afterCommit: () => this.cache?.offer(key, { version, data: null, hash: '', contentType: '', updatedAt, etag: '' }),
    };
  }

  /**
   * Gives the key its next version and the new current metadata, in one statement whose WHERE
   * clause is the precondition. Returns the new version, or undefined when the precondition
   * does not hold.
   */
  private async bumpVersion(
    trx: WriteTx,
    key: string,
    precondition: Precondition,
    current: { hash: string; content_type: string; updated_at: string },
  ): Promise<number | undefined> {
    const row = { key, ...current };
    const { writes } = this;
    let rows: Array<{ version: number }>;
    switch (precondition.kind) {
      case 'any':
        rows = await writes.upsert.run(trx, row);
        break;
      case 'absent':
        rows = await writes.createOnly.run(trx, row);
        break;
      case 'exists':
        rows = await writes.ifExists.run(trx, row);
        break;
      case 'version':
        rows = await writes.ifVersion.run(trx, { ...row, if_version: precondition.version });
        break;
      case 'etag':
        rows = await writes.ifHash.run(trx, { ...row, if_hash: precondition.hash });
        break;
    }
    return rows[0] ? Number(rows[0].version) : undefined;
  }

  /** The 412 for a precondition that failed, carrying what is current now. */
  private async preconditionError(trx: WriteTx, key: string, precondition: Precondition): Promise<HttpError> {
    const row = await trx.selectFrom(this.keys).select(['version', 'live', 'hash']).where('key', '=', key).executeTakeFirst();
    const exists = row !== undefined && row.live === 1;
    const extra = { current_version: exists ? Number(row.version) : null, current_etag: exists ? etagOf(row.hash) : null };
    const subject = `${this.noun} "${key}"`;
    let message: string;
    if (precondition.kind === 'absent') message = `If-None-Match * failed: ${subject} already exists at version ${extra.current_version}`;
    else if (!exists) message = `If-Match failed: ${subject} does not exist`;
    else if (precondition.kind === 'version') message = `If-Match ${precondition.version} failed: ${subject} is at version ${extra.current_version}`;
    else if (precondition.kind === 'etag') message = `If-Match "${precondition.hash}" failed: ${subject} has ETag ${extra.current_etag}`;
    else message = `precondition failed for ${subject}`;
    return preconditionFailed(message, extra);
  }
}

/** The new current metadata of a key, as a write sets it. */
type KeyWrite = Pick<VersionedKeyRow, 'key' | 'hash' | 'content_type' | 'updated_at'>;

type WriteStatements = ReturnType<typeof writeStatements>;

/**
 * The statements of every write, as fixed statements (see FixedStatement): a write runs them
 * hundreds of times a second, and building them through the query builder each time cost more
 * than storing the row, so each is built once and compiled once per engine.
 */
function writeStatements(space: Space) {
  const keys = `${space}_keys` as KeysTable;
  // Qualified: in `on conflict … do update`, a bare `version` could be the row's or excluded's.
  const currentVersion = sql<number>`${sql.ref(`${keys}.version`)}`;
  const upsert = (db: Kysely<Database>, p: Placeholders<KeyWrite>, onlyIfDeleted: boolean) =>
    db
      .insertInto(keys)
      .values({ key: p('key'), version: sql.lit(1), live: sql.lit(1), hash: p('hash'), content_type: p('content_type'), updated_at: p('updated_at') })
      .onConflict((conflict) => {
        const replace = conflict.column('key').doUpdateSet((eb) => ({
          version: eb(currentVersion, '+', sql.lit(1)),
          live: sql.lit(1),
          hash: eb.ref('excluded.hash'),
          content_type: eb.ref('excluded.content_type'),
          updated_at: eb.ref('excluded.updated_at'),
        }));
        return onlyIfDeleted ? replace.where(sql.ref(`${keys}.live`), '=', sql.lit(0)) : replace;
      });
  const update = (db: Kysely<Database>, p: Placeholders<KeyWrite>) =>
    db
      .updateTable(keys)
      .set((eb) => ({ version: eb('version', '+', sql.lit(1)), live: sql.lit(1), hash: p('hash'), content_type: p('content_type'), updated_at: p('updated_at') }))
      .where('key', '=', p('key'))
      .where('live', '=', sql.lit(1));
  return {
    upsert: new FixedStatement((db, p: Placeholders<KeyWrite>) => upsert(db, p, false).returning('version')),
    // Create-only: a deleted key may be re-created, an existing one may not be replaced.
    createOnly: new FixedStatement((db, p: Placeholders<KeyWrite>) => upsert(db, p, true).returning('version')),
    ifExists: new FixedStatement((db, p: Placeholders<KeyWrite>) => update(db, p).returning('version')),
    ifVersion: new FixedStatement((db, p: Placeholders<KeyWrite & { if_version: number }>) =>
      update(db, p).where('version', '=', p('if_version')).returning('version'),
    ),
    ifHash: new FixedStatement((db, p: Placeholders<KeyWrite & { if_hash: string }>) =>
      update(db, p).where('hash', '=', p('if_hash')).returning('version'),
    ),
    insert: new FixedStatement((db, p: Placeholders<VersionedValueRow>) =>
      db.insertInto(`${space}_versions` as ValuesTable).values({
        key: p('key'),
        version: p('version'),
        data: p('data'),
        hash: p('hash'),
        content_type: p('content_type'),
        updated_at: p('updated_at'),
        updated_by: p('updated_by'),
      }),
    ),
  };
}

function toStored(key: string, row: Omit<StoredValue, 'key' | 'etag'>): StoredValue {
  return {
    key,
    version: Number(row.version),
    data: Buffer.isBuffer(row.data) ? row.data : Buffer.from(row.data),
    hash: row.hash,
    content_type: row.content_type,
    updated_at: row.updated_at,
    etag: etagOf(row.hash),
  };
}

function toCached(value: StoredValue): CachedValue {
  return {
    version: value.version,
    data: value.data,
    hash: value.hash,
    contentType: value.content_type,
    updatedAt: value.updated_at,
    etag: value.etag,
  };
}

function fromCache(key: string, cached: CachedValue): StoredValue {
  return {
    key,
    version: cached.version,
    data: cached.data!,
    hash: cached.hash,
    content_type: cached.contentType,
    updated_at: cached.updatedAt,
    etag: cached.etag,
  };
}

import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { sql, type Kysely, type Transaction } from 'kysely';
import type { Actor, AppContext } from '../kernel/context.js';
import type { Database } from '../db/schema.js';
import type { Change, WriteTx } from '../commit/change.js';
import { badRequest, conflict } from '../kernel/errors.js';
import { userTables, type TableInfo } from './catalog.js';
import { EXPORT_FORMAT } from './export.js';

type Row = Record<string, unknown>;

/** The audit action of an import, named once. */
export const BACKUP_ACTIONS = { import: 'backup.import' } as const;
type AnyDb = Kysely<Record<string, Row>>;

export interface ImportResult {
  imported: Record<string, number>;
  total: number;
}

/**
 * Tables a server writes about itself from its first request on (a refused import attempt is
 * audited; calls are counted). They do not make a server "non-empty": imported rows are added
 * to them, audit entries under new ids when the target already has some.
 */
const SELF_RECORDING_TABLES = new Set(['audit_log', 'agent_metrics']);

// Rows per INSERT: few enough to stay under SQLite's bound-parameter limit for wide tables.
const MAX_PARAMETERS = 900;

interface Batch {
  table: TableInfo;
  rows: Row[];
  firstLine: number;
  lastLine: number;
}

/** A row value from JSON made bindable: `{"$bytes"}` back to bytes, booleans to 0/1. */
function decodeValue(value: unknown, where: string): unknown {
  if (value === null || typeof value === 'string' || typeof value === 'number') return value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'object' && !Array.isArray(value)) {
    const bytes = (value as { $bytes?: unknown }).$bytes;
    if (typeof bytes === 'string' && Object.keys(value).length === 1) return Buffer.from(bytes, 'base64');
  }
  throw badRequest(`${where}: a column value must be a string, number, boolean, null or {"$bytes": base64}`);
}

/**
 * Loads an export stream in one transaction: all of it or none of it. Without `merge` the
 * server must hold no data yet (409 otherwise); with `merge`, rows whose primary key (or other
 * unique value) already exists are skipped. Afterwards PostgreSQL sequences are moved past the
 * imported ids so that new rows do not collide with them.
 */
export async function importStream(ctx: AppContext, body: Readable, options: { merge: boolean; actor: Actor }): Promise<ImportResult> {
  // The upload is spooled to a file first: the transaction then reads at disk speed and never
  // waits on a slow client (on SQLite, every other request would wait with it).
  const dir = await mkdtemp(join(tmpdir(), 'koor-import-'));
  try {
    const file = join(dir, 'import.jsonl');
    await pipeline(body, createWriteStream(file));
    // One change; it may run again (the committer retries a failed batch change by change),
    // so each run reads the spooled file from its start.
    return await ctx.commit(async (trx) => {
      const input = createReadStream(file);
      const reader = createInterface({ input, crlfDelay: Infinity });
      try {
        return await importLines(ctx, trx, reader[Symbol.asyncIterator](), options);
      } finally {
        reader.close();
        input.destroy();
      }
    }, { emits: false });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function importLines(ctx: AppContext, trx: WriteTx, lines: AsyncIterator<string>, options: { merge: boolean; actor: Actor }): Promise<Change<ImportResult>> {
  let lineNumber = 0;
  const nextLine = async (): Promise<string | undefined> => {
    for (;;) {
      const next = await lines.next();
      if (next.done) return undefined;
      lineNumber++;
      if (next.value.trim() !== '') return next.value;
    }
  };
  const parse = (line: string): unknown => {
    try {
      return JSON.parse(line);
    } catch (err) {
      throw badRequest(`line ${lineNumber}: not JSON (${(err as Error).message})`);
    }
  };

  const first = await nextLine();
  const header = first === undefined ? undefined : (parse(first) as { koor_export?: unknown } | null);
  if (!header || typeof header !== 'object' || header.koor_export === undefined) {
    throw badRequest('not a Koor export: the first line must be the header {"koor_export": 1, ...}');
  }
  if (header.koor_export !== EXPORT_FORMAT) {
    throw badRequest(`unsupported koor_export format ${JSON.stringify(header.koor_export)}: this server reads format ${EXPORT_FORMAT}`);
  }

  {
    const tables = new Map((await userTables(ctx.db, trx)).map((t) => [t.name, t]));
    const occupied = await tablesWithRows(trx, [...tables.values()]);
    if (!options.merge) {
      const blocking = occupied.filter((name) => !SELF_RECORDING_TABLES.has(name));
      if (blocking.length > 0) {
        throw conflict(`this server already holds data (in ${blocking.join(', ')}): import into an empty server, or add ?merge=1 to skip rows that exist`, { tables: blocking });
      }
    }

    const imported: Record<string, number> = {};
    let total = 0;
    let batch: Batch | undefined;
    const flush = async () => {
      if (!batch) return;
      const done = batch;
      batch = undefined;
      const renumber = !options.merge && occupied.includes(done.table.name) && done.table.primaryKey.length === 1 &&
        (ctx.db.engine === 'sqlite' || done.table.serialColumns.includes(done.table.primaryKey[0]!));
      const skipExisting = options.merge || occupied.includes(done.table.name);
      const count = await insertRows(trx, done, { renumber, skipExisting });
      imported[done.table.name] = (imported[done.table.name] ?? 0) + count;
      total += count;
    };

    let ended: { rows?: unknown } | undefined;
    let streamed = 0;
    for (let line = await nextLine(); line !== undefined; line = await nextLine()) {
      if (ended) throw badRequest(`line ${lineNumber}: data after the end line`);
      const item = parse(line) as { table?: unknown; row?: unknown; koor_export_end?: unknown; rows?: unknown } | null;
      if (item && typeof item === 'object' && item.koor_export_end === true) {
        ended = item;
        continue;
      }
      if (!item || typeof item !== 'object' || typeof item.table !== 'string' || !item.row || typeof item.row !== 'object' || Array.isArray(item.row)) {
        throw badRequest(`line ${lineNumber}: expected {"table": name, "row": {...}}`);
      }
      const table = tables.get(item.table);
      if (!table) throw badRequest(`line ${lineNumber}: unknown table "${item.table}" (this server has ${[...tables.keys()].join(', ')})`);
      const row: Row = {};
      for (const [column, value] of Object.entries(item.row as Row)) {
        if (!table.columns.includes(column)) throw badRequest(`line ${lineNumber}: table ${table.name} has no column "${column}"`);
        row[column] = decodeValue(value, `line ${lineNumber}: ${table.name}.${column}`);
      }
      const perInsert = Math.max(1, Math.floor(MAX_PARAMETERS / Math.max(1, Object.keys(row).length)));
      if (batch && (batch.table !== table || batch.rows.length >= perInsert || !sameColumns(batch.rows[0]!, row))) await flush();
      batch ??= { table, rows: [], firstLine: lineNumber, lastLine: lineNumber };
      batch.rows.push(row);
      batch.lastLine = lineNumber;
      streamed++;
    }
    await flush();
    if (ended && ended.rows !== streamed) {
      throw badRequest(`the end line announces ${JSON.stringify(ended.rows)} rows but the stream holds ${streamed}`);
    }

    if (ctx.db.engine === 'postgres') await advanceSequences(trx, [...tables.values()]);
    return {
      value: { imported, total },
      audit: {
        actor: options.actor.id,
        action: BACKUP_ACTIONS.import,
        resource: 'database',
        detail: `${total} rows into ${Object.keys(imported).length} tables${options.merge ? ' (merge)' : ''}`,
      },
      // Cached current values may now be out of date.
      afterCommit: () => {
        ctx.stateStore.forgetCache();
        ctx.specStore.forgetCache();
      },
    };
  }
}

function sameColumns(a: Row, b: Row): boolean {
  const ak = Object.keys(a);
  const bk = Object.keys(b);
  return ak.length === bk.length && ak.every((k, i) => k === bk[i]);
}

async function tablesWithRows(trx: Transaction<Database>, tables: TableInfo[]): Promise<string[]> {
  const db = trx as unknown as AnyDb;
  const occupied: string[] = [];
  for (const table of tables) {
    const row = await db.selectFrom(table.name).select(sql`1`.as('one')).limit(1).executeTakeFirst();
    if (row) occupied.push(table.name);
  }
  return occupied;
}

async function insertRows(trx: Transaction<Database>, batch: Batch, how: { renumber: boolean; skipExisting: boolean }): Promise<number> {
  const db = trx as unknown as AnyDb;
  const key = batch.table.primaryKey[0]!;
  const rows = how.renumber ? batch.rows.map(({ [key]: _dropped, ...rest }) => rest) : batch.rows;
  try {
    let insert = db.insertInto(batch.table.name).values(rows);
    if (how.skipExisting) insert = insert.onConflict((oc) => oc.doNothing());
    const result = await insert.executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0);
  } catch (err) {
    throw badRequest(`lines ${batch.firstLine}-${batch.lastLine}: cannot insert into ${batch.table.name}: ${(err as Error).message}`);
  }
}

/** PostgreSQL sequences do not see explicitly inserted ids: move each one past its column's maximum. */
async function advanceSequences(trx: Transaction<Database>, tables: TableInfo[]): Promise<void> {
  for (const table of tables) {
    for (const column of table.serialColumns) {
      const qualified = `"${table.name.replace(/"/g, '""')}"`;
      await sql`select setval(pg_get_serial_sequence(${qualified}, ${column}),
                              coalesce((select max(${sql.ref(column)}) from ${sql.table(table.name)}), 0) + 1, false)`.execute(trx);
    }
  }
}

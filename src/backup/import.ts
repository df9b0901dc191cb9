import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { sql, type Kysely, type Transaction } from 'kysely';
import type { Actor, AppContext } from '../kernel/context.js';
import type { Database } from '../db/schema.js';
import { combineChanges, type Change, type WriteTx } from '../commit/change.js';
import { putStateIn } from '../state/state.js';
import { SOURCES, normalizeRule, upsertRulesIn, type RuleInput } from '../rules/rules.js';
import { HttpError, badRequest, conflict } from '../kernel/errors.js';
import { inWholeUnits } from '../kernel/byte-size.js';
import { importedRowProblem } from './row-checks.js';
import { Transform } from 'node:stream';
import { userTables, type TableInfo } from './catalog.js';
import { EXPORT_FORMAT } from './export.js';
import { restoreOmittedSecret } from './secrets.js';
import { markLeasesChangedIn } from '../leases/leases.js';

type Row = Record<string, unknown>;

/** The audit action of an import, named once. */
export const BACKUP_ACTIONS = { import: 'backup.import' } as const;
type AnyDb = Kysely<Record<string, Row>>;

import type { ImportResult } from './schemas.js';
export type { ImportResult };

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
export async function importStream(ctx: AppContext, body: Readable, options: { merge: boolean; actor: Actor; declaredBytes?: number }): Promise<ImportResult> {
  const limit = ctx.config.importLimitBytes;
  if (options.declaredBytes !== undefined && options.declaredBytes > limit) throw overImportLimit(limit);
  // The upload is spooled to a file first: the transaction then reads at disk speed and never
  // waits on a slow client (on SQLite, every other request would wait with it). It is read back
  // once, a line at a time: the body is never held in memory, whatever its size.
  const dir = await mkdtemp(join(tmpdir(), 'koor-import-'));
  try {
    const file = join(dir, 'import.jsonl');
    await pipeline(body, countedUpTo(limit), createWriteStream(file));
    const goBackup = await readGoBackup(file);
    if (goBackup) return await restoreGoBackup(ctx, goBackup, options);
    return await importLineSource(ctx, () => fileLines(file), options);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The 413 of an import past `--import-limit`. */
function overImportLimit(limit: number): HttpError {
  const whole = inWholeUnits(limit);
  const size = whole ? `${whole.amount} ${whole.unit}` : `${limit} bytes`;
  return new HttpError(413, `the import is larger than the ${size} import limit (--import-limit)`, { reason: 'import_too_large', limit_bytes: limit });
}

/** Passes bytes through until more than `limit` went by, then fails with the 413. */
function countedUpTo(limit: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      seen += chunk.length;
      if (seen > limit) done(overImportLimit(limit));
      else done(null, chunk);
    },
  });
}

/** The lines of a file, closing it when the reader stops early. */
async function* fileLines(file: string): AsyncGenerator<string> {
  const input = createReadStream(file);
  const reader = createInterface({ input, crlfDelay: Infinity });
  try {
    yield* reader;
  } finally {
    reader.close();
    input.destroy();
  }
}

/**
 * Loads export lines in one change. `lines` is called each time the change runs (the
 * committer retries a failed batch change by change), so each run reads from the start.
 */
export async function importLineSource(ctx: AppContext, lines: () => AsyncIterable<string>, options: { merge: boolean; actor: Actor }): Promise<ImportResult> {
  return ctx.commit(async (trx) => {
    const iterator = lines()[Symbol.asyncIterator]();
    try {
      return await importLines(ctx, trx, iterator, options);
    } finally {
      await iterator.return?.();
    }
  }, { emits: false });
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
    if (!options.merge) refuseUnlessEmpty(occupied, 'add ?merge=1 to skip rows that exist');

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
    const rowsSeen = new Map<string, number>();
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
      const index = (rowsSeen.get(table.name) ?? 0) + 1;
      rowsSeen.set(table.name, index);
      const where = `${table.name} row ${index} (line ${lineNumber})`;
      let row: Row = {};
      for (const [column, value] of Object.entries(item.row as Row)) {
        if (!table.columns.includes(column)) throw badRequest(`${where}: table ${table.name} has no column "${column}"`);
        row[column] = decodeValue(value, `${where}: ${column}`);
      }
      // An export made without secrets left them out; the row gets a harmless stand-in.
      row = restoreOmittedSecret(table.name, row);
      const problem = await importedRowProblem(ctx, table.name, row);
      if (problem) throw badRequest(`${where}: ${problem}`, { reason: 'invalid_import_row', table: table.name, row: index, line: lineNumber });
      // This server did not record what an import brings: such entries are marked, whatever the
      // stream says, so an import cannot add entries that look like its own.
      if (table.name === 'audit_log') row.imported = 1;
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
    // Leases kept in memory (here and on other replicas) are no longer current.
    await markLeasesChangedIn(trx);
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
        ctx.activeLeases.forget();
      },
    };
  }
}

/** 409 when tables other than the self-recording ones hold rows. */
function refuseUnlessEmpty(occupied: string[], orElse: string): void {
  const blocking = occupied.filter((name) => !SELF_RECORDING_TABLES.has(name));
  if (blocking.length > 0) {
    throw conflict(`this server already holds data (in ${blocking.join(', ')}): import into an empty server, or ${orElse}`, { tables: blocking });
  }
}

/** A Go Koor backup file (`koor-cli backup` of Go Koor): its state values and rules. */
interface GoBackup {
  state: Record<string, unknown>;
  rules: RuleInput[];
}

/**
 * The Go Koor backup in `file`, or undefined when the file is something else (a Koor export
 * starts with its one-line header; Go writes one indented JSON document {state, rules}).
 */
async function readGoBackup(file: string): Promise<GoBackup | undefined> {
  const handle = await open(file);
  let start: string;
  try {
    const head = Buffer.alloc(4096);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    start = head.subarray(0, bytesRead).toString('utf8');
  } finally {
    await handle.close();
  }
  const firstLine = start.trimStart().split('\n', 1)[0]!.trim();
  if (firstLine !== '{' && !/^\{\s*"(state|rules)"/.test(firstLine)) return undefined;
  let doc: unknown;
  try {
    doc = JSON.parse(await readFile(file, 'utf8'));
  } catch {
    return undefined;
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) return undefined;
  const { state, rules, ...rest } = doc as Record<string, unknown>;
  if (Object.keys(rest).length > 0 || (state === undefined && rules === undefined)) return undefined;
  if (state !== undefined && (typeof state !== 'object' || state === null || Array.isArray(state))) throw badRequest('Go Koor backup: "state" must be an object of key → value');
  if (rules !== undefined && rules !== null && !Array.isArray(rules)) throw badRequest('Go Koor backup: "rules" must be an array');
  return { state: (state ?? {}) as Record<string, unknown>, rules: (rules ?? []) as RuleInput[] };
}

/**
 * Restores a Go Koor backup as Go's own restore did: each state value written as the key's
 * new version (JSON, compact), each rule upserted as accepted; all in one change. Without
 * `merge` the server must be empty, as for any import.
 */
async function restoreGoBackup(ctx: AppContext, backup: GoBackup, options: { merge: boolean; actor: Actor }): Promise<ImportResult> {
  const now = new Date().toISOString();
  const rules = backup.rules.map((input, index) => {
    if (!input || typeof input !== 'object') throw badRequest(`Go Koor backup: rules[${index}] must be an object`);
    if (!input.project) throw badRequest(`Go Koor backup: rules[${index}] ("${input.rule_id ?? ''}") has no project`);
    // Go Koor also knew other sources (its backups ask for `user-rules`); they come in as external.
    const source = (SOURCES as readonly string[]).includes(input.source ?? '') ? input.source : undefined;
    return normalizeRule({ ...input, source, status: 'accepted' }, { project: input.project, source: 'external', created_at: now });
  });
  const entries = Object.entries(backup.state);
  return ctx.commit(async (trx) => {
    if (!options.merge) refuseUnlessEmpty(await tablesWithRows(trx, await userTables(ctx.db, trx)), 'add --merge (?merge=1) to write the backup over what is there');
    const parts: Change<unknown>[] = [];
    for (const [key, value] of entries) {
      parts.push(await putStateIn(ctx, trx, { key, data: Buffer.from(JSON.stringify(value)) }, options.actor));
    }
    if (rules.length > 0) parts.push(await upsertRulesIn(trx, rules));
    const imported = { state: entries.length, rules: rules.length };
    const total = entries.length + rules.length;
    return combineChanges({ imported, total }, parts, {
      audit: { actor: options.actor.id, action: BACKUP_ACTIONS.import, resource: 'database', detail: `Go Koor backup: ${entries.length} state keys, ${rules.length} rules${options.merge ? ' (merge)' : ''}` },
    });
  });
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

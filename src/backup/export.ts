import type { Kysely } from 'kysely';
import type { AppContext } from '../kernel/context.js';
import { flushAgentMetrics } from '../metrics/agent-metrics.js';
import { userTables, type TableInfo } from './catalog.js';
import { withoutSecrets } from './secrets.js';

/** The format version of an export stream; an import refuses any other. */
export const EXPORT_FORMAT = 1;

const PAGE_ROWS = 500;

type Row = Record<string, unknown>;

/** A JSON-safe copy of a row: bytes become `{"$bytes": base64}`. */
export function encodeRow(row: Row): Row {
  const out: Row = {};
  for (const [column, value] of Object.entries(row)) {
    out[column] = Buffer.isBuffer(value) || value instanceof Uint8Array ? { $bytes: Buffer.from(value).toString('base64') } : value;
  }
  return out;
}

/**
 * Yields the whole database as JSON lines: a header, then `{"table", "row"}` for every row of
 * every user table (parents first), then an end line with the row count so an importer can tell
 * a complete export from a cut-off one. Without `includeSecrets` the instances' token hashes
 * and the webhooks' secrets are left out (secrets.ts says what an import makes of that), and
 * the header says `"secrets": false`. Tables are read a page at a time, so memory stays
 * flat however big the database is. The pages are separate reads: writes that land during the
 * export may or may not be in it (stop writers for a point-in-time copy).
 */
export async function* exportLines(ctx: AppContext, options: { includeSecrets: boolean } = { includeSecrets: false }): AsyncGenerator<string> {
  // Agent counts still in memory belong in the export too.
  await flushAgentMetrics(ctx);
  yield `${JSON.stringify({ koor_export: EXPORT_FORMAT, version: ctx.version, exported_at: new Date().toISOString(), engine: ctx.db.engine, secrets: options.includeSecrets })}\n`;
  let rows = 0;
  for (const table of await userTables(ctx.db)) {
    for await (const page of tablePages(ctx, table)) {
      let chunk = '';
      for (const row of page) {
        const shown = options.includeSecrets ? row : withoutSecrets(table.name, row);
        chunk += `${JSON.stringify({ table: table.name, row: encodeRow(shown) })}\n`;
      }
      rows += page.length;
      yield chunk;
    }
  }
  // Agent counts still in memory belong in the export too.
  await flushAgentMetrics(ctx);
  yield `${JSON.stringify({ koor_export_end: true, rows })}\n`;
}

/**
 * Reads a table in primary-key order, a page at a time. With a key the next page starts after
 * the last key seen (fast at any depth); a table without one is paged by offset over all columns.
 */
async function* tablePages(ctx: AppContext, table: TableInfo): AsyncGenerator<Row[]> {
  // The table is only known at run time, so the typed query builder is told it is any table.
  const db = ctx.db.query as unknown as Kysely<Record<string, Row>>;
  const key = table.primaryKey;
  const order = key.length > 0 ? key : table.columns;
  let last: Row | undefined;
  let offset = 0;
  for (;;) {
    let query = db.selectFrom(table.name).selectAll();
    if (key.length > 0 && last) {
      const after = last;
      query = key.length === 1
        ? query.where(key[0]!, '>', after[key[0]!])
        : query.where((eb) => eb(eb.refTuple(...(key as [string, string])), '>', eb.tuple(...(key.map((k) => after[k]) as [unknown, unknown]))));
    }
    for (const column of order) query = query.orderBy(column);
    if (key.length === 0) query = query.offset(offset);
    const page = await query.limit(PAGE_ROWS).execute();
    if (page.length === 0) return;
    yield page;
    if (page.length < PAGE_ROWS) return;
    last = page[page.length - 1];
    offset += page.length;
  }
}

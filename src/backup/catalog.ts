import { sql } from 'kysely';
import type { ReadDb, ReadQuery } from '../db/engine.js';
import { DATABASE_LAYER_TABLES } from '../db/tables.js';

/** One user table as the engine describes it. */
export interface TableInfo {
  name: string;
  columns: string[];
  /** Primary-key columns in key order; empty when the table has none. */
  primaryKey: string[];
  /** PostgreSQL: columns fed by a sequence (serial/identity), whose sequence an import must move past. */
  serialColumns: string[];
}

// Kysely's own bookkeeping (the schema version belongs to the code, never to the data) and the
// database layer's (its health probe, the replicas' leadership terms): no part of a backup.
const MIGRATION_TABLES = new Set<string>(['kysely_migration', 'kysely_migration_lock', ...DATABASE_LAYER_TABLES]);

/**
 * Every user table of the database, discovered at run time (so tables added by any domain's
 * migration are included without this module knowing them), parents before the tables whose
 * foreign keys point at them, otherwise by name.
 */
export async function userTables(db: ReadDb, executor: ReadQuery = db.query): Promise<TableInfo[]> {
  const described = db.engine === 'postgres' ? await describePostgres(executor) : await describeSqlite(executor);
  return dependencyOrder(described.tables, described.parents);
}

interface Described {
  tables: TableInfo[];
  /** table → tables it references */
  parents: Map<string, Set<string>>;
}

async function describeSqlite(executor: ReadQuery): Promise<Described> {
  const names = await sql<{ name: string }>`
    select name from sqlite_master where type = 'table' and name not like 'sqlite_%' order by name`.execute(executor);
  const tables: TableInfo[] = [];
  const parents = new Map<string, Set<string>>();
  for (const { name } of names.rows) {
    if (MIGRATION_TABLES.has(name)) continue;
    const columns = await sql<{ name: string; pk: number }>`select name, pk from pragma_table_info(${name}) order by cid`.execute(executor);
    const keys = await sql<{ parent: string }>`select "table" as parent from pragma_foreign_key_list(${name})`.execute(executor);
    tables.push({
      name,
      columns: columns.rows.map((c) => c.name),
      primaryKey: columns.rows.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk).map((c) => c.name),
      serialColumns: [],
    });
    parents.set(name, new Set(keys.rows.map((k) => k.parent)));
  }
  return { tables, parents };
}

async function describePostgres(executor: ReadQuery): Promise<Described> {
  const columns = await sql<{ table_name: string; column_name: string; serial: boolean }>`
    select table_name, column_name,
           (column_default like 'nextval(%' or is_identity = 'YES') as serial
      from information_schema.columns
     where table_schema = current_schema()
       and table_name in (select table_name from information_schema.tables
                           where table_schema = current_schema() and table_type = 'BASE TABLE')
     order by table_name, ordinal_position`.execute(executor);
  const keys = await sql<{ table_name: string; column_name: string }>`
    select kcu.table_name, kcu.column_name
      from information_schema.table_constraints tc
      join information_schema.key_column_usage kcu
        on kcu.constraint_name = tc.constraint_name and kcu.constraint_schema = tc.constraint_schema
     where tc.constraint_type = 'PRIMARY KEY' and tc.table_schema = current_schema()
     order by kcu.table_name, kcu.ordinal_position`.execute(executor);
  const references = await sql<{ child: string; parent: string }>`
    select tc.table_name as child, ccu.table_name as parent
      from information_schema.table_constraints tc
      join information_schema.constraint_column_usage ccu
        on ccu.constraint_name = tc.constraint_name and ccu.constraint_schema = tc.constraint_schema
     where tc.constraint_type = 'FOREIGN KEY' and tc.table_schema = current_schema()`.execute(executor);

  const byName = new Map<string, TableInfo>();
  for (const c of columns.rows) {
    if (MIGRATION_TABLES.has(c.table_name)) continue;
    let table = byName.get(c.table_name);
    if (!table) byName.set(c.table_name, (table = { name: c.table_name, columns: [], primaryKey: [], serialColumns: [] }));
    table.columns.push(c.column_name);
    if (c.serial) table.serialColumns.push(c.column_name);
  }
  for (const k of keys.rows) byName.get(k.table_name)?.primaryKey.push(k.column_name);
  const parents = new Map<string, Set<string>>();
  for (const r of references.rows) {
    if (!parents.has(r.child)) parents.set(r.child, new Set());
    parents.get(r.child)!.add(r.parent);
  }
  return { tables: [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)), parents };
}

/** Kahn's algorithm with name order among the ready tables; a reference cycle keeps name order. */
function dependencyOrder(tables: TableInfo[], parents: Map<string, Set<string>>): TableInfo[] {
  const pending = new Map(tables.map((t) => [t.name, t]));
  const ordered: TableInfo[] = [];
  while (pending.size > 0) {
    const ready = [...pending.values()].filter((t) =>
      [...(parents.get(t.name) ?? [])].every((p) => p === t.name || !pending.has(p)),
    );
    const next = ready.length > 0 ? ready : [...pending.values()].slice(0, 1);
    for (const table of next) {
      ordered.push(table);
      pending.delete(table.name);
    }
  }
  return ordered;
}

import { sql, type ColumnDefinitionBuilder, type CreateTableBuilder, type RawBuilder } from 'kysely';
import type { EngineName } from './engine.js';

// The few column types that are spelled differently by SQLite and PostgreSQL. Migrations use
// these so that one migration file serves both engines.

/** An auto-incrementing 64-bit primary key. */
export function addIdColumn<T extends string>(table: CreateTableBuilder<T, never>, engine: EngineName, name = 'id') {
  return engine === 'postgres'
    ? table.addColumn(name, 'bigserial', (c: ColumnDefinitionBuilder) => c.primaryKey())
    : table.addColumn(name, 'integer', (c: ColumnDefinitionBuilder) => c.primaryKey().autoIncrement());
}

/** Raw bytes. */
export function blobType(engine: EngineName): RawBuilder<unknown> {
  return engine === 'postgres' ? sql`bytea` : sql`blob`;
}

/** A 64-bit integer (SQLite integers are always 64-bit). */
export function bigintType(engine: EngineName): RawBuilder<unknown> {
  return engine === 'postgres' ? sql`bigint` : sql`integer`;
}

import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { openDatabase, type Db } from './engine.js';
import { FixedInsert, FixedStatement, type Placeholders } from './fixed-statement.js';
import { createTestDatabase } from '../../test/support/postgres.js';
import { testEngines, type TestEngine } from '../../test/support/app.js';

interface Entry {
  timestamp: string;
  actor: string;
  resource: string;
}

// Built with the query builder; `action` and `outcome` are constants of the statement.
const insert = new FixedStatement((db, p: Placeholders<Entry>) =>
  db
    .insertInto('audit_log')
    .values({ timestamp: p('timestamp'), actor: p('actor'), action: 'test.fixed', resource: p('resource'), detail: '', outcome: 'success' })
    .returning('id'),
);
const count = async (db: Db) =>
  Number((await db.query.selectFrom('audit_log').select((eb) => eb.fn.countAll<number>().as('n')).where('action', '=', 'test.fixed').executeTakeFirstOrThrow()).n);

/** An empty database of the engine's, closed (and dropped) after the test. */
async function openTestDatabase(t: TestContext, engine: TestEngine): Promise<Db> {
  const dataDir = mkdtempSync(join(tmpdir(), 'koor-fixed-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const pgDatabase = engine === 'postgres' ? await createTestDatabase(process.env.KOOR_TEST_POSTGRES_URL!) : undefined;
  const db = await openDatabase({ dataDir, database: pgDatabase?.url });
  t.after(async () => {
    await db.close();
    await pgDatabase?.drop();
  });
  return db;
}

test('a fixed statement takes its SQL text from the query builder, in each engine\'s own spelling', () => {
  assert.equal(
    insert.sqlFor('sqlite'),
    'insert into "audit_log" ("timestamp", "actor", "action", "resource", "detail", "outcome") values (?, ?, ?, ?, ?, ?) returning "id"',
  );
  assert.equal(
    insert.sqlFor('postgres'),
    'insert into "audit_log" ("timestamp", "actor", "action", "resource", "detail", "outcome") values ($1, $2, $3, $4, $5, $6) returning "id"',
  );
});

for (const engine of testEngines()) {
  test(`a fixed statement commits and rolls back with the transaction it runs in, on ${engine}`, async (t) => {
    const db = await openTestDatabase(t, engine);

    // Outside a transaction, and inside one that commits.
    const [outside] = await insert.run(db.query, { timestamp: '2026-01-01T00:00:00.000Z', actor: 'a', resource: 'outside' });
    assert.ok(Number(outside!.id) > 0);
    let ended: Parameters<typeof insert.run>[0] | undefined;
    await db.transaction(async (trx) => {
      ended = trx;
      await insert.run(trx, { timestamp: '2026-01-01T00:00:01.000Z', actor: 'a', resource: 'committed' });
    });
    assert.equal(await count(db), 2);

    // Inside one that fails: the row goes with it.
    await assert.rejects(
      db.transaction(async (trx) => {
        await insert.run(trx, { timestamp: '2026-01-01T00:00:02.000Z', actor: 'a', resource: 'rolled back' });
        throw new Error('changed my mind');
      }),
      /changed my mind/,
    );
    assert.equal(await count(db), 2);

    // A transaction's executor used after its end is refused, never run on the connection.
    await assert.rejects(insert.run(ended!, { timestamp: '2026-01-01T00:00:03.000Z', actor: 'a', resource: 'stale' }));

    const rows = await db.query.selectFrom('audit_log').select(['resource', 'outcome', 'detail']).where('action', '=', 'test.fixed').orderBy('id').execute();
    assert.deepEqual(rows, [
      { resource: 'outside', outcome: 'success', detail: '' },
      { resource: 'committed', outcome: 'success', detail: '' },
    ]);
  });
}

// A `?` that is not a placeholder: in a literal, and (PostgreSQL) jsonb's key-exists operator.
// Turning every `?` into `$n` by hand broke both.
const insertQuestion = new FixedStatement((db, p: Placeholders<{ resource: string; timestamp: string }>) =>
  db.insertInto('audit_log').values({
    timestamp: p('timestamp'),
    actor: sql.lit('who?'),
    action: 'test.question',
    resource: p('resource'),
    // The same value twice: each use is its own parameter.
    detail: sql`${p('resource')} || ' (asked?)'`,
    outcome: 'success',
  }),
);

for (const engine of testEngines()) {
  test(`a "?" inside the SQL is not taken for a placeholder, on ${engine}`, async (t) => {
    const db = await openTestDatabase(t, engine);
    // Through the query builder's executor, and straight on the connection (SQLite) in a transaction.
    await insertQuestion.run(db.query, { resource: 'why 0?', timestamp: '2026-01-01T00:00:00.000Z' });
    await db.transaction((trx) => insertQuestion.run(trx, { resource: 'why 1?', timestamp: '2026-01-01T00:00:01.000Z' }));
    const rows = await db.query.selectFrom('audit_log').select(['actor', 'resource', 'detail']).where('action', '=', 'test.question').orderBy('id').execute();
    assert.deepEqual(rows, [
      { actor: 'who?', resource: 'why 0?', detail: 'why 0? (asked?)' },
      { actor: 'who?', resource: 'why 1?', detail: 'why 1? (asked?)' },
    ]);

    if (engine === 'postgres') {
      const hasKey = new FixedStatement((qb, p: Placeholders<{ doc: string; key: string }>) =>
        qb.selectNoFrom(sql<boolean>`cast(${p('doc')} as jsonb) ? ${p('key')}`.as('has')),
      );
      assert.deepEqual(await hasKey.run(db.query, { doc: '{"a": 1}', key: 'a' }), [{ has: true }]);
      assert.deepEqual(await hasKey.run(db.query, { doc: '{"a": 1}', key: 'b' }), [{ has: false }]);
    }
  });
}

const insertWithId = new FixedInsert((db, p: Placeholders<{ timestamp: string; resource: string }>) =>
  db.insertInto('audit_log').values({ timestamp: p('timestamp'), actor: 'a', action: 'test.id', resource: p('resource'), detail: '', outcome: 'success' }),
);

for (const engine of testEngines()) {
  test(`a fixed insert answers the id of the row it stored, in and out of a transaction, on ${engine}`, async (t) => {
    const db = await openTestDatabase(t, engine);

    const answered: Record<string, number> = {};
    answered.outside = await insertWithId.insert(db.query, { timestamp: '2026-01-01T00:00:00.000Z', resource: 'outside' });
    await db.transaction(async (trx) => {
      answered.first = await insertWithId.insert(trx, { timestamp: '2026-01-01T00:00:01.000Z', resource: 'first' });
      // A row in between elsewhere must not confuse which id belongs to the next insert.
      await insert.run(trx, { timestamp: '2026-01-01T00:00:01.500Z', actor: 'a', resource: 'other' });
      answered.second = await insertWithId.insert(trx, { timestamp: '2026-01-01T00:00:02.000Z', resource: 'second' });
    });

    const rows = await db.query.selectFrom('audit_log').select(['id', 'resource']).where('action', '=', 'test.id').orderBy('id').execute();
    assert.deepEqual(
      rows.map((r) => [r.resource, Number(r.id)]),
      [['outside', answered.outside], ['first', answered.first], ['second', answered.second]],
    );
    assert.ok(answered.outside! < answered.first! && answered.first! < answered.second!);
  });
}

// What the query builder does not say is written with `sql`, still compiled once per engine.
const savepoint = new FixedStatement(() => sql`savepoint fixed_test`);
const rollbackToSavepoint = new FixedStatement(() => sql`rollback to savepoint fixed_test`);

for (const engine of testEngines()) {
  test(`a fixed statement written with sql (a savepoint) runs in the transaction, on ${engine}`, async (t) => {
    const db = await openTestDatabase(t, engine);
    await db.transaction(async (trx) => {
      await insert.run(trx, { timestamp: '2026-01-01T00:00:00.000Z', actor: 'a', resource: 'kept' });
      await savepoint.run(trx);
      await insert.run(trx, { timestamp: '2026-01-01T00:00:01.000Z', actor: 'a', resource: 'undone' });
      await rollbackToSavepoint.run(trx);
    });
    const rows = await db.query.selectFrom('audit_log').select('resource').where('action', '=', 'test.fixed').execute();
    assert.deepEqual(rows, [{ resource: 'kept' }]);
  });
}

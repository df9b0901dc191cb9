import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type Db } from './engine.js';
import { FixedInsert, FixedStatement } from './fixed-statement.js';
import { createTestDatabase } from '../../test/support/postgres.js';
import { testEngines, type TestEngine } from '../../test/support/app.js';

const insert = new FixedStatement<{ id: number }>(
  "insert into audit_log (timestamp, actor, action, resource, detail, outcome) values (?, ?, 'test.fixed', ?, '', 'success') returning id",
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

for (const engine of testEngines()) {
  test(`a fixed statement commits and rolls back with the transaction it runs in, on ${engine}`, async (t) => {
    const db = await openTestDatabase(t, engine);

    // Outside a transaction, and inside one that commits.
    const [outside] = await insert.run(db.query, ['2026-01-01T00:00:00.000Z', 'a', 'outside']);
    assert.ok(Number(outside!.id) > 0);
    let ended: Parameters<typeof insert.run>[0] | undefined;
    await db.transaction(async (trx) => {
      ended = trx;
      await insert.run(trx, ['2026-01-01T00:00:01.000Z', 'a', 'committed']);
    });
    assert.equal(await count(db), 2);

    // Inside one that fails: the row goes with it.
    await assert.rejects(
      db.transaction(async (trx) => {
        await insert.run(trx, ['2026-01-01T00:00:02.000Z', 'a', 'rolled back']);
        throw new Error('changed my mind');
      }),
      /changed my mind/,
    );
    assert.equal(await count(db), 2);

    // A transaction's executor used after its end is refused, never run on the connection.
    await assert.rejects(insert.run(ended!, ['2026-01-01T00:00:03.000Z', 'a', 'stale']));

    const resources = await db.query.selectFrom('audit_log').select('resource').where('action', '=', 'test.fixed').orderBy('id').execute();
    assert.deepEqual(resources.map((r) => r.resource), ['outside', 'committed']);
  });
}

const insertWithId = new FixedInsert("insert into audit_log (timestamp, actor, action, resource, detail, outcome) values (?, 'a', 'test.id', ?, '', 'success')");

for (const engine of testEngines()) {
  test(`a fixed insert answers the id of the row it stored, in and out of a transaction, on ${engine}`, async (t) => {
    const db = await openTestDatabase(t, engine);

    const answered: Record<string, number> = {};
    answered.outside = await insertWithId.insert(db.query, ['2026-01-01T00:00:00.000Z', 'outside']);
    await db.transaction(async (trx) => {
      answered.first = await insertWithId.insert(trx, ['2026-01-01T00:00:01.000Z', 'first']);
      // A row in between elsewhere must not confuse which id belongs to the next insert.
      await insert.run(trx, ['2026-01-01T00:00:01.500Z', 'a', 'other']);
      answered.second = await insertWithId.insert(trx, ['2026-01-01T00:00:02.000Z', 'second']);
    });

    const rows = await db.query.selectFrom('audit_log').select(['id', 'resource']).where('action', '=', 'test.id').orderBy('id').execute();
    assert.deepEqual(
      rows.map((r) => [r.resource, Number(r.id)]),
      [['outside', answered.outside], ['first', answered.first], ['second', answered.second]],
    );
    assert.ok(answered.outside! < answered.first! && answered.first! < answered.second!);
  });
}

import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { buildApp } from '../server/app.js';
import { createTestDatabase } from '../../test/support/postgres.js';

const serverUrl = process.env.KOOR_TEST_POSTGRES_URL;

/** The database URL with `search_path` set to `schema` for every connection. */
function inSchema(url: string, schema: string): string {
  const withOptions = new URL(url);
  withOptions.searchParams.set('options', `-c search_path=${schema}`);
  return withOptions.toString();
}

// Kysely's migrator, asked for no schema, takes migration tables in any schema of the
// database for its own. Next to another app that migrates with Kysely it skipped creating
// Koor's and failed to start: "relation kysely_migration_lock does not exist".
test('on postgres, the server migrates its own schema, whatever other schemas of the database hold', { skip: !serverUrl && 'KOOR_TEST_POSTGRES_URL is not set' }, async (t) => {
  const database = await createTestDatabase(serverUrl!);
  t.after(() => database.drop());
  const admin = new pg.Client({ connectionString: database.url });
  await admin.connect();
  try {
    // Another application's Kysely migration tables, in a schema of its own.
    await admin.query(`create schema billing;
      create table billing.kysely_migration (name varchar(255) primary key, timestamp varchar(255) not null);
      create table billing.kysely_migration_lock (id varchar(255) primary key, is_locked integer not null default 0);
      create schema team_b;`);
  } finally {
    await admin.end();
  }

  const open = (url: string) => buildApp({ database: url, dashboardBind: '', logLevel: 'silent' });
  const put = (app: Awaited<ReturnType<typeof open>>, value: string) =>
    app.inject({ method: 'PUT', url: '/api/state/plan', payload: value, headers: { 'content-type': 'text/plain' } });

  // Koor in the default schema (public) starts and works beside the other app.
  const teamA = await open(database.url);
  t.after(() => teamA.close());
  assert.equal((await put(teamA, 'a')).statusCode, 200);

  // A second Koor in a schema of its own (search_path) keeps its data apart from the first.
  const teamB = await open(inSchema(database.url, 'team_b'));
  let teamBOpen = true;
  t.after(() => (teamBOpen ? teamB.close() : undefined));
  assert.equal((await put(teamB, 'b1')).statusCode, 200);
  assert.equal((await put(teamB, 'b2')).json().version, 2);
  assert.equal((await teamA.inject({ method: 'GET', url: '/api/state/plan' })).body, 'a');
  assert.equal((await teamB.inject({ method: 'GET', url: '/api/state/plan' })).body, 'b2');

  // Restarting migrates nothing twice: each finds its own record of what it applied.
  await teamB.close();
  teamBOpen = false;
  const again = await open(inSchema(database.url, 'team_b'));
  t.after(() => again.close());
  assert.equal((await again.inject({ method: 'GET', url: '/api/state/plan' })).body, 'b2');
});

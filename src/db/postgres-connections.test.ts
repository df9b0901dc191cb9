import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { startTestApp } from '../../test/support/app.js';

const serverUrl = process.env.KOOR_TEST_POSTGRES_URL;

// PostgreSQL ends connections on a restart, a failover or an administrator's command; the
// pool's idle connections then report an error that nobody asked for.
test('on postgres, the server carries on after PostgreSQL ends its idle connections', { skip: !serverUrl && 'KOOR_TEST_POSTGRES_URL is not set' }, async (t) => {
  const warnings: string[] = [];
  const { app, close } = await startTestApp({}, 'postgres');
  t.after(close);
  const warn = app.log.warn.bind(app.log);
  app.log.warn = ((...args: Parameters<typeof warn>) => {
    warnings.push(String(args.at(-1)));
    return warn(...args);
  }) as typeof app.log.warn;

  // Several requests at once, so the pool holds several connections when they go idle.
  const puts = await Promise.all(
    Array.from({ length: 8 }, (_, i) => app.inject({ method: 'PUT', url: `/api/state/conn/${i}`, payload: { i }, headers: { 'content-type': 'application/json' } })),
  );
  assert.deepEqual(puts.map((r) => r.statusCode), Array(8).fill(200));

  const database = new URL(app.koor.config.database).pathname.slice(1);
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    const { rows } = await admin.query('select pg_terminate_backend(pid) as ended from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()', [database]);
    assert.ok(rows.length > 0, 'the app had connections to end');
  } finally {
    await admin.end();
  }
  // Let the terminations arrive: the pool's (its replica connections' come too, and may be first).
  const poolWarned = () => warnings.some((w) => /PostgreSQL closed an idle connection/.test(w));
  for (let waited = 0; !poolWarned() && waited < 5000; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
  assert.ok(poolWarned(), `warnings: ${warnings.join(' | ')}`);
  // The other idle connections hear of it within moments of the first.
  await new Promise((resolve) => setTimeout(resolve, 200));

  // New connections take their place.
  const after = await app.inject({ method: 'GET', url: '/api/state/conn/3' });
  assert.equal(after.statusCode, 200);
  assert.deepEqual(after.json(), { i: 3 });
  const write = await app.inject({ method: 'PUT', url: '/api/state/conn/3', payload: { i: 33 }, headers: { 'content-type': 'application/json' } });
  assert.equal(write.json().version, 2);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { startListeningApp, testEngines, type TestApp } from './support/app.js';
import { loadConfig, ConfigError } from '../src/server/config.js';

// SPEC §15: "Refused requests cost nothing." A 401 stores no audit row (it is counted in the
// Prometheus metrics), audit fields are cut at 1 KB, and entries are kept for --audit-retention.

/** What the database takes on disk now: SQLite's files, or PostgreSQL's own count of the test database. */
async function databaseBytes(test: TestApp): Promise<number> {
  const db = test.app.koor.db;
  if (db.engine === 'postgres') {
    const { rows } = await sql<{ size: string }>`select pg_database_size(current_database()) as size`.execute(db.query);
    return Number(rows[0]!.size);
  }
  let total = 0;
  for (const file of ['data.db', 'data.db-wal', 'data.db-shm']) {
    const path = join(test.dataDir, file);
    if (existsSync(path)) total += statSync(path).size;
  }
  return total;
}

/** Runs `count` calls of `one`, `parallel` at a time. */
async function flood(count: number, parallel: number, one: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: parallel }, async () => {
    while (next < count) await one(next++);
  }));
}

for (const engine of testEngines()) {
  test(`thousands of unauthenticated writes with 15 000-character keys grow the database by less than 1 MB, on ${engine}`, async (t) => {
    const server = await startListeningApp({ authToken: 'admin-secret' }, engine);
    t.after(server.close);
    const admin = { authorization: 'Bearer admin-secret' };
    const before = await databaseBytes(server);
    const REQUESTS = 3000;
    const statuses = new Map<number, number>();
    await flood(REQUESTS, 16, async (i) => {
      const key = `${i}-${'k'.repeat(15_000)}`;
      const res = await fetch(`${server.url}/api/state/${key}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: `{"n":${i}}` });
      await res.arrayBuffer();
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    });
    assert.deepEqual([...statuses], [[401, REQUESTS]]);
    const grown = (await databaseBytes(server)) - before;
    assert.ok(grown < 1024 * 1024, `the database grew by ${grown} bytes`);

    const audit = await fetch(`${server.url}/api/audit?limit=1000`, { headers: admin });
    assert.deepEqual(await audit.json(), [], 'a 401 leaves no audit entry');
    const metrics = await (await fetch(`${server.url}/metrics`, { headers: admin })).text();
    assert.match(metrics, new RegExp(`^koor_auth_unauthorized_total ${REQUESTS}$`, 'm'));
  });

  test(`audit entries older than --audit-retention are pruned by the background jobs, and long fields are cut at 1 KB, on ${engine}`, async (t) => {
    const server = await startListeningApp({ auditRetentionMs: 1500, pruneIntervalMs: 50 }, engine);
    t.after(server.close);
    const entries = async () => (await (await fetch(`${server.url}/api/audit?limit=1000`)).json()) as Array<{ resource: string; detail: string }>;
    const put = async (key: string, status = 200) => {
      const res = await fetch(`${server.url}/api/state/${key}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"a":1}' });
      assert.equal(res.status, status);
    };

    // A key too long to store is refused, and the failure's entry keeps only 1 KB of it.
    await put(`long-${'x'.repeat(3000)}`, 400);
    const [long] = await entries();
    assert.equal(long!.resource.length, 1024, 'the resource is cut at 1 KB');
    assert.ok(long!.resource.endsWith('…'));
    assert.ok(long!.detail.length <= 1024);
    await put('a');
    await put('b');
    assert.equal((await entries()).length, 3);

    const deadline = Date.now() + 30_000;
    while ((await entries()).length > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    assert.deepEqual(await entries(), [], 'old entries are gone');
    // A fresh entry is younger than the retention period: it stays.
    await put('c');
    assert.deepEqual((await entries()).map((e) => e.resource), ['c']);
  });
}

test('--read-token takes several tokens and --audit-retention a duration or off, from flags, environment and file', () => {
  assert.deepEqual(loadConfig([]).readTokens, []);
  assert.equal(loadConfig([]).auditRetentionMs, 90 * 24 * 3_600_000);
  assert.deepEqual(loadConfig(['--read-token', 'a', '--read-token', 'b,c']).readTokens, ['a', 'b', 'c']);
  assert.deepEqual(loadConfig([], { KOOR_READ_TOKEN: 'x, y' }).readTokens, ['x', 'y']);
  assert.throws(() => loadConfig(['--read-token', 'a,,b']), (err: Error) => err instanceof ConfigError && /--read-token: an empty token/.test(err.message));
  const dir = mkdtempSync(join(tmpdir(), 'koor-roles-'));
  writeFileSync(join(dir, 'settings.json'), JSON.stringify({ read_token: ['dash', 'observer'], audit_retention: 'off' }));
  const fromFile = loadConfig(['--config', join(dir, 'settings.json')]);
  rmSync(dir, { recursive: true });
  assert.deepEqual([fromFile.readTokens, fromFile.auditRetentionMs], [['dash', 'observer'], 0]);
  assert.equal(loadConfig(['--audit-retention', 'off']).auditRetentionMs, 0);
  assert.equal(loadConfig(['--audit-retention', '0']).auditRetentionMs, 0);
  assert.equal(loadConfig([], { KOOR_AUDIT_RETENTION: '12h' }).auditRetentionMs, 12 * 3_600_000);
  assert.throws(() => loadConfig(['--audit-retention', 'soon']), /invalid --audit-retention "soon": expected a duration like 30d or 12h, or 0\/off to keep forever/);
});

// Power-loss durability by default: SQLite runs with synchronous=FULL unless told otherwise,
// and GET /api/metrics says which.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestApp, testEngines } from './support/app.js';
import { runServerToExit, startServerProcess } from './support/server-process.js';
import { ConfigError, loadConfig } from '../src/server/config.js';

/** SQLite's numbers for the `synchronous` pragma. */
const NORMAL = 1;
const FULL = 2;

for (const engine of testEngines()) {
  test(`by default a commit survives a power loss, and GET /api/metrics says durability "full", on ${engine}`, async (t) => {
    const { app, close } = await startTestApp({}, engine);
    t.after(close);
    const metrics = await app.inject({ method: 'GET', url: '/api/metrics' });
    assert.equal(metrics.statusCode, 200);
    assert.equal(metrics.json().durability, 'full');
    if (engine === 'sqlite') assert.equal(app.koor.db.sqlite!.pragma('synchronous', { simple: true }), FULL);
  });
}

test('--sqlite-synchronous normal trades power-loss durability for speed, and the metrics say so', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'koor-sync-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const server = await startServerProcess(dataDir, ['--sqlite-synchronous', 'normal']);
  t.after(() => server.child.kill('SIGKILL'));
  assert.equal((await fetch(`${server.url}/api/state/a/b`, { method: 'PUT', body: '1' })).status, 200);
  const metrics = (await (await fetch(`${server.url}/api/metrics`)).json()) as { durability: string };
  assert.equal(metrics.durability, 'normal');

  const { app, close } = await startTestApp({ sqliteSynchronous: 'normal' });
  t.after(close);
  assert.equal(app.koor.db.sqlite!.pragma('synchronous', { simple: true }), NORMAL);
});

test('the setting comes from the flag, KOOR_SQLITE_SYNCHRONOUS or sqlite_synchronous, and anything but full or normal is refused', async () => {
  assert.equal(loadConfig([], {}).sqliteSynchronous, 'full');
  assert.equal(loadConfig([], { KOOR_SQLITE_SYNCHRONOUS: 'normal' }).sqliteSynchronous, 'normal');
  assert.equal(loadConfig(['--sqlite-synchronous', 'full'], { KOOR_SQLITE_SYNCHRONOUS: 'normal' }).sqliteSynchronous, 'full');
  assert.throws(() => loadConfig([], { KOOR_SQLITE_SYNCHRONOUS: 'off' }), (err: Error) => {
    assert.ok(err instanceof ConfigError);
    assert.equal(err.message, 'invalid KOOR_SQLITE_SYNCHRONOUS "off": expected one of full, normal');
    return true;
  });

  const dataDir = mkdtempSync(join(tmpdir(), 'koor-sync-bad-'));
  try {
    const result = await runServerToExit(['--sqlite-synchronous', 'fast', '--data-dir', dataDir, '--dashboard-bind', ''], dataDir);
    assert.equal(result.code, 2);
    assert.equal(result.stderr, 'koor-server: invalid --sqlite-synchronous "fast": expected one of full, normal\n');
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp } from '../server/app.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// The server's own connection only checkpoints after 10 000 log pages; below that, committed
// writes reach the database file only through the checkpoint worker.
test('committed writes reach the SQLite database file within moments, through the checkpoint worker', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'koor-checkpoint-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const app = await buildApp({ dataDir, dashboardBind: '', logLevel: 'silent' });
  const file = join(dataDir, 'data.db');
  await sleep(300);
  const before = statSync(file).size;

  const value = 'x'.repeat(8 * 1024);
  for (let i = 0; i < 100; i++) {
    const put = await app.inject({ method: 'PUT', url: `/api/state/bulk/${i}`, payload: value, headers: { 'content-type': 'text/plain' } });
    assert.equal(put.statusCode, 200);
  }
  let after = statSync(file).size;
  for (let waited = 0; after < before + 800 * 1024 && waited < 5000; waited += 50) {
    await sleep(50);
    after = statSync(file).size;
  }
  assert.ok(after >= before + 800 * 1024, `data.db grew from ${before} to ${after} bytes; expected 100 × 8 KB more`);

  // Closing stops the worker; the data is all there on the next start.
  await app.close();
  const reopened = await buildApp({ dataDir, dashboardBind: '', logLevel: 'silent' });
  t.after(() => reopened.close());
  const keys = await reopened.inject({ method: 'GET', url: '/api/state?prefix=bulk/' });
  assert.equal(keys.json().length, 100);
  const one = await reopened.inject({ method: 'GET', url: '/api/state/bulk/42' });
  assert.equal(one.body, value);
});

// Under a steady stream of commits the worker's copies never catch the log at a moment with no
// commit in flight, so SQLite would never start it over; the worker asks for such a moment.
test('under steady writes the write-ahead log is started over before it grows past about 16 MB', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'koor-checkpoint-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const app = await buildApp({ dataDir, dashboardBind: '', logLevel: 'silent' });
  t.after(() => app.close());

  // About 80 MB of log in all: 32 writers, 20 000 versions of 3 KB.
  const value = 'v'.repeat(3 * 1024);
  let next = 0;
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (next < 20_000) {
        const i = next++;
        const put = await app.inject({ method: 'PUT', url: `/api/state/steady/${i % 100}`, payload: value, headers: { 'content-type': 'text/plain' } });
        assert.equal(put.statusCode, 200);
      }
    }),
  );
  // The log file keeps the size it reached at its longest.
  const walBytes = statSync(join(dataDir, 'data.db-wal')).size;
  assert.ok(walBytes < 30 * 1024 * 1024, `the log reached ${(walBytes / 1024 / 1024).toFixed(1)} MB`);
  const versions = await app.inject({ method: 'GET', url: '/api/state/steady/7?history=1&limit=1' });
  assert.equal(versions.json().versions[0].version, 200);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { startServerProcess } from './support/server-process.js';

const WRITERS = 8;
/** Acknowledged writes to wait for before the kill; writers keep going until the process dies. */
const ACKED_BEFORE_KILL = 150;

interface Ack {
  key: string;
  version: number;
  body: string;
}

test('SIGKILL during a write burst loses no acknowledged write and leaves the database intact', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'koor-durability-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));

  const server = await startServerProcess(dataDir);
  t.after(() => server.child.kill('SIGKILL'));
  const acked: Ack[] = [];
  let dead = false;
  let reachedTarget: () => void;
  const target = new Promise<void>((resolve) => (reachedTarget = resolve));

  // Each writer writes its own keys one request after another, values of mixed sizes, and
  // records every 200 it receives. Requests in flight when the process dies simply fail.
  const writer = async (w: number) => {
    for (let i = 0; !dead; i++) {
      const key = `burst/w${w}/k${i % 5}`;
      const body = JSON.stringify({ w, i, pad: 'x'.repeat(i % 7 === 0 ? 64 * 1024 : 512) });
      try {
        const res = await fetch(`${server.url}/api/state/${key}`, { method: 'PUT', body });
        if (res.status !== 200) {
          await res.arrayBuffer();
          continue;
        }
        const { version } = (await res.json()) as { version: number };
        acked.push({ key, version, body });
        if (acked.length >= ACKED_BEFORE_KILL) reachedTarget();
      } catch {
        return; // connection refused or reset: the server is gone
      }
    }
  };
  const writers = Array.from({ length: WRITERS }, (_, w) => writer(w));
  await target;
  server.child.kill('SIGKILL');
  const ended = await server.exited;
  dead = true;
  assert.equal(ended.signal, 'SIGKILL');
  await Promise.all(writers);

  // The file as the killed process left it: WAL recovery must give an intact database.
  const db = new SqliteDatabase(join(dataDir, 'data.db'));
  try {
    assert.deepEqual(db.pragma('integrity_check'), [{ integrity_check: 'ok' }]);
  } finally {
    db.close();
  }

  const restarted = await startServerProcess(dataDir);
  t.after(() => restarted.child.kill('SIGKILL'));
  assert.ok(acked.length >= ACKED_BEFORE_KILL);
  for (const ack of acked) {
    const res = await fetch(`${restarted.url}/api/state/${ack.key}?version=${ack.version}`);
    assert.equal(res.status, 200, `acknowledged ${ack.key} version ${ack.version}`);
    assert.equal(await res.text(), ack.body);
  }
  // Every key's current version is at least its last acknowledged one.
  const latest = new Map<string, number>();
  for (const ack of acked) latest.set(ack.key, Math.max(latest.get(ack.key) ?? 0, ack.version));
  for (const [key, version] of latest) {
    const res = await fetch(`${restarted.url}/api/state/${key}`);
    await res.arrayBuffer();
    assert.ok(Number(res.headers.get('x-koor-version')) >= version, key);
  }
  restarted.child.kill('SIGTERM');
  assert.equal((await restarted.exited).code, 0);
});

// One server per data directory: a second koor-server on the same --data-dir refuses to start,
// and a lock left by a killed server never blocks the next one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runServerToExit, startServerProcess } from './support/server-process.js';
import { openDatabase } from '../src/db/engine.js';

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

test('a second koor-server on the same data directory exits non-zero, naming the directory and the pid that holds it', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'koor-lock-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));

  const first = await startServerProcess(dataDir);
  t.after(() => first.child.kill('SIGKILL'));
  const put = await fetch(`${first.url}/api/state/team/plan`, { method: 'PUT', body: '"kept"' });
  assert.equal(put.status, 200);

  const second = await runServerToExit(['--bind', '127.0.0.1:0', '--data-dir', dataDir, '--dashboard-bind', '']);
  assert.equal(second.code, 1);
  assert.match(second.stderr, new RegExp(`data directory ${escape(dataDir)} is in use by pid ${first.child.pid}\\n$`));

  // The first server goes on as before, its data untouched.
  const value = await fetch(`${first.url}/api/state/team/plan`);
  assert.equal(value.status, 200);
  assert.equal(await value.text(), '"kept"');

  first.child.kill('SIGTERM');
  assert.equal((await first.exited).code, 0);
  // Stopped cleanly: the directory is free again.
  const third = await startServerProcess(dataDir);
  t.after(() => third.child.kill('SIGKILL'));
  assert.equal(await (await fetch(`${third.url}/api/state/team/plan`)).text(), '"kept"');
});

test('a server killed with SIGKILL leaves no lock behind: the next one starts at once on the same data', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'koor-lock-kill-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));

  const killed = await startServerProcess(dataDir);
  t.after(() => killed.child.kill('SIGKILL'));
  assert.equal((await fetch(`${killed.url}/api/state/a/b`, { method: 'PUT', body: '1' })).status, 200);
  killed.child.kill('SIGKILL');
  assert.equal((await killed.exited).signal, 'SIGKILL');

  const next = await startServerProcess(dataDir);
  t.after(() => next.child.kill('SIGKILL'));
  assert.equal(await (await fetch(`${next.url}/api/state/a/b`)).text(), '1');
  // And it holds the directory in turn.
  const refused = await runServerToExit(['--bind', '127.0.0.1:0', '--data-dir', dataDir, '--dashboard-bind', '']);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, new RegExp(`is in use by pid ${next.child.pid}\\n$`));
});

test('within one process too, a data directory opens once until its database is closed', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'koor-lock-inproc-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));

  const db = await openDatabase({ dataDir });
  await assert.rejects(openDatabase({ dataDir }), new RegExp(`data directory ${escape(dataDir)} is in use by pid ${process.pid}$`));
  await db.close();
  const reopened = await openDatabase({ dataDir });
  await reopened.close();
});

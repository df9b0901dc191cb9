// A full disk is named, not hidden behind a 500: writes answer 507, /health says degraded with
// the reason, reads go on, and the server recovers by itself once space returns. Each engine
// gets a real full disk: SQLite's data directory, or a PostgreSQL tablespace, on a small tmpfs.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { mountSmallDisk, smallDiskUnavailable, type SmallDisk } from './support/small-disk.js';
import { startServerProcess, type ServerProcess } from './support/server-process.js';

const noDisk = smallDiskUnavailable();
const postgresUrl = process.env.KOOR_TEST_POSTGRES_URL;

interface Answer {
  status: number;
  body: any;
}

async function call(server: ServerProcess, method: string, path: string, body?: string): Promise<Answer> {
  const response = await fetch(`${server.url}${path}`, { method, body });
  const text = await response.text();
  return { status: response.status, body: text.startsWith('{') || text.startsWith('"') ? JSON.parse(text) : text };
}

/** 64 KB values, each different, so that none compresses into free space. */
const bigValue = () => JSON.stringify({ pad: randomBytes(48 * 1024).toString('base64') });

/**
 * Writes until one fails: on a full disk that takes a write or a few (space already claimed by
 * the database's files goes first). Every answer before it must be a 200.
 */
async function writeUntilRefused(server: ServerProcess, round: string): Promise<Answer> {
  for (let i = 0; i < 200; i++) {
    const answer = await call(server, 'PUT', `/api/state/disk/${round}-${i}`, bigValue());
    if (answer.status !== 200) return answer;
  }
  assert.fail('200 writes of 64 KB went through on a full disk');
}

async function health(server: ServerProcess): Promise<{ status: string; reason?: string }> {
  return (await call(server, 'GET', '/health')).body;
}

async function waitForHealthy(server: ServerProcess): Promise<string> {
  const deadline = Date.now() + 20_000;
  let state = await health(server);
  while (state.status !== 'ok' && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    state = await health(server);
  }
  return state.status;
}

/**
 * The same story on either engine: a full disk, a 507, degraded health while reads go on;
 * space back and the next write succeeds, and health comes back; full again, then space back
 * with no client writing: health comes back by itself.
 */
async function fullDiskStory(server: ServerProcess, disk: SmallDisk): Promise<void> {
  assert.equal((await call(server, 'PUT', '/api/state/disk/before', '"kept"')).status, 200);
  assert.equal((await health(server)).status, 'ok');

  disk.fill();
  const refused = await writeUntilRefused(server, 'a');
  assert.equal(refused.status, 507, JSON.stringify(refused.body));
  assert.match(refused.body.error, /^disk full: /);
  assert.equal(refused.body.code, 507);
  assert.equal(refused.body.reason, 'disk_full');
  const degraded = await health(server);
  assert.equal(degraded.status, 'degraded');
  assert.match(degraded.reason!, /^disk full: /);
  // Writes that arrive together share a transaction (each in a savepoint): on a full disk
  // every one of them is named too.
  const burst = await Promise.all(Array.from({ length: 8 }, (_, i) => call(server, 'PUT', `/api/state/disk/burst-${i}`, bigValue())));
  for (const answer of burst) assert.ok(answer.status === 200 || answer.status === 507, JSON.stringify(answer));
  assert.ok(burst.some((answer) => answer.status === 507));
  // Reads do not need the disk to grow.
  assert.deepEqual(await call(server, 'GET', '/api/state/disk/before'), { status: 200, body: 'kept' });

  disk.free();
  const next = await call(server, 'PUT', '/api/state/disk/after', '"written"');
  assert.equal(next.status, 200, JSON.stringify(next.body));
  assert.equal(await waitForHealthy(server), 'ok');
  assert.deepEqual(await call(server, 'GET', '/api/state/disk/after'), { status: 200, body: 'written' });

  disk.fill();
  assert.equal((await writeUntilRefused(server, 'b')).status, 507);
  assert.equal((await health(server)).status, 'degraded');
  disk.free();
  assert.equal(await waitForHealthy(server), 'ok', 'health recovers with no client writing');
  assert.equal((await call(server, 'PUT', '/api/state/disk/again', '"fine"')).status, 200);

  // The rollback of a transaction SQLite had already ended is not tried again.
  assert.doesNotMatch(server.stdout() + server.stderr(), /cannot rollback/);
}

async function stop(server: ServerProcess | undefined): Promise<void> {
  if (!server || server.child.exitCode !== null || server.child.signalCode !== null) return;
  server.child.kill('SIGKILL');
  await server.exited;
}

test('SQLite on a full disk: writes answer 507, /health is degraded, and both recover when space returns', { skip: noDisk ?? false }, async (t: TestContext) => {
  const disk = mountSmallDisk(8);
  let server: ServerProcess | undefined;
  t.after(async () => {
    await stop(server);
    disk.remove();
  });
  server = await startServerProcess(disk.path);
  await fullDiskStory(server, disk);
});

async function admin(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: postgresUrl });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

const noPostgres = postgresUrl ? false : 'needs KOOR_TEST_POSTGRES_URL';

test('PostgreSQL on a full disk (53100): writes answer 507, /health is degraded, and both recover when space returns', { skip: noDisk ?? noPostgres }, async (t: TestContext) => {
  // The database lives in a tablespace of its own on the small disk; PostgreSQL's log and
  // every other database stay where they are.
  const disk = mountSmallDisk(48, 'postgres');
  const name = `koor_full_${randomBytes(4).toString('hex')}`;
  let server: ServerProcess | undefined;
  t.after(async () => {
    await stop(server);
    await admin(`drop database if exists ${name} with (force)`).catch(() => undefined);
    await admin(`drop tablespace if exists ${name}`).catch(() => undefined);
    disk.remove();
  });
  await admin(`create tablespace ${name} location '${disk.path}'`);
  await admin(`create database ${name} tablespace ${name}`);
  const url = new URL(postgresUrl!);
  url.pathname = `/${name}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'koor-full-pg-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  server = await startServerProcess(dataDir, ['--database', url.toString()]);
  await fullDiskStory(server, disk);
});

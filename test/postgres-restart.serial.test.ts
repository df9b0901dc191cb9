// Two replicas ride out a restart of PostgreSQL under mixed load: requests that meet a closed
// connection are retried where that is safe, no request fails once the server is back, a
// failure inside the restart is a named 503 (never a bare 500), and the background jobs never
// run on both replicas at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../src/server/app.js';
import { createTestDatabase } from './support/postgres.js';

const serverUrl = process.env.KOOR_TEST_POSTGRES_URL;

/** The local cluster's version (Debian's layout), when this machine can restart it. */
function localCluster(): string | undefined {
  if (!existsSync('/etc/postgresql') || process.getuid?.() !== 0) return undefined;
  const host = serverUrl ? new URL(serverUrl).hostname : '';
  if (!['127.0.0.1', 'localhost', '::1', '[::1]'].includes(host)) return undefined;
  const versions = readdirSync('/etc/postgresql');
  return versions.length === 1 ? versions[0] : undefined;
}

const version = localCluster();
const skip = !serverUrl
  ? 'needs KOOR_TEST_POSTGRES_URL'
  : !version
    ? 'needs root and the one local PostgreSQL cluster (Debian layout) to restart it'
    : false;

const ready = () => spawnSync('pg_isready', ['-h', '127.0.0.1', '-q']).status === 0;
// Run without blocking: the replicas share this process's event loop.
const cluster = (action: 'restart' | 'start') => promisify(execFile)('pg_ctlcluster', ['--skip-systemctl-redirect', version!, 'main', action]);

interface Replica {
  app: FastifyInstance;
  url: string;
}

async function startReplica(database: string): Promise<Replica & { dataDir: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'koor-restart-'));
  const app = await buildApp({ dataDir, dashboardBind: '', logLevel: 'silent', database, leaderRetryMs: 200 });
  await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, dataDir, url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}` };
}

interface Outcome {
  startedAt: number;
  endedAt: number;
  status: number;
  body: string;
  what: string;
}

test('two replicas ride out a PostgreSQL restart under mixed load: no 5xx once it is back, only named 503s during it, never two leaders', { skip, timeout: 90_000 }, async (t) => {
  const database = await createTestDatabase(serverUrl!);
  const replicas = [await startReplica(database.url), await startReplica(database.url)];
  t.after(async () => {
    // Whatever happened, PostgreSQL is left running for everyone else.
    if (!ready()) await cluster('start');
    for (const replica of replicas) {
      await replica.app.close();
      rmSync(replica.dataDir, { recursive: true, force: true });
    }
    await database.drop();
  });

  const outcomes: Outcome[] = [];
  const leaders: number[] = [];
  let stop = false;
  const request = async (what: string, replica: Replica, method: string, path: string, body?: unknown) => {
    const startedAt = Date.now();
    try {
      const response = await fetch(`${replica.url}${path}`, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      outcomes.push({ startedAt, endedAt: Date.now(), status: response.status, body: text, what });
    } catch (err) {
      outcomes.push({ startedAt, endedAt: Date.now(), status: 0, body: String(err), what });
    }
  };
  // Four clients, each a mix of writes and reads on both replicas, one request after another.
  const client = async (n: number) => {
    for (let i = 0; !stop; i++) {
      const replica = replicas[(n + i) % 2]!;
      switch (i % 4) {
        case 0:
          await request('state put', replica, 'PUT', `/api/state/restart/c${n}`, { i });
          break;
        case 1:
          await request('state get', replica, 'GET', `/api/state/restart/c${(n + 1) % 4}`);
          break;
        case 2:
          await request('publish', replica, 'POST', '/api/events/publish', { topic: 'restart.tick', data: { n, i } });
          break;
        default:
          await request('history', replica, 'GET', '/api/events/history?last=5');
      }
    }
  };
  for (let n = 0; n < 4; n++) assert.equal((await fetch(`${replicas[0]!.url}/api/state/restart/c${n}`, { method: 'PUT', body: '{}' })).status, 200);
  const watchLeaders = setInterval(() => leaders.push(replicas.filter((r) => r.app.koor.jobs.isLeader).length), 20);
  t.after(() => clearInterval(watchLeaders));
  const clients = [0, 1, 2, 3].map(client);

  await new Promise((resolve) => setTimeout(resolve, 2_500));
  const restartStart = Date.now();
  await cluster('restart');
  while (!ready()) await new Promise((resolve) => setTimeout(resolve, 50));
  const restartEnd = Date.now();
  // Load goes on for a while with PostgreSQL back.
  await new Promise((resolve) => setTimeout(resolve, 4_000));
  stop = true;
  await Promise.all(clients);
  clearInterval(watchLeaders);

  const before = outcomes.filter((o) => o.endedAt < restartStart);
  const after = outcomes.filter((o) => o.startedAt > restartEnd);
  assert.ok(before.length >= 8 && after.length >= 8, `load on both sides of the restart (${before.length} before, ${after.length} after)`);
  const failed = (o: Outcome) => o.status < 200 || o.status >= 300;
  const during = outcomes.filter((o) => o.endedAt >= restartStart && o.startedAt <= restartEnd);
  t.diagnostic(`restart took ${restartEnd - restartStart} ms; ${during.length} requests overlapped it, ${during.filter(failed).length} of them failed`);
  assert.deepEqual(before.filter(failed), [], 'before the restart');
  assert.deepEqual(after.filter(failed), [], 'once PostgreSQL is back, no request fails');
  // During the restart, a request either rode it out or got a named 503.
  for (const o of outcomes.filter(failed)) {
    assert.equal(o.status, 503, `${o.what}: ${o.status} ${o.body}`);
    assert.match(JSON.parse(o.body).reason, /^database_/, o.body);
  }
  assert.ok(leaders.every((n) => n <= 1), 'the jobs never run on both replicas at once');
  // And one replica leads again.
  const deadline = Date.now() + 10_000;
  while (replicas.filter((r) => r.app.koor.jobs.isLeader).length !== 1 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.equal(replicas.filter((r) => r.app.koor.jobs.isLeader).length, 1, 'one replica leads after the restart');
});

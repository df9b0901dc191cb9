// Several koor-server replicas on one PostgreSQL database (SPEC §14): events stored by any
// replica reach every replica's live subscribers in id order, and only one replica runs the
// background jobs, another taking over when it goes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import WebSocket from 'ws';
import pg from 'pg';
import { buildApp } from '../src/server/app.js';
import { createTestDatabase } from './support/postgres.js';
import { startServerProcess, type ServerProcess } from './support/server-process.js';

const serverUrl = process.env.KOOR_TEST_POSTGRES_URL;
const skip = serverUrl ? false : 'needs KOOR_TEST_POSTGRES_URL (replicas share a PostgreSQL database)';

interface Replica {
  app: FastifyInstance;
  url: string;
  close(): Promise<void>;
}

async function startReplica(database: string, leaderRetryMs: number): Promise<Replica> {
  const dataDir = mkdtempSync(join(tmpdir(), 'koor-replica-'));
  const app = await buildApp({ dataDir, dashboardBind: '', logLevel: 'silent', database, leaderRetryMs });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  let closed = false;
  return {
    app,
    url,
    async close() {
      if (closed) return;
      closed = true;
      await app.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Two replicas on a database of their own; all closed (and the database dropped) after the test. */
async function twoReplicas(t: { after(fn: () => Promise<void>): void }, leaderRetryMs = 100): Promise<[Replica, Replica]> {
  const database = await createTestDatabase(serverUrl!);
  const a = await startReplica(database.url, leaderRetryMs);
  const b = await startReplica(database.url, leaderRetryMs);
  t.after(async () => {
    await a.close();
    await b.close();
    await database.drop();
  });
  return [a, b];
}

/** A local HTTP server that answers every request 200 and keeps each one's headers, in order. */
async function webhookReceiver(t: { after(fn: () => Promise<void>): void }): Promise<{ requests: IncomingHttpHeaders[]; url: string }> {
  const requests: IncomingHttpHeaders[] = [];
  const receiver = createServer((request, response) => {
    requests.push(request.headers);
    request.resume();
    request.on('end', () => response.end('ok'));
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => receiver.close(() => resolve())));
  return { requests, url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook` };
}

/** A WebSocket subscriber keeping the ids of the events it receives. */
async function subscribe(url: string): Promise<{ ids: number[]; until(n: number): Promise<void>; close(): void }> {
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/api/events/subscribe`);
  const ids: number[] = [];
  let wake: (() => void) | undefined;
  ws.on('message', (data) => {
    ids.push((JSON.parse(String(data)) as { id: number }).id);
    wake?.();
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return {
    ids,
    async until(n) {
      const deadline = Date.now() + 10_000;
      while (ids.length < n && Date.now() < deadline) await new Promise<void>((resolve) => ((wake = resolve), setTimeout(resolve, 50)));
    },
    close: () => ws.terminate(),
  };
}

async function call(url: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : null };
}

const waitFor = async (check: () => boolean, ms = 10_000) => {
  const deadline = Date.now() + ms;
  while (!check() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
};

test('events stored by either replica reach the subscribers of both, once each and in id order', { skip }, async (t) => {
  const [a, b] = await twoReplicas(t);
  const onA = await subscribe(a.url);
  const onB = await subscribe(b.url);
  t.after(() => {
    onA.close();
    onB.close();
  });

  // Both replicas write at once: publishes and state writes (whose state.changed events are
  // stored by the writing replica), interleaved and racing.
  const writes: Promise<{ status: number }>[] = [];
  for (let i = 0; i < 40; i++) {
    const replica = i % 2 === 0 ? a : b;
    writes.push(call(replica.url, 'POST', '/api/events/publish', { topic: 'replica.tick', data: { i } }));
    if (i % 4 === 0) writes.push(call(replica.url, 'PUT', `/api/state/shared/${i % 3}`, { i }));
  }
  for (const result of await Promise.all(writes)) assert.equal(result.status, 200);

  const history = await call(a.url, 'GET', '/api/events/history?after=0&last=1000');
  const stored = (history.json as { id: number }[]).map((e) => e.id);
  assert.equal(stored.length, 50);
  await onA.until(stored.length);
  await onB.until(stored.length);
  assert.deepEqual(onA.ids, stored, 'replica A subscriber: every stored event, once, in order');
  assert.deepEqual(onB.ids, stored, 'replica B subscriber: every stored event, once, in order');
});

test('only one replica sends webhook deliveries, and the other takes over when it stops', { skip }, async (t) => {
  const { requests, url: receiverUrl } = await webhookReceiver(t);
  const deliveries = () => requests.map((headers) => Number(headers['x-koor-delivery']));

  const [a, b] = await twoReplicas(t);
  // Created on A; B learns of it through the database and stores deliveries for its own events.
  assert.equal((await call(a.url, 'POST', '/api/webhooks', { id: 'audit-feed', url: receiverUrl, patterns: ['job.*'] })).status, 200);
  await new Promise((resolve) => setTimeout(resolve, 200));

  const publishOn = async (replica: Replica, n: number) => {
    const ids: number[] = [];
    for (let i = 0; i < n; i++) {
      const [x, y] = await Promise.all([
        call(replica.url, 'POST', '/api/events/publish', { topic: 'job.done', data: { i } }),
        call(replica === a ? b.url : a.url, 'POST', '/api/events/publish', { topic: 'job.done', data: { i, other: true } }),
      ]);
      ids.push(x.json.id, y.json.id);
    }
    return ids;
  };

  const first = await publishOn(a, 10);
  await waitFor(() => deliveries().length >= first.length);
  // Give a second sender, if there were one, time to deliver again.
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.deepEqual(deliveries().sort((x, y) => x - y), [...first].sort((x, y) => x - y), 'each event delivered exactly once');

  // Whichever replica leads, stop it: the other one must take over the sending.
  const leader = await leaderOf(a, b);
  const standby = leader === a ? b : a;
  await leader.close();
  const second: number[] = [];
  for (let i = 0; i < 5; i++) second.push((await call(standby.url, 'POST', '/api/events/publish', { topic: 'job.done', data: { after: i } })).json.id);
  await waitFor(() => deliveries().length >= first.length + second.length);
  assert.deepEqual(deliveries().sort((x, y) => x - y), [...first, ...second].sort((x, y) => x - y));
});

test('a replica that loses its connection to the others catches up on what it missed, in order', { skip }, async (t) => {
  // Reconnecting waits a second: long enough for all of the writes below to land meanwhile,
  // so that only the catching up after the reconnection can bring them to B.
  const [a, b] = await twoReplicas(t, 1000);
  const onB = await subscribe(b.url);
  t.after(() => onB.close());
  const publish = async (replica: Replica, i: number) =>
    (await call(replica.url, 'POST', '/api/events/publish', { topic: 'replica.gap', data: { i } })).json.id as number;

  const ids = [await publish(a, 0), await publish(b, 1)];
  await onB.until(2);

  // PostgreSQL ends every replica connection (a failover, an administrator…); A goes on
  // storing events while the replicas are not listening.
  const database = new URL(a.app.koor.config.database).pathname.slice(1);
  const endReplicaConnections = async () => {
    const admin = new pg.Client({ connectionString: serverUrl });
    await admin.connect();
    try {
      const { rows } = await admin.query(
        "select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and application_name = 'koor-replica'",
        [database],
      );
      assert.ok(rows.length >= 4, `each replica had its connections (found ${rows.length})`);
    } finally {
      await admin.end();
    }
  };
  await endReplicaConnections();
  for (let i = 2; i < 8; i++) ids.push(await publish(a, i));
  assert.deepEqual(onB.ids, ids.slice(0, 2), 'the events A stored during the outage have not reached B yet');
  await onB.until(ids.length);
  assert.deepEqual(onB.ids, ids, 'B caught up once it listened again');

  // Again, but now B stores an event of its own before it listens again (a second away): what
  // A stored meanwhile reaches B's subscribers at once, before B's own event.
  await endReplicaConnections();
  for (let i = 8; i < 11; i++) ids.push(await publish(a, i));
  ids.push(await publish(b, 11));
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.deepEqual(onB.ids, ids);
  // Leadership was lost with the connections and is held again, by exactly one of them.
  await leaderOf(a, b);
});

/** The replica that runs the background jobs now; asserts that exactly one does. */
async function leaderOf(a: Replica, b: Replica): Promise<Replica> {
  const leads = (replica: Replica) => replica.app.koor.jobs.isLeader;
  await waitFor(() => leads(a) || leads(b));
  assert.notEqual(leads(a), leads(b), 'exactly one replica leads');
  return leads(a) ? a : b;
}

test('when the leading koor-server process is killed, another process takes over its jobs', { skip, timeout: 60_000 }, async (t) => {
  const database = await createTestDatabase(serverUrl!);
  const dirs: string[] = [];
  const servers: ServerProcess[] = [];
  t.after(async () => {
    for (const server of servers) if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGKILL');
    await Promise.all(servers.map((server) => server.exited));
    await database.drop();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });
  const start = async () => {
    const dir = mkdtempSync(join(tmpdir(), 'koor-replica-'));
    dirs.push(dir);
    const server = await startServerProcess(dir, ['--database', database.url, '--leader-retry', '200ms']);
    servers.push(server);
    return server;
  };
  const first = await start();
  const leads = (server: ServerProcess) => server.stdout().includes('running the background jobs');
  await waitFor(() => leads(first));
  assert.ok(leads(first), 'the only process leads');
  const second = await start();
  await new Promise((resolve) => setTimeout(resolve, 600));
  assert.equal(leads(second), false, 'a second process waits while the first leads');

  // No goodbye: the process dies, PostgreSQL drops its session, and with it the lock.
  first.child.kill('SIGKILL');
  await first.exited;
  await waitFor(() => leads(second));
  assert.ok(leads(second), 'the second process took over');

  // And it really runs them: a webhook delivery goes out from it.
  const { requests, url: hook } = await webhookReceiver(t);
  const deliveries = () => requests.map((headers) => String(headers['x-koor-topic']));
  assert.equal((await call(second.url, 'POST', '/api/webhooks', { id: 'after-failover', url: hook })).status, 200);
  assert.equal((await call(second.url, 'POST', '/api/events/publish', { topic: 'deploy.done' })).status, 200);
  await waitFor(() => deliveries().includes('deploy.done'));
  assert.deepEqual(deliveries(), ['deploy.done']);
});

test('a leader whose database connection hangs gives up leading instead of believing it leads', { skip, timeout: 30_000 }, async (t) => {
  const [a, b] = await twoReplicas(t, 200);
  const leader = await leaderOf(a, b);
  const database = new URL(a.app.koor.config.database).pathname.slice(1);
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  t.after(() => admin.end());
  // The backend holding the jobs lock, frozen: the connection stays open but answers nothing,
  // as across a network partition.
  const { rows } = await admin.query<{ pid: number }>(
    "select l.pid from pg_locks l join pg_stat_activity a on a.pid = l.pid where l.locktype = 'advisory' and l.granted and a.datname = $1 and a.application_name = 'koor-replica'",
    [database],
  );
  assert.equal(rows.length, 1, 'one session holds the jobs lock');
  const pid = rows[0]!.pid;
  try {
    process.kill(pid, 'SIGSTOP');
  } catch {
    t.skip('cannot signal the PostgreSQL backend from here (another user or another machine)');
    return;
  }
  try {
    const deadline = Date.now() + 10_000;
    while (leader.app.koor.jobs.isLeader && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(leader.app.koor.jobs.isLeader, false, 'the leader noticed and stopped its jobs');
  } finally {
    process.kill(pid, 'SIGCONT');
  }
});

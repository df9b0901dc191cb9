import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import pg from 'pg';
import { startServerProcess, type ServerProcess } from './support/server-process.js';
import { createTestDatabase } from './support/postgres.js';
import { testEngines, type TestEngine } from './support/app.js';

// The one write door (src/commit/): a server killed at a random point of a mixed burst of
// every kind of mutation keeps, after restart, each acknowledged change together with its
// event and its audit entry, and holds no event or audit entry without its change.

const WRITERS = 6;
const ACKED_BEFORE_KILL = 240;

type Row = Record<string, unknown>;

interface Store {
  rows(sql: string): Promise<Row[]>;
  close(): Promise<void>;
}

async function openStore(engine: TestEngine, dataDir: string, pgUrl?: string): Promise<Store> {
  if (engine === 'sqlite') {
    const db = new SqliteDatabase(join(dataDir, 'data.db'), { readonly: true });
    return { rows: async (sql) => db.prepare(sql).all() as Row[], close: async () => void db.close() };
  }
  const client = new pg.Client({ connectionString: pgUrl });
  // The test database is dropped (with FORCE) when the test ends, maybe before this closes.
  client.on('error', () => undefined);
  await client.connect();
  return { rows: async (sql) => (await client.query(sql)).rows as Row[], close: () => client.end() };
}

const json = (body: unknown) => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

/** What one acknowledged change must have left behind. */
interface Ack {
  action: string;
  resource: string;
  topic?: string;
  /** The fields of the event's data that identify it. */
  data?: Row;
}

async function burst(server: ServerProcess, onAck: (ack: Ack) => void, stop: () => boolean): Promise<void> {
  const url = server.url;
  const call = async (path: string, init: RequestInit): Promise<Row | null> => {
    const res = await fetch(`${url}${path}`, init);
    const text = await res.text();
    return res.status === 200 ? (JSON.parse(text) as Row) : null;
  };
  const writer = async (w: number) => {
    const instances: string[] = [];
    for (let i = 0; !stop(); i++) {
      try {
        switch (i % 8) {
          case 0: {
            const key = `crash/w${w}/k${i % 3}`;
            const done = await call(`/api/state/${key}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ w, i }) });
            if (done) onAck({ action: 'state.put', resource: key, topic: 'state.changed', data: { key, version: done.version } });
            break;
          }
          case 1: {
            const key = `crash/w${w}/k${(i + 1) % 3}`;
            const done = await call(`/api/state/${key}`, { method: 'DELETE' });
            if (done) onAck({ action: 'state.delete', resource: key, topic: 'state.deleted', data: { key } });
            break;
          }
          case 2: {
            const name = `doc${i % 2}`;
            const done = await call(`/api/specs/crash${w}/${name}`, { method: 'PUT', headers: { 'content-type': 'text/markdown' }, body: `# ${i}` });
            if (done) onAck({ action: 'spec.put', resource: `crash${w}/${name}`, topic: 'spec.changed', data: { project: `crash${w}`, name, version: done.version } });
            if (i % 16 === 2) {
              const deleted = await call(`/api/specs/crash${w}/${name}`, { method: 'DELETE' });
              if (deleted) onAck({ action: 'spec.delete', resource: `crash${w}/${name}`, topic: 'spec.deleted', data: { project: `crash${w}`, name } });
            }
            break;
          }
          case 3: {
            const done = await call('/api/instances/register', json({ name: `agent-${w}-${i}` }));
            if (done) {
              instances.push(String(done.id));
              onAck({ action: 'instance.register', resource: String(done.id), topic: 'agent.registered', data: { id: done.id } });
            }
            break;
          }
          case 4: {
            const id = instances.shift();
            if (!id) break;
            const done = await call(`/api/instances/${id}`, { method: 'DELETE' });
            if (done) onAck({ action: 'instance.deregister', resource: id, topic: 'agent.deregistered', data: { id } });
            break;
          }
          case 5: {
            const ruleId = `r-${w}-${i}`;
            const proposed = await call('/api/rules/propose', json({ project: 'crash', rule_id: ruleId, pattern: 'TODO', message: 'no TODO' }));
            if (proposed) onAck({ action: 'rule.propose', resource: `crash/${ruleId}`, topic: 'rule.proposed', data: { rule_id: ruleId } });
            const accepted = await call(`/api/rules/crash/${ruleId}/accept`, { method: 'POST' });
            if (accepted) onAck({ action: 'rule.accept', resource: `crash/${ruleId}` });
            break;
          }
          case 6: {
            const done = await call('/api/llm/usage', json({ provider: 'p', model: 'm', tokens_in: i, session_tag: `w${w}` }));
            if (done) onAck({ action: 'llm.usage', resource: 'p/m', topic: 'llm.usage.recorded', data: { id: done.id } });
            break;
          }
          case 7: {
            const done = await call('/api/templates/crash-bundle/apply', json({ project: `applied${w}` }));
            if (done) onAck({ action: 'template.apply', resource: 'crash-bundle' });
            break;
          }
        }
      } catch {
        return; // connection refused or reset: the server is gone
      }
    }
  };
  await Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w)));
}

const contract = { kind: 'contract', version: 1, endpoints: { 'GET /x': { response: { ok: { type: 'boolean' } } } } };

for (const engine of testEngines()) {
  test(`SIGKILL during a mixed burst of every kind of change leaves each change with its event and audit entry, and nothing else, on ${engine}`, async (t) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'koor-crash-'));
    t.after(() => rmSync(dataDir, { recursive: true, force: true }));
    const database = engine === 'postgres' ? await createTestDatabase(process.env.KOOR_TEST_POSTGRES_URL!) : undefined;
    t.after(async () => database?.drop());
    const args = ['--event-history', '1000000', ...(database ? ['--database', database.url] : [])];

    const server = await startServerProcess(dataDir, args);
    t.after(() => server.child.kill('SIGKILL'));
    const template = await fetch(`${server.url}/api/templates`, json({
      id: 'crash-bundle',
      name: 'crash bundle',
      kind: 'bundle',
      data: { rules: [{ rule_id: 'no-fixme', pattern: 'FIXME', message: 'no FIXME' }], contracts: { a: contract, b: contract } },
    }));
    assert.equal(template.status, 200, await template.text());

    const acked: Ack[] = [];
    let dead = false;
    let reachedTarget: () => void;
    const target = new Promise<void>((resolve) => (reachedTarget = resolve));
    const writing = burst(server, (ack) => {
      acked.push(ack);
      if (acked.length >= ACKED_BEFORE_KILL) reachedTarget();
    }, () => dead);
    await target;
    // Somewhere inside a later batch, not at a quiet moment.
    await new Promise((resolve) => setTimeout(resolve, Math.floor(Math.random() * 30)));
    server.child.kill('SIGKILL');
    assert.equal((await server.exited).signal, 'SIGKILL');
    dead = true;
    await writing;

    // The restarted server starts cleanly on what the killed one left.
    const restarted = await startServerProcess(dataDir, args);
    t.after(() => restarted.child.kill('SIGKILL'));
    assert.equal((await fetch(`${restarted.url}/health`)).status, 200);
    const kinds = new Set(acked.map((ack) => ack.action));
    for (const action of ['state.put', 'state.delete', 'spec.put', 'instance.register', 'rule.accept', 'llm.usage', 'template.apply']) {
      assert.ok(kinds.has(action), `the burst acknowledged some ${action}`);
    }

    const store = await openStore(engine, dataDir, database?.url);
    t.after(() => store.close());
    const events = (await store.rows('select topic, data from events order by id')).map((e) => ({ topic: String(e.topic), data: JSON.parse(String(e.data)) as Row }));
    const audit = await store.rows(`select action, resource from audit_log where outcome = 'success'`);
    const count = <T>(items: T[], pick: (item: T) => boolean) => items.filter(pick).length;

    // Every acknowledged change has its audit entry and its event.
    for (const ack of acked) {
      assert.ok(audit.some((a) => a.action === ack.action && a.resource === ack.resource), `audit entry of ${ack.action} ${ack.resource}`);
      if (!ack.topic) continue;
      const found = events.some((e) => e.topic === ack.topic && Object.entries(ack.data!).every(([k, v]) => e.data?.[k] === v));
      assert.ok(found, `event ${ack.topic} ${JSON.stringify(ack.data)}`);
    }

    // And nothing without its change: the counts of changes, events and audit entries agree.
    const stateVersions = await store.rows('select key, version from state_versions');
    const specVersions = await store.rows('select key, version from spec_versions');
    for (const changed of events.filter((e) => e.topic === 'state.changed')) {
      assert.ok(stateVersions.some((v) => v.key === changed.data.key && Number(v.version) === changed.data.version), `state version behind ${JSON.stringify(changed.data)}`);
    }
    assert.equal(count(events, (e) => e.topic === 'state.changed'), stateVersions.length);
    assert.equal(count(audit, (a) => a.action === 'state.put'), stateVersions.length);
    assert.equal(count(events, (e) => e.topic === 'state.deleted'), count(audit, (a) => a.action === 'state.delete'));
    assert.equal(count(events, (e) => e.topic === 'spec.changed'), specVersions.length);
    assert.equal(count(audit, (a) => a.action === 'spec.put'), specVersions.length);
    assert.equal(count(events, (e) => e.topic === 'spec.deleted'), count(audit, (a) => a.action === 'spec.delete'));

    const registered = count(events, (e) => e.topic === 'agent.registered');
    const deregistered = count(events, (e) => e.topic === 'agent.deregistered');
    assert.equal(registered, count(audit, (a) => a.action === 'instance.register'));
    assert.equal(deregistered, count(audit, (a) => a.action === 'instance.deregister'));
    assert.equal((await store.rows('select id from instances')).length, registered - deregistered);

    const usage = await store.rows('select id from llm_usage');
    assert.equal(count(events, (e) => e.topic === 'llm.usage.recorded'), usage.length);
    assert.equal(count(audit, (a) => a.action === 'llm.usage'), usage.length);

    const learned = await store.rows(`select status from rules where project = 'crash'`);
    assert.equal(count(events, (e) => e.topic === 'rule.proposed'), learned.length);
    assert.equal(count(audit, (a) => a.action === 'rule.propose'), learned.length);
    assert.equal(count(audit, (a) => a.action === 'rule.accept'), count(learned, (r) => r.status === 'accepted'));

    // An apply is all or nothing: each one stored both contracts and the rule.
    const applies = count(audit, (a) => a.action === 'template.apply');
    const appliedSpecs = count(specVersions, (v) => String(v.key).startsWith('applied'));
    assert.equal(appliedSpecs, applies * 2);

    restarted.child.kill('SIGTERM');
    assert.equal((await restarted.exited).code, 0);
  });
}

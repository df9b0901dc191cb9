import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { buildApp } from '../src/server/app.js';
import { binCommand } from './support/bin.js';
import { createTestDatabase } from './support/postgres.js';
import { startListeningApp, testEngines } from './support/app.js';
import { CliWorkspace } from './support/cli.js';

// Go Koor's schema, as its server creates it (internal/db/db.go): the tables and columns are
// the facts an importer has to read.
const GO_SCHEMA = `
CREATE TABLE state (key TEXT PRIMARY KEY, value BLOB, version INTEGER NOT NULL DEFAULT 1, hash TEXT NOT NULL,
  content_type TEXT NOT NULL DEFAULT 'application/json', updated_at DATETIME NOT NULL DEFAULT (datetime('now')), updated_by TEXT NOT NULL DEFAULT '');
CREATE TABLE state_history (key TEXT NOT NULL, version INTEGER NOT NULL, value BLOB, hash TEXT NOT NULL,
  content_type TEXT NOT NULL DEFAULT 'application/json', updated_at DATETIME NOT NULL DEFAULT (datetime('now')), updated_by TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (key, version));
CREATE TABLE specs (project TEXT NOT NULL, name TEXT NOT NULL, data BLOB, version INTEGER NOT NULL DEFAULT 1, hash TEXT NOT NULL,
  updated_at DATETIME NOT NULL DEFAULT (datetime('now')), PRIMARY KEY (project, name));
CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT, topic TEXT NOT NULL, data BLOB, source TEXT NOT NULL DEFAULT '',
  created_at DATETIME NOT NULL DEFAULT (datetime('now')));
CREATE TABLE instances (id TEXT PRIMARY KEY, name TEXT NOT NULL, workspace TEXT NOT NULL DEFAULT '', intent TEXT NOT NULL DEFAULT '',
  stack TEXT NOT NULL DEFAULT '', capabilities TEXT NOT NULL DEFAULT '[]', status TEXT NOT NULL DEFAULT 'pending', token TEXT NOT NULL DEFAULT '',
  registered_at DATETIME NOT NULL DEFAULT (datetime('now')), last_seen DATETIME NOT NULL DEFAULT (datetime('now')));
CREATE TABLE webhooks (id TEXT PRIMARY KEY, url TEXT NOT NULL, patterns TEXT NOT NULL DEFAULT '["*"]', secret TEXT NOT NULL DEFAULT '',
  active INTEGER NOT NULL DEFAULT 1, created_at DATETIME NOT NULL DEFAULT (datetime('now')), last_fired DATETIME, fail_count INTEGER NOT NULL DEFAULT 0);
CREATE TABLE compliance_runs (id INTEGER PRIMARY KEY AUTOINCREMENT, instance_id TEXT NOT NULL, project TEXT NOT NULL, contract TEXT NOT NULL,
  pass INTEGER NOT NULL DEFAULT 0, violations TEXT NOT NULL DEFAULT '[]', run_at DATETIME NOT NULL DEFAULT (datetime('now')));
CREATE TABLE templates (id TEXT PRIMARY KEY, name TEXT NOT NULL, description TEXT NOT NULL DEFAULT '', kind TEXT NOT NULL DEFAULT 'rules',
  data BLOB NOT NULL, tags TEXT NOT NULL DEFAULT '[]', version INTEGER NOT NULL DEFAULT 1,
  created_at DATETIME NOT NULL DEFAULT (datetime('now')), updated_at DATETIME NOT NULL DEFAULT (datetime('now')));
CREATE TABLE audit_log (id INTEGER PRIMARY KEY AUTOINCREMENT, timestamp DATETIME NOT NULL DEFAULT (datetime('now')), actor TEXT NOT NULL DEFAULT '',
  action TEXT NOT NULL, resource TEXT NOT NULL, detail TEXT NOT NULL DEFAULT '{}', outcome TEXT NOT NULL DEFAULT 'success');
CREATE TABLE agent_metrics (instance_id TEXT NOT NULL, metric_name TEXT NOT NULL, metric_value INTEGER NOT NULL DEFAULT 0, period TEXT NOT NULL,
  PRIMARY KEY (instance_id, metric_name, period));
CREATE TABLE validation_rules (project TEXT NOT NULL, rule_id TEXT NOT NULL, severity TEXT NOT NULL DEFAULT 'error', match_type TEXT NOT NULL DEFAULT 'regex',
  pattern TEXT NOT NULL, message TEXT NOT NULL DEFAULT '', stack TEXT NOT NULL DEFAULT '', applies_to TEXT NOT NULL DEFAULT '["*"]',
  source TEXT NOT NULL DEFAULT 'local', status TEXT NOT NULL DEFAULT 'accepted', proposed_by TEXT NOT NULL DEFAULT '', context TEXT NOT NULL DEFAULT '',
  created_at DATETIME NOT NULL DEFAULT (datetime('now')), PRIMARY KEY (project, rule_id));
CREATE TABLE llm_usage (id INTEGER PRIMARY KEY AUTOINCREMENT, instance_id TEXT NOT NULL DEFAULT '', project TEXT NOT NULL DEFAULT '',
  provider TEXT NOT NULL DEFAULT '', model TEXT NOT NULL DEFAULT '', tokens_in INTEGER NOT NULL DEFAULT 0, tokens_out INTEGER NOT NULL DEFAULT 0,
  cost_usd REAL NOT NULL DEFAULT 0, request_type TEXT NOT NULL DEFAULT 'completion', session_tag TEXT NOT NULL DEFAULT '',
  created_at DATETIME NOT NULL DEFAULT (datetime('now')));
`;

const GO_TOKEN = '7c9e6679-7425-40de-944b-e07fc1f90ae7';
const INSTANCE = '550e8400-e29b-41d4-a716-446655440000';
const CONTRACT = { kind: 'contract', version: '1', endpoints: { 'GET /api/trucks': { response_array: { plate: { type: 'string', required: true } } } } };

/** A Go Koor data.db with rows in every table, written the way Go's server writes them. */
function buildGoDatabase(path: string): void {
  const db = new Database(path);
  db.exec(GO_SCHEMA);
  const at = (minute: number) => `2026-02-16 14:${String(minute).padStart(2, '0')}:00`;
  const state = db.prepare('INSERT INTO state (key, value, version, hash, content_type, updated_at, updated_by) VALUES (?, ?, ?, ?, ?, ?, ?)');
  const history = db.prepare('INSERT INTO state_history (key, version, value, hash, content_type, updated_at, updated_by) VALUES (?, ?, ?, ?, ?, ?, ?)');
  // api-contract: versions 1 and 2 archived, 3 current.
  history.run('api-contract', 1, Buffer.from('{"version":"1.0"}'), 'h1', 'application/json', at(1), 'agent-1');
  history.run('api-contract', 2, Buffer.from('{"version":"2.0"}'), 'h2', 'application/json', at(2), 'agent-1');
  state.run('api-contract', Buffer.from('{"version":"3.0"}'), 3, 'h3', 'application/json', at(3), 'agent-2');
  state.run('Truck-Wash/backend-task', Buffer.from('build the API'), 1, 'h', 'text/plain', at(4), '');
  // Deleted in Go: only its history is left.
  history.run('old/notes', 1, Buffer.from('"first"'), 'h', 'application/json', at(5), '');
  history.run('old/notes', 2, Buffer.from('"second"'), 'h', 'application/json', at(6), '');
  // Deleted and written again: Go restarted it at version 1 and now has version 2, with the
  // old versions 1 and 2 still archived.
  history.run('again', 1, Buffer.from('"old one"'), 'h', 'application/json', at(7), '');
  history.run('again', 2, Buffer.from('"old two"'), 'h', 'application/json', at(8), '');
  state.run('again', Buffer.from('"new two"'), 2, 'h', 'application/json', at(9), '');

  db.prepare('INSERT INTO specs (project, name, data, version, hash, updated_at) VALUES (?, ?, ?, ?, ?, ?)')
    .run('w2c-forms', 'button-schema', Buffer.from('{"states":["idle","hover"]}'), 2, 'h', at(10));
  const event = db.prepare('INSERT INTO events (id, topic, data, source, created_at) VALUES (?, ?, ?, ?, ?)');
  event.run(41, 'api.change.contract', Buffer.from('{"version":"2.0","breaking":true}'), 'agent-1', at(11));
  event.run(42, 'build.started', null, '', at(12));
  db.prepare('INSERT INTO instances (id, name, workspace, intent, stack, capabilities, status, token, registered_at, last_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
    .run(INSTANCE, 'claude-frontend', '/projects/frontend', 'implementing dark mode', 'goth', '["code-review","testing"]', 'active', GO_TOKEN, at(13), at(14));
  const webhook = db.prepare('INSERT INTO webhooks (id, url, patterns, secret, active, created_at, last_fired, fail_count) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
  webhook.run('slack-notify', 'http://127.0.0.1:9/koor', '["agent.*","[broken"]', 'my-hmac-secret', 1, at(15), null, 0);
  webhook.run('ci', 'http://127.0.0.1:9/ci', '["build.*"]', '', 0, at(16), at(17), 10);
  db.prepare('INSERT INTO compliance_runs (id, instance_id, project, contract, pass, violations, run_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
    .run(5, INSTANCE, 'Truck-Wash', 'api-contract', 0, '[{"path":"plate","message":"missing required field"}]', at(18));
  const template = db.prepare('INSERT INTO templates (id, name, description, kind, data, tags, version, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)');
  template.run('strict-api-rules', 'Strict API Rules', 'for all projects', 'rules', Buffer.from('[{"rule_id":"no-console-log","pattern":"console\\\\.log"}]'), '["api","strict"]', 1, at(19), at(19));
  template.run('truck-contract', 'Truck contract', '', 'contracts', Buffer.from(JSON.stringify(CONTRACT)), '[]', 1, at(20), at(20));
  const audit = db.prepare('INSERT INTO audit_log (id, timestamp, actor, action, resource, detail, outcome) VALUES (?, ?, ?, ?, ?, ?, ?)');
  audit.run(1, at(21), 'agent-1', 'state.put', 'api-contract', '{"version":3}', 'success');
  audit.run(2, at(22), '', 'template.create', 'strict-api-rules', '{"kind":"rules"}', 'success');
  const metric = db.prepare('INSERT INTO agent_metrics (instance_id, metric_name, metric_value, period) VALUES (?, ?, ?, ?)');
  metric.run(INSTANCE, 'rest_calls', 150, '2026-02-16T14');
  metric.run(INSTANCE, 'violations', 2, '2026-02-16T14');
  const rule = db.prepare(`INSERT INTO validation_rules (project, rule_id, severity, match_type, pattern, message, stack, applies_to, source, status, proposed_by, context, created_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  rule.run('w2c-forms', 'no-inline-style', 'error', 'regex', 'style\\s*=', 'Inline styles are not allowed', 'goth', '["*.html","*.templ"]', 'local', 'accepted', '', '', at(23));
  rule.run('w2c-forms', 'no-hardcoded-colors', 'warning', 'regex', '#[0-9a-fA-F]{3,8}', 'Use CSS custom properties', '', '["*"]', 'learned', 'proposed', INSTANCE, 'theme broke', at(24));
  db.prepare('INSERT INTO llm_usage (id, instance_id, project, provider, model, tokens_in, tokens_out, cost_usd, request_type, session_tag, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
    .run(9, INSTANCE, 'Truck-Wash', 'anthropic', 'claude-sonnet-4-20250514', 1500, 800, 0.012, 'completion', 'refactor-auth', at(25));
  db.close();
}

function runImportGo(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const { command, args: base } = binCommand('koor-server');
  const child = spawn(command, [...base, 'import-go', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, KOOR_AUTH_TOKEN: '' } });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

for (const engine of testEngines()) {
  test(`koor-server import-go copies every table of a Go Koor database, keeping state history, on ${engine}`, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'koor-import-go-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const goPath = join(dir, 'data.db');
    buildGoDatabase(goPath);
    const dataDir = join(dir, 'koor');
    const pg = engine === 'postgres' ? await createTestDatabase(process.env.KOOR_TEST_POSTGRES_URL!) : undefined;
    t.after(() => pg?.drop());
    const target = ['--data-dir', dataDir, ...(pg ? ['--database', pg.url] : [])];

    const run = await runImportGo([goPath, ...target]);
    assert.equal(run.code, 0, run.stderr);
    const report = JSON.parse(run.stdout);
    assert.deepEqual(report.imported, {
      state_keys: 4, state_versions: 9, spec_keys: 1, spec_versions: 1, events: 2, instances: 1, webhooks: 2,
      compliance_runs: 1, templates: 2, audit_log: 2, agent_metrics: 2, rules: 2, llm_usage: 1,
    });

    const app = await buildApp({ dataDir, dashboardBind: '', logLevel: 'silent', authToken: 'admin-token', ...(pg ? { database: pg.url } : {}) });
    t.after(() => app.close());
    const admin = { authorization: 'Bearer admin-token' };
    const get = async (url: string, headers: Record<string, string> = admin) => {
      const response = await app.inject({ method: 'GET', url, headers });
      assert.equal(response.statusCode, 200, `${url}: ${response.body}`);
      return response;
    };
    const json = async (url: string) => (await get(url)).json();

    // State: current values, every version Go kept, deleted keys with their history.
    assert.deepEqual((await json('/api/state')).map((k: { key: string; version: number }) => [k.key, k.version]), [
      ['Truck-Wash/backend-task', 1], ['again', 3], ['api-contract', 3],
    ]);
    assert.equal((await get('/api/state/api-contract')).body, '{"version":"3.0"}');
    const history = await json('/api/state/api-contract?history=1');
    assert.deepEqual(history.versions.map((v: { version: number; updated_at: string }) => [v.version, v.updated_at]), [
      [3, '2026-02-16T14:03:00.000Z'], [2, '2026-02-16T14:02:00.000Z'], [1, '2026-02-16T14:01:00.000Z'],
    ]);
    assert.equal((await get('/api/state/api-contract?version=1')).body, '{"version":"1.0"}');
    assert.deepEqual((await json('/api/state/api-contract?diff=1,3')).diffs, [{ operation: 'replace', path: '/version', old_value: '1.0', new_value: '3.0' }]);
    const plain = await get('/api/state/Truck-Wash/backend-task');
    assert.equal(plain.body, 'build the API');
    assert.match(String(plain.headers['content-type']), /^text\/plain/);
    assert.equal((await app.inject({ method: 'GET', url: '/api/state/old/notes', headers: admin })).statusCode, 404, 'deleted in Go, deleted here');
    assert.equal((await get('/api/state/old/notes?version=2')).body, '"second"');
    assert.deepEqual((await json('/api/state/again?history=1')).versions.map((v: { version: number }) => v.version), [3, 2, 1]);
    assert.equal((await get('/api/state/again')).body, '"new two"');
    assert.equal((await get('/api/state/again?version=2')).body, '"old two"');

    const spec = await get('/api/specs/w2c-forms/button-schema');
    assert.equal(spec.body, '{"states":["idle","hover"]}');
    assert.equal(spec.headers['x-koor-version'], '2');

    const events = await json('/api/events/history');
    assert.deepEqual(events, [
      { id: 42, topic: 'build.started', data: null, source: '', created_at: '2026-02-16T14:12:00.000Z' },
      { id: 41, topic: 'api.change.contract', data: { version: '2.0', breaking: true }, source: 'agent-1', created_at: '2026-02-16T14:11:00.000Z' },
    ]);

    const instance = await json(`/api/instances/${INSTANCE}`);
    assert.deepEqual(
      [instance.name, instance.workspace, instance.intent, instance.stack, instance.capabilities, instance.status, instance.registered_at],
      ['claude-frontend', '/projects/frontend', 'implementing dark mode', 'goth', ['code-review', 'testing'], 'active', '2026-02-16T14:13:00.000Z'],
    );
    // The token the Go agent holds is still its credential.
    const asAgent = await app.inject({ method: 'POST', url: `/api/instances/${INSTANCE}/heartbeat`, headers: { authorization: `Bearer ${GO_TOKEN}` } });
    assert.equal(asAgent.statusCode, 200, asAgent.body);

    const hooks = await json('/api/webhooks');
    assert.deepEqual(hooks.map((h: Record<string, unknown>) => [h.id, h.url, h.patterns, h.active, h.fail_count, h.last_fired]).sort(), [
      ['ci', 'http://127.0.0.1:9/ci', ['build.*'], false, 10, '2026-02-16T14:17:00.000Z'],
      // Go never matched with the malformed pattern; it is left out.
      ['slack-notify', 'http://127.0.0.1:9/koor', ['agent.*'], true, 0, null],
    ]);

    const runs = await json('/api/compliance/history');
    assert.deepEqual(runs.map((r: Record<string, unknown>) => [r.id, r.instance_id, r.contract, r.pass, r.run_at]), [[5, INSTANCE, 'api-contract', false, '2026-02-16T14:18:00.000Z']]);
    assert.deepEqual(runs[0].violations, [{ path: 'plate', message: 'missing required field' }]);

    const templates = await json('/api/templates');
    assert.deepEqual(templates.map((x: Record<string, unknown>) => [x.id, x.kind, x.version, x.tags]), [
      ['strict-api-rules', 'rules', 1, ['api', 'strict']], ['truck-contract', 'contracts', 1, []],
    ]);
    const applied = await app.inject({ method: 'POST', url: '/api/templates/truck-contract/apply', headers: admin, payload: { project: 'Truck-Wash' } });
    assert.equal(applied.statusCode, 200, applied.body);
    assert.deepEqual(JSON.parse((await get('/api/specs/Truck-Wash/truck-contract')).body), CONTRACT);

    const audit = await json('/api/audit?limit=100');
    const fromGo = audit.filter((e: { timestamp: string }) => e.timestamp.startsWith('2026-02-16T14:2'));
    // Go's entries arrive marked as imported: this server did not record them.
    assert.deepEqual(fromGo.map((e: Record<string, unknown>) => [e.actor, e.action, e.resource, e.detail, e.imported]).sort(), [
      ['', 'template.create', 'strict-api-rules', '{"kind":"rules"}', true],
      ['agent-1', 'state.put', 'api-contract', '{"version":3}', true],
    ]);
    assert.ok(audit.some((e: { action: string; detail: string }) => e.action === 'backup.import' && /rows/.test(e.detail)), 'the import itself is audited');

    const metrics = await json(`/api/metrics/agents/${INSTANCE}?period=2026-02-16`);
    assert.deepEqual(metrics.map((m: Record<string, unknown>) => [m.metric_name, m.metric_value, m.period]).sort(), [
      ['rest_calls', 150, '2026-02-16T14'], ['violations', 2, '2026-02-16T14'],
    ]);

    const local = (await json('/api/validate/w2c-forms/rules')).rules;
    assert.deepEqual(local.map((r: Record<string, unknown>) => [r.rule_id, r.stack, r.applies_to]), [['no-inline-style', 'goth', ['*.html', '*.templ']]]);
    const proposed = (await json('/api/validate/w2c-forms/rules?status=proposed')).rules;
    assert.deepEqual(proposed.map((r: Record<string, unknown>) => [r.rule_id, r.source, r.proposed_by, r.context]), [['no-hardcoded-colors', 'learned', INSTANCE, 'theme broke']]);
    const checked = await app.inject({ method: 'POST', url: '/api/validate/w2c-forms', headers: admin, payload: { filename: 'x.templ', content: '<p style="x">' } });
    assert.equal(checked.json().count, 1, 'the imported rule fires');

    const usage = await json('/api/llm/usage');
    assert.deepEqual(usage.map((u: Record<string, unknown>) => [u.id, u.model, u.tokens_in, u.tokens_out, u.cost_usd, u.session_tag, u.created_at]), [
      [9, 'claude-sonnet-4-20250514', 1500, 800, 0.012, 'refactor-auth', '2026-02-16T14:25:00.000Z'],
    ]);

    // New rows continue after the imported ids (the template apply above published spec.changed).
    const published = await app.inject({ method: 'POST', url: '/api/events/publish', headers: admin, payload: { topic: 'after.import' } });
    assert.deepEqual((await json('/api/events/history?last=3')).map((e: { id: number }) => e.id), [published.json().id, published.json().id - 1, 42]);
    await app.close();

    // A second import into the now non-empty server is refused unless merging, which skips what exists.
    const again = await runImportGo([goPath, ...target]);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /already holds data/);
    const merged = await runImportGo([goPath, ...target, '--merge']);
    assert.equal(merged.code, 0, merged.stderr);
    assert.equal(JSON.parse(merged.stdout).imported.events ?? 0, 0);
  });
}

test('koor-server import-go refuses what is not a Go Koor database, naming it', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'koor-import-go-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const notSqlite = join(dir, 'notes.txt');
  writeFileSync(notSqlite, 'hello');
  const other = join(dir, 'other.db');
  new Database(other).exec('CREATE TABLE things (id INTEGER)');
  for (const [path, named] of [[notSqlite, /notes\.txt/], [other, /not a Go Koor database.*"state"/], [join(dir, 'missing.db'), /missing\.db/]] as const) {
    const run = await runImportGo([path, '--data-dir', join(dir, 'koor')]);
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, named);
  }
  const usage = await runImportGo([]);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /usage: koor-server import-go/);
});

test('koor-cli restore reads a Go Koor backup file', async (t) => {
  const server = await startListeningApp();
  t.after(server.close);
  const cli = new CliWorkspace(server.url);
  t.after(() => cli.remove());

  // What Go's `koor-cli backup` writes: one indented JSON document, state values inline.
  const backup = {
    state: { 'api-contract': { version: '2.0', endpoints: ['/api/users'] }, 'Truck-Wash/backend-task': { task: 'build', priority: 'high' } },
    rules: [
      { project: 'w2c-forms', rule_id: 'no-inline-style', severity: 'error', match_type: 'regex', pattern: 'style\\s*=', message: 'Inline styles are not allowed', stack: 'goth', source: 'local', status: 'accepted' },
      { project: 'w2c-forms', rule_id: 'mine', severity: 'warning', match_type: 'regex', pattern: 'TODO', message: 'todo', stack: '', source: 'user-rules', status: 'accepted' },
    ],
  };
  writeFileSync(join(cli.cwd, 'go-backup.json'), JSON.stringify(backup, null, 2));
  const restored = await cli.json(['restore', '--file', 'go-backup.json']);
  assert.deepEqual(restored, { imported: { state: 2, rules: 2 }, total: 4 });
  assert.equal((await cli.run(['state', 'get', 'api-contract'])).stdout, '{"version":"2.0","endpoints":["/api/users"]}');
  assert.deepEqual(JSON.parse((await cli.run(['state', 'get', 'Truck-Wash/backend-task'])).stdout), { task: 'build', priority: 'high' });
  const rules = (await cli.json(['rules', 'list', 'w2c-forms'])).rules;
  assert.deepEqual(rules.map((r: { rule_id: string; source: string }) => [r.rule_id, r.source]).sort(), [['mine', 'external'], ['no-inline-style', 'local']]);

  // As for any restore, a server holding data needs --merge; then Go's way: new versions, upserted rules.
  const refused = await cli.run(['restore', '--file', 'go-backup.json']);
  assert.equal(refused.code, 4);
  assert.match(refused.stderr, /already holds data/);
  await cli.json(['restore', '--file', 'go-backup.json', '--merge']);
  assert.equal((await cli.json(['state', 'history', 'api-contract'])).versions.length, 2);
});

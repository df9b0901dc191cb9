import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startListeningApp, testEngines } from './support/app.js';

// An import used to take any row: rules with severity "bogus" and patterns RE2 cannot compile,
// a template whose data is not JSON (after which GET /api/templates/{id} failed), an event id of
// 2^53-2 (after which publishes reused ids), any size at all. Every row now passes the checks
// of the route that would have written it, and a bad one is a 400 naming its table, its place
// and the field, with nothing imported.

const HEADER = JSON.stringify({ koor_export: 1, version: 'test', exported_at: '2026-12-01T00:00:00.000Z', engine: 'sqlite' });
const NOW = '2026-12-01T10:00:00.000Z';
const rule = (fields: Record<string, unknown> = {}) => ({
  project: 'p', rule_id: 'r1', severity: 'error', match_type: 'regex', pattern: 'TODO', message: 'm', applies_to: '[]',
  stack: '', source: 'local', status: 'accepted', proposed_by: '', context: '', created_at: NOW, ...fields,
});
const event = (fields: Record<string, unknown> = {}) => ({ id: 1, topic: 'a.b', data: '{"n":1}', source: '', created_at: NOW, ...fields });
const template = (fields: Record<string, unknown> = {}) => ({
  id: 't1', name: 'T', description: '', kind: 'rules', data: JSON.stringify([{ rule_id: 'x', pattern: 'x' }]), tags: '[]', created_at: NOW, ...fields,
});
const stream = (...rows: [string, Record<string, unknown>][]) =>
  [HEADER, ...rows.map(([table, row]) => JSON.stringify({ table, row })), JSON.stringify({ koor_export_end: true, rows: rows.length })].join('\n') + '\n';

for (const engine of testEngines()) {
  test(`an import checks every row as the API would, naming the table, the row and the field; nothing of a bad import stays (${engine})`, { timeout: 120_000 }, async (t) => {
    const { url, close } = await startListeningApp({}, engine);
    t.after(close);
    const importing = async (body: string) => {
      const res = await fetch(`${url}/api/import`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    const refused = async (body: string, error: string | RegExp, table: string, row: number) => {
      const res = await importing(body);
      assert.equal(res.status, 400, JSON.stringify(res.body));
      if (typeof error === 'string') assert.equal(res.body.error, error);
      else assert.match(String(res.body.error), error);
      assert.equal(res.body.reason, 'invalid_import_row');
      assert.equal(res.body.table, table);
      assert.equal(res.body.row, row);
    };

    await refused(stream(['rules', rule()], ['rules', rule({ rule_id: 'r2', severity: 'bogus' })]),
      'rules row 2 (line 3): rule "r2": severity must be one of error, warning (got "bogus")', 'rules', 2);
    await refused(stream(['rules', rule({ pattern: '(?<name>unclosed' })]), /^rules row 1 \(line 2\): rule "r1": invalid pattern: /, 'rules', 1);
    await refused(stream(['rules', rule({ applies_to: 'src/*.ts' })]), /^rules row 1 \(line 2\): applies_to must be a JSON array/, 'rules', 1);
    await refused(stream(['templates', template({ data: '{not json' })]), /^templates row 1 \(line 2\): data is not JSON/, 'templates', 1);
    await refused(stream(['templates', template({ kind: 'everything' })]), 'templates row 1 (line 2): kind must be one of rules, contracts, bundle (got "everything")', 'templates', 1);
    await refused(stream(['templates', template({ data: JSON.stringify([{ rule_id: 'x', pattern: '(' }]) })]), /^templates row 1 \(line 2\): data: rule "x": invalid pattern/, 'templates', 1);
    await refused(stream(['events', event()], ['events', event({ id: 2 ** 53 - 2 })]),
      `events row 2 (line 3): id must be a whole number between 1 and ${2 ** 52} (got ${2 ** 53 - 2})`, 'events', 2);
    await refused(stream(['events', event({ topic: 'no spaces allowed' })]), /^events row 1 \(line 2\): invalid topic "no spaces allowed"/, 'events', 1);
    await refused(stream(['events', event({ data: 'not json' })]), /^events row 1 \(line 2\): data is not JSON/, 'events', 1);
    await refused(stream(['events', event({ created_at: 'yesterday' })]), 'events row 1 (line 2): created_at must be an RFC 3339 time (got "yesterday")', 'events', 1);
    await refused(stream(['instances', { id: 'i1', name: 'n', workspace: '', intent: '', stack: '', capabilities: '[]', status: 'sleeping', registered_at: NOW, last_seen: NOW, base_url: '', token_hash: 'a'.repeat(64) }]),
      'instances row 1 (line 2): status must be one of pending, active, stale (got "sleeping")', 'instances', 1);
    await refused(stream(['state_keys', { key: '', version: 1, live: 1, hash: 'h', content_type: 'text/plain', updated_at: NOW }]),
      'state_keys row 1 (line 2): state key must not be empty', 'state_keys', 1);

    // Nothing of the refused imports stayed.
    const get = async (path: string) => (await fetch(`${url}${path}`)).json();
    assert.deepEqual(await get('/api/validate/p/rules'), { project: 'p', rules: [] });
    assert.deepEqual(await get('/api/events/history'), []);
    assert.deepEqual(await get('/api/templates'), []);

    // Good rows go in, and an imported event id near the top of the allowed range does not make
    // later publishes reuse ids.
    const ok = await importing(stream(['rules', rule()], ['templates', template()], ['events', event({ id: 2 ** 52 - 1 })]));
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    const ids: number[] = [];
    for (let i = 0; i < 3; i++) {
      const published = await fetch(`${url}/api/events/publish`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ topic: 'after.import' }) });
      assert.equal(published.status, 200);
      ids.push(((await published.json()) as { id: number }).id);
    }
    assert.deepEqual(ids, [2 ** 52, 2 ** 52 + 1, 2 ** 52 + 2]);
    assert.equal(((await get('/api/templates/t1')) as { id: string }).id, 't1');
  });

  test(`imported audit entries are marked, whatever the stream says (${engine})`, async (t) => {
    const { url, close } = await startListeningApp({}, engine);
    t.after(close);
    const forged = { id: 1, timestamp: NOW, actor: 'admin', action: 'webhook.delete', resource: 'ci', detail: '', outcome: 'success', imported: 0 };
    const res = await fetch(`${url}/api/import`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: stream(['audit_log', forged]) });
    assert.equal(res.status, 200, await res.clone().text());
    const audit = (await (await fetch(`${url}/api/audit?action=webhook.delete`)).json()) as Record<string, unknown>[];
    assert.deepEqual(audit.map(({ id: _id, ...entry }) => entry), [{ timestamp: NOW, actor: 'admin', action: 'webhook.delete', resource: 'ci', detail: '', outcome: 'success', imported: true }]);
    // The server's own entries carry no mark.
    const own = (await (await fetch(`${url}/api/audit?action=backup.import`)).json()) as Record<string, unknown>[];
    assert.equal(own.length, 1);
    assert.equal('imported' in own[0]!, false);
  });
}

test('an import larger than --import-limit is a 413 naming the limit, and nothing is imported', async (t) => {
  const { url, close } = await startListeningApp({ importLimitBytes: 64 * 1024 });
  t.after(close);
  const rows: [string, Record<string, unknown>][] = Array.from({ length: 1000 }, (_, i) => ['events', event({ id: i + 1 })]);
  const body = stream(...rows);
  assert.ok(body.length > 64 * 1024);
  const expected = { error: 'the import is larger than the 64 KB import limit (--import-limit)', code: 413, reason: 'import_too_large', limit_bytes: 64 * 1024 };
  // Announced by Content-Length: refused before it is read.
  const announced = await fetch(`${url}/api/import`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body });
  assert.equal(announced.status, 413);
  assert.deepEqual(await announced.json(), expected);
  // Streamed without a length: cut once the limit is passed.
  const streamed = await fetch(`${url}/api/import`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-ndjson' },
    body: new ReadableStream({ start(controller) { controller.enqueue(new TextEncoder().encode(body)); controller.close(); } }),
    duplex: 'half',
  } as RequestInit);
  assert.equal(streamed.status, 413);
  assert.deepEqual(await streamed.json(), expected);
  assert.deepEqual(await (await fetch(`${url}/api/events/history`)).json(), []);
});

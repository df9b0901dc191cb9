import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, testEngines } from '../../test/support/app.js';
import type { KoorEvent } from '../events/hub.js';
import '../audit/tables.js';
import '../state/tables.js';

const CONTRACT = { kind: 'contract', endpoints: { 'GET /ping': { response: { pong: { type: 'boolean' } } } } };

for (const engine of testEngines()) {
  test(`changes that share a transaction: one that is refused undoes only itself, on ${engine}`, async (t) => {
    const { app, close } = await startTestApp({}, engine);
    t.after(close);
    const put = (key: string, headers: Record<string, string> = {}) =>
      app.inject({ method: 'PUT', url: `/api/state/${key}`, headers: { 'content-type': 'application/json', ...headers }, payload: `{"k":"${key}"}` });
    assert.equal((await put('shared')).statusCode, 200);
    const seen: KoorEvent[] = [];
    const stop = app.koor.hub.subscribe((event) => seen.push(event));
    t.after(stop);

    // Sent in one go, so that they meet in the committer's queue and commit together.
    const answers = await Promise.all([
      put('a'),
      put('shared', { 'if-match': '7' }), // refused: the key is at version 1
      put('b'),
      app.inject({ method: 'DELETE', url: '/api/state/never-written' }), // refused: unknown key
      put('shared', { 'if-match': '1' }),
      put('c'),
    ]);
    assert.deepEqual(answers.map((a) => a.statusCode), [200, 412, 200, 404, 200, 200]);

    const versions = await app.koor.db.query.selectFrom('state_versions').select(['key', 'version']).orderBy('key').orderBy('version').execute();
    assert.deepEqual(versions.map((v) => `${v.key}@${v.version}`), ['a@1', 'b@1', 'c@1', 'shared@1', 'shared@2']);
    assert.deepEqual(seen.map((e) => (e.data as { key: string }).key), ['a', 'b', 'shared', 'c']);
    assert.deepEqual(seen.map((e) => e.id), [...seen.map((e) => e.id)].sort((x, y) => x - y), 'emitted in id order');
    const audit = await app.koor.db.query.selectFrom('audit_log').select(['action', 'resource', 'outcome']).orderBy('id').execute();
    const successes = audit.filter((a) => a.outcome === 'success').map((a) => `${a.action} ${a.resource}`);
    assert.deepEqual(successes.slice(1), ['state.put a', 'state.put b', 'state.put shared', 'state.put c']);
    assert.deepEqual(audit.filter((a) => a.outcome === 'error').map((a) => `${a.action} ${a.resource}`).sort(), ['state.delete never-written', 'state.put shared']);
  });

  test(`a template apply that fails on its third contract leaves nothing behind, on ${engine}`, async (t) => {
    const { app, close } = await startTestApp({}, engine);
    t.after(close);
    // Template contract names may be longer than spec names: the third one is refused only
    // when it is stored as a spec, after the rules and two contracts were written.
    const tooLong = 'c'.repeat(150);
    const created = await app.inject({
      method: 'POST',
      url: '/api/templates',
      payload: { id: 'kit', name: 'kit', kind: 'bundle', data: { rules: [{ rule_id: 'no-todo', pattern: 'TODO' }], contracts: { one: CONTRACT, two: CONTRACT, [tooLong]: CONTRACT } } },
    });
    assert.equal(created.statusCode, 200, created.body);
    const lastEvent = (await app.inject({ method: 'GET', url: '/api/events/history?last=1' })).json()[0]?.id ?? 0;

    const applied = await app.inject({ method: 'POST', url: '/api/templates/kit/apply', payload: { project: 'shop' } });
    assert.equal(applied.statusCode, 400);
    assert.match(applied.json().error, /spec name is 150 characters long/);

    assert.deepEqual((await app.inject({ method: 'GET', url: '/api/specs/shop' })).json().specs, []);
    assert.deepEqual((await app.inject({ method: 'GET', url: '/api/validate/shop/rules' })).json().rules.filter((r: { project: string }) => r.project === 'shop'), []);
    assert.deepEqual((await app.inject({ method: 'GET', url: `/api/events/history?after=${lastEvent}` })).json(), []);
    const audit = (await app.inject({ method: 'GET', url: '/api/audit?limit=10' })).json() as { action: string; outcome: string }[];
    assert.deepEqual(audit.filter((a) => a.outcome === 'success').map((a) => a.action), ['template.create']);
    assert.deepEqual(audit.filter((a) => a.outcome === 'error').map((a) => a.action), ['template.apply']);
  });
}

test('a change that calls the committer is refused instead of waiting for itself', async (t) => {
  const { app, close } = await startTestApp();
  t.after(close);
  const { commit } = app.koor;
  await assert.rejects(
    commit(async () => ({ value: await commit(async () => ({ value: 1 })) })),
    /a change called the committer: compose its parts with combineChanges instead/,
  );
  // The committer is still in working order afterwards.
  assert.equal(await commit(async () => ({ value: 'ok' })), 'ok');
});

test('a change promising to store no events may not return any', async (t) => {
  const { app, close } = await startTestApp();
  t.after(close);
  await assert.rejects(
    app.koor.commit(async () => ({ value: 1, events: [{ topic: 'x.y' }] }), { emits: false }),
    /returned events/,
  );
  assert.deepEqual((await app.inject({ method: 'GET', url: '/api/events/history' })).json(), []);
});

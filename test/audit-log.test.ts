import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { startTestApp, testEngines } from './support/app.js';

interface Entry {
  id: number;
  timestamp: string;
  actor: string;
  action: string;
  resource: string;
  detail: string;
  outcome: string;
}

async function audit(app: FastifyInstance, query = ''): Promise<Entry[]> {
  const res = await app.inject({ method: 'GET', url: `/api/audit${query}` });
  assert.equal(res.statusCode, 200, res.body);
  return res.json();
}

for (const engine of testEngines()) {
  test(`a failed mutation leaves exactly one error entry on ${engine}`, async (t) => {
    const { app, close } = await startTestApp({}, engine);
    t.after(close);

    // Handler-level refusal: empty body.
    const empty = await app.inject({ method: 'PUT', url: '/api/state/cfg/db', payload: '', headers: { 'content-type': 'text/plain' } });
    assert.equal(empty.statusCode, 400);
    // Schema-level refusal, before any handler runs.
    const invalid = await app.inject({ method: 'POST', url: '/api/llm/usage', payload: { model: 'm' } });
    assert.equal(invalid.statusCode, 400);
    // Not found.
    const missing = await app.inject({ method: 'DELETE', url: '/api/webhooks/999' });
    assert.equal(missing.statusCode, 404);

    const entries = await audit(app);
    assert.equal(entries.length, 3, JSON.stringify(entries));
    const [notFound, schema, emptyBody] = entries;
    assert.deepEqual(
      { action: emptyBody!.action, actor: emptyBody!.actor, resource: emptyBody!.resource, outcome: emptyBody!.outcome },
      { action: 'state.put', actor: 'anonymous', resource: 'cfg/db', outcome: 'error' },
    );
    assert.equal(emptyBody!.detail, empty.json().error);
    assert.equal(schema!.action, 'llm.usage');
    assert.equal(schema!.outcome, 'error');
    assert.match(schema!.detail, /provider/);
    assert.equal(notFound!.action, 'webhook.delete');
    assert.equal(notFound!.resource, '999');
    assert.equal(notFound!.outcome, 'error');

    // A read that fails is not a mutation and is not logged.
    assert.equal((await app.inject({ method: 'GET', url: '/api/state/nope' })).statusCode, 404);
    assert.equal((await audit(app)).length, 3);
  });

  test(`an instance token makes the instance the actor on ${engine}`, async (t) => {
    const { app, close } = await startTestApp({ authToken: 'server-secret' }, engine);
    t.after(close);
    const admin = { authorization: 'Bearer server-secret' };
    const reg = await app.inject({ method: 'POST', url: '/api/instances/register', payload: { name: 'builder' }, headers: admin });
    assert.equal(reg.statusCode, 200, reg.body);
    const { id, token } = reg.json() as { id: string; token: string };

    const asInstance = { ...admin, 'x-koor-instance-token': token };
    const put = await app.inject({ method: 'PUT', url: '/api/state/owned', payload: '{"a":1}', headers: { ...asInstance, 'content-type': 'application/json' } });
    assert.equal(put.statusCode, 200, put.body);
    const bad = await app.inject({ method: 'PUT', url: '/api/state/owned', payload: '', headers: { authorization: `Bearer ${token}`, 'content-type': 'text/plain' } });
    assert.equal(bad.statusCode, 400);

    const mine = await app.inject({ method: 'GET', url: `/api/audit?actor=${id}`, headers: admin });
    assert.deepEqual((mine.json() as Entry[]).map((e) => [e.action, e.outcome, e.resource]), [
      ['state.put', 'error', 'owned'],
      ['state.put', 'success', 'owned'],
    ]);
    const registered = await app.inject({ method: 'GET', url: '/api/audit?action=instance.register', headers: admin });
    assert.deepEqual((registered.json() as Entry[]).map((e) => [e.actor, e.outcome]), [['admin', 'success']]);

    // A refused credential is not audited (SPEC §15: a flood of them must cost no disk), only counted.
    const refused = await app.inject({ method: 'PUT', url: '/api/state/owned', payload: 'x', headers: { 'content-type': 'text/plain' } });
    assert.equal(refused.statusCode, 401);
    const anonymous = await app.inject({ method: 'GET', url: '/api/audit?actor=anonymous', headers: admin });
    assert.deepEqual(anonymous.json(), []);
    const metrics = await app.inject({ method: 'GET', url: '/metrics', headers: admin });
    assert.match(metrics.body, /^koor_auth_unauthorized_total 1$/m);
  });

  test(`audit queries filter, limit and summarize on ${engine}`, async (t) => {
    const { app, close } = await startTestApp({}, engine);
    t.after(close);
    for (const key of ['a', 'b', 'c']) {
      const res = await app.inject({ method: 'PUT', url: `/api/state/${key}`, payload: key, headers: { 'content-type': 'text/plain' } });
      assert.equal(res.statusCode, 200);
    }
    assert.equal((await app.inject({ method: 'DELETE', url: '/api/state/a' })).statusCode, 200);
    assert.equal((await app.inject({ method: 'DELETE', url: '/api/state/zzz' })).statusCode, 404);

    const all = await audit(app);
    assert.equal(all.length, 5);
    // Newest first.
    assert.deepEqual(all.map((e) => e.id), [...all.map((e) => e.id)].sort((x, y) => y - x));
    assert.ok(all.every((e) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/.test(e.timestamp)));

    assert.deepEqual((await audit(app, '?limit=2')).map((e) => e.id), all.slice(0, 2).map((e) => e.id));
    assert.deepEqual((await audit(app, '?action=state.delete')).map((e) => e.outcome), ['error', 'success']);
    const middle = all[2]!.timestamp;
    assert.ok((await audit(app, `?from=${encodeURIComponent(middle)}`)).every((e) => e.timestamp >= middle));
    assert.ok((await audit(app, `?to=${encodeURIComponent(middle)}`)).every((e) => e.timestamp <= middle));
    assert.deepEqual(await audit(app, '?to=2000-01-01'), []);
    assert.equal((await audit(app, '?from=2000-01-01&to=2999-12-31T23:59:59Z')).length, 5);

    const summary = await app.inject({ method: 'GET', url: '/api/audit/summary' });
    assert.deepEqual(summary.json(), {
      total_entries: 5,
      action_counts: { 'state.delete': 2, 'state.put': 3 },
      outcome_counts: { error: 1, success: 4 },
      unique_actors: 1,
      unique_resources: 4,
    });
    const empty = await app.inject({ method: 'GET', url: '/api/audit/summary?to=2000-01-01' });
    assert.deepEqual(empty.json(), { total_entries: 0, action_counts: {}, outcome_counts: {}, unique_actors: 0, unique_resources: 0 });

    for (const [url, param] of [
      ['/api/audit?from=yesterday', 'from'],
      ['/api/audit?to=2026-02-30', 'to'],
      ['/api/audit/summary?from=2026-13-01', 'from'],
    ] as const) {
      const res = await app.inject({ method: 'GET', url });
      assert.equal(res.statusCode, 400, url);
      assert.match(res.json().error, new RegExp(`^invalid ${param} `));
    }
    const limit = await app.inject({ method: 'GET', url: '/api/audit?limit=0' });
    assert.equal(limit.statusCode, 400);
    assert.match(limit.json().error, /limit/);
  });
}

test('no API route changes or removes audit entries', async (t) => {
  const { app, close } = await startTestApp();
  t.after(close);
  const doc = (await app.inject({ method: 'GET', url: '/api/openapi.json' })).json() as { paths: Record<string, Record<string, unknown>> };
  const auditPaths = Object.entries(doc.paths).filter(([path]) => path.startsWith('/api/audit'));
  assert.ok(auditPaths.length >= 2);
  for (const [path, methods] of auditPaths) assert.deepEqual(Object.keys(methods), ['get'], path);
  for (const method of ['DELETE', 'PUT', 'POST', 'PATCH'] as const) {
    const res = await app.inject({ method, url: '/api/audit/1' });
    assert.equal(res.statusCode, 404);
  }
});

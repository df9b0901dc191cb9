import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { startTestApp, testEngines } from '../../test/support/app.js';
import type { KoorEvent } from '../events/hub.js';

async function register(app: FastifyInstance, body: Record<string, unknown>, headers: Record<string, string> = {}) {
  const res = await app.inject({ method: 'POST', url: '/api/instances/register', payload: body, headers });
  assert.equal(res.statusCode, 200, res.body);
  return res.json() as { id: string; token: string; last_seen: string; registered_at: string; [k: string]: unknown };
}

function auditRows(app: FastifyInstance) {
  return app.koor.db.query.selectFrom('audit_log').selectAll().orderBy('id').execute();
}

for (const engine of testEngines()) {
  test(`register, list with filters, get, capabilities, activate, heartbeat, deregister on ${engine}`, async (t) => {
    const { app, close } = await startTestApp({}, engine);
    t.after(close);
    const events: KoorEvent[] = [];
    app.koor.hub.subscribe((e) => events.push(e));

    const front = await register(app, {
      name: 'frontend',
      workspace: '/repo/web',
      intent: 'build the login page',
      stack: 'react',
      capabilities: ['ui', 'tests', 'ui'],
      base_url: 'http://localhost:5173/',
    });
    assert.match(front.id, /^[0-9a-f-]{36}$/);
    assert.match(front.token, /^[0-9a-f]{64}$/);
    assert.equal(front.name, 'frontend');
    assert.equal(front.status, 'pending');
    assert.deepEqual(front.capabilities, ['ui', 'tests']);
    assert.equal(front.base_url, 'http://localhost:5173');
    assert.equal(front.registered_at, front.last_seen);
    assert.match(front.registered_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

    const back = await register(app, { name: 'backend', stack: 'go-api' });
    assert.equal(back.base_url, '');
    assert.equal(back.workspace, '');
    assert.deepEqual(back.capabilities, []);

    const all = await app.inject({ method: 'GET', url: '/api/instances' });
    assert.equal(all.statusCode, 200);
    assert.deepEqual(all.json().map((i: { name: string }) => i.name), ['frontend', 'backend']);
    assert.ok(!all.body.includes(front.token), 'a listing never shows tokens');
    assert.ok(!all.body.includes('token'));

    const byFilter = async (query: string) =>
      (await app.inject({ method: 'GET', url: `/api/instances?${query}` })).json().map((i: { name: string }) => i.name);
    assert.deepEqual(await byFilter('stack=react'), ['frontend']);
    assert.deepEqual(await byFilter('capability=tests'), ['frontend']);
    assert.deepEqual(await byFilter('name=backend'), ['backend']);
    assert.deepEqual(await byFilter('workspace=%2Frepo%2Fweb'), ['frontend']);
    assert.deepEqual(await byFilter('status=pending'), ['frontend', 'backend']);
    assert.deepEqual(await byFilter('status=active'), []);
    const badStatus = await app.inject({ method: 'GET', url: '/api/instances?status=sleeping' });
    assert.equal(badStatus.statusCode, 400);
    assert.match(badStatus.json().error, /status/);

    const one = await app.inject({ method: 'GET', url: `/api/instances/${front.id}` });
    assert.equal(one.statusCode, 200);
    const { token: _token, ...shown } = front;
    assert.deepEqual(one.json(), shown);

    const caps = await app.inject({ method: 'POST', url: `/api/instances/${back.id}/capabilities`, payload: { capabilities: ['api', 'db'] } });
    assert.equal(caps.statusCode, 200);
    assert.deepEqual(caps.json(), { id: back.id, capabilities: ['api', 'db'] });
    assert.deepEqual(await byFilter('capability=db'), ['backend']);

    const activate = await app.inject({ method: 'POST', url: `/api/instances/${back.id}/activate` });
    assert.deepEqual(activate.json(), { id: back.id, status: 'active' });
    assert.deepEqual(await byFilter('status=active'), ['backend']);

    const beat = await app.inject({ method: 'POST', url: `/api/instances/${front.id}/heartbeat` });
    assert.deepEqual(beat.json(), { id: front.id, status: 'ok' });
    const afterBeat = (await app.inject({ method: 'GET', url: `/api/instances/${front.id}` })).json();
    assert.ok(afterBeat.last_seen >= front.last_seen);
    assert.equal(afterBeat.status, 'active', 'a pending instance that is heard from becomes active');

    const gone = await app.inject({ method: 'DELETE', url: `/api/instances/${front.id}` });
    assert.deepEqual(gone.json(), { deleted: front.id });
    assert.equal((await app.inject({ method: 'GET', url: `/api/instances/${front.id}` })).statusCode, 404);

    assert.deepEqual(events.map((e) => e.topic), ['agent.registered', 'agent.registered', 'agent.activated', 'agent.activated', 'agent.deregistered']);
    assert.equal((events[0]!.data as { name: string }).name, 'frontend');
    assert.equal((events[3]!.data as { id: string }).id, front.id);
    assert.ok(!JSON.stringify(events).includes(front.token), 'events never carry tokens');

    const actions = (await auditRows(app)).map((r) => `${r.action} ${r.resource} ${r.actor}`);
    assert.deepEqual(actions, [
      `instance.register ${front.id} anonymous`,
      `instance.register ${back.id} anonymous`,
      `instance.capabilities ${back.id} anonymous`,
      `instance.activate ${back.id} anonymous`,
      `instance.heartbeat ${front.id} anonymous`,
      `instance.deregister ${front.id} anonymous`,
    ]);

    // Tokens are stored only as hashes.
    const stored = await app.koor.db.query.selectFrom('instances').selectAll().execute();
    assert.ok(!JSON.stringify(stored).includes(back.token));
  });
}

test('bad input and unknown ids get clear 4xx answers', async (t) => {
  const { app, close } = await startTestApp();
  t.after(close);
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{}, /name/],
    [{ name: '' }, /name/],
    [{ name: '   ' }, /name/],
    [{ name: 'x'.repeat(201) }, /name/],
    [{ name: 'a', capabilities: 'ui' }, /capabilities/],
    [{ name: 'a', capabilities: [{}] }, /capabilities/],
    [{ name: 'a', capabilities: [''] }, /capabilities\[0\]/],
    [{ name: 'a', base_url: 'ftp://x' }, /base_url/],
    [{ name: 'a', base_url: 'not a url' }, /base_url/],
  ];
  for (const [body, message] of cases) {
    const res = await app.inject({ method: 'POST', url: '/api/instances/register', payload: body });
    assert.equal(res.statusCode, 400, JSON.stringify(body));
    assert.match(res.json().error, message, JSON.stringify(body));
  }
  const malformed = await app.inject({ method: 'POST', url: '/api/instances/register', payload: '{', headers: { 'content-type': 'application/json' } });
  assert.equal(malformed.statusCode, 400);

  for (const [method, url] of [
    ['GET', '/api/instances/nope'],
    ['POST', '/api/instances/nope/heartbeat'],
    ['POST', '/api/instances/nope/activate'],
    ['DELETE', '/api/instances/nope'],
  ] as const) {
    const res = await app.inject({ method, url });
    assert.equal(res.statusCode, 404, url);
    assert.deepEqual(res.json(), { error: 'instance not found: nope', code: 404, reason: 'not_found' });
  }
  const caps = await app.inject({ method: 'POST', url: '/api/instances/nope/capabilities', payload: { capabilities: [] } });
  assert.equal(caps.statusCode, 404);
  const noCaps = await app.inject({ method: 'POST', url: '/api/instances/nope/capabilities', payload: {} });
  assert.equal(noCaps.statusCode, 400);
  assert.match(noCaps.json().error, /capabilities/);
});

test('a request with an instance token is attributed to that instance', async (t) => {
  const { app, close } = await startTestApp();
  t.after(close);
  const agent = await register(app, { name: 'agent' });
  const other = await register(app, { name: 'other' });
  const events: KoorEvent[] = [];
  app.koor.hub.subscribe((e) => events.push(e));

  const viaHeader = await app.inject({
    method: 'POST',
    url: `/api/instances/${agent.id}/capabilities`,
    payload: { capabilities: ['x'] },
    headers: { 'x-koor-instance-token': agent.token },
  });
  assert.equal(viaHeader.statusCode, 200);
  // An agent acts on its own instance only (SPEC §15), also in local mode; the refusal is audited as its own.
  const onOther = await app.inject({ method: 'DELETE', url: `/api/instances/${other.id}`, headers: { authorization: `Bearer ${agent.token}` } });
  assert.equal(onOther.statusCode, 403);
  const viaBearer = await app.inject({
    method: 'DELETE',
    url: `/api/instances/${agent.id}`,
    headers: { authorization: `Bearer ${agent.token}` },
  });
  assert.equal(viaBearer.statusCode, 200);

  const rows = await auditRows(app);
  const last = rows.slice(-3).map((r) => [r.action, r.actor, r.outcome]);
  assert.deepEqual(last, [['instance.capabilities', agent.id, 'success'], ['instance.deregister', agent.id, 'error'], ['instance.deregister', agent.id, 'success']]);
  assert.equal(events.find((e) => e.topic === 'agent.deregistered')?.source, agent.id);
});

for (const engine of testEngines()) {
  test(`with auth on, instance tokens are credentials until deregistered on ${engine}`, async (t) => {
    const { app, close } = await startTestApp({ authToken: 'server-secret' }, engine);
    t.after(close);
    const admin = { authorization: 'Bearer server-secret' };

    const noToken = await app.inject({ method: 'POST', url: '/api/instances/register', payload: { name: 'x' } });
    assert.equal(noToken.statusCode, 401);

    const agent = await register(app, { name: 'agent' }, admin);
    const asAgent = { authorization: `Bearer ${agent.token}` };

    const list = await app.inject({ method: 'GET', url: '/api/instances', headers: asAgent });
    assert.equal(list.statusCode, 200);
    assert.equal(list.json().length, 1);

    // An instance token must not mint more credentials.
    const minted = await app.inject({ method: 'POST', url: '/api/instances/register', payload: { name: 'y' }, headers: asAgent });
    assert.equal(minted.statusCode, 403);
    assert.equal(minted.json().error, 'an agent token may not register instances');

    // The header form works alongside the server token, and names the caller.
    const both = await app.inject({
      method: 'POST',
      url: `/api/instances/${agent.id}/heartbeat`,
      headers: { ...admin, 'x-koor-instance-token': agent.token },
    });
    assert.equal(both.statusCode, 200);
    assert.equal((await auditRows(app)).at(-1)!.actor, agent.id);

    const bye = await app.inject({ method: 'DELETE', url: `/api/instances/${agent.id}`, headers: admin });
    assert.equal(bye.statusCode, 200);
    const refused = await app.inject({ method: 'GET', url: '/api/instances', headers: asAgent });
    assert.equal(refused.statusCode, 401);
    assert.deepEqual(refused.json(), { error: 'invalid or missing bearer token', code: 401, reason: 'unauthorized' });
    const refusedHeader = await app.inject({ method: 'GET', url: '/api/instances', headers: { 'x-koor-instance-token': agent.token } });
    assert.equal(refusedHeader.statusCode, 401);
  });
}

test('any call with the token brings a stale instance back to active', async (t) => {
  // A long interval keeps the monitor out of the way; the test runs the check by hand.
  const { app, close } = await startTestApp({ staleAfterMs: 50, livenessIntervalMs: 3_600_000 });
  t.after(close);
  const agent = await register(app, { name: 'agent' });
  const events: KoorEvent[] = [];
  app.koor.hub.subscribe((e) => events.push(e));

  let status = '';
  const deadline = Date.now() + 10_000;
  while (status !== 'stale' && Date.now() < deadline) {
    await app.inject({ method: 'POST', url: '/api/liveness/check' });
    status = (await app.inject({ method: 'GET', url: `/api/instances/${agent.id}` })).json().status;
    if (status !== 'stale') await new Promise((r) => setTimeout(r, 20));
  }
  assert.equal(status, 'stale');

  const call = await app.inject({ method: 'GET', url: '/api/instances', headers: { 'x-koor-instance-token': agent.token } });
  assert.equal(call.statusCode, 200);
  const after = (await app.inject({ method: 'GET', url: `/api/instances/${agent.id}` })).json();
  assert.equal(after.status, 'active');
  assert.ok(after.last_seen > agent.last_seen);
  assert.ok(events.some((e) => e.topic === 'agent.activated' && (e.data as { id: string }).id === agent.id));
});

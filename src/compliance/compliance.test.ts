import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { startTestApp, testEngines } from '../../test/support/app.js';

const CONTRACT = {
  kind: 'contract',
  endpoints: {
    'GET /status': { response: { ok: { type: 'boolean', required: true }, version: { type: 'string' } } },
    'GET /items': { response: { id: { type: 'integer', required: true } }, response_array: true },
    // Not called by compliance: it has a path parameter, or is not a GET.
    'GET /items/{id}': { response: { id: { type: 'integer', required: true } } },
    'POST /items': { request: { id: { type: 'integer' } } },
  },
};

function serve(answers: Record<string, unknown>): Promise<{ server: Server; url: string; calls: string[] }> {
  const calls: string[] = [];
  const server = createServer((req, res) => {
    calls.push(`${req.method} ${req.url}`);
    const answer = answers[req.url ?? ''];
    res.statusCode = answer === undefined ? 404 : 200;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(answer ?? { error: 'not found' }));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, calls, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })));
}

async function register(app: FastifyInstance, body: Record<string, unknown>, activate = true): Promise<string> {
  const res = await app.inject({ method: 'POST', url: '/api/instances/register', payload: body });
  assert.equal(res.statusCode, 200, res.body);
  const id = res.json().id as string;
  if (activate) assert.equal((await app.inject({ method: 'POST', url: `/api/instances/${id}/activate` })).statusCode, 200);
  return id;
}

for (const engine of testEngines()) {
  test(`a compliance run over two instances in two projects stores the right runs and events (${engine})`, async (t) => {
    const { app, close } = await startTestApp({}, engine);
    t.after(close);
    const good = await serve({ '/status': { ok: true, version: '1' }, '/items': [{ id: 1 }, { id: 2 }] });
    t.after(() => new Promise((resolve) => good.server.close(resolve)));
    const bad = await serve({ '/status': { ok: 'yes' }, '/items': [{ id: 1 }, { name: 'x' }] });
    t.after(() => new Promise((resolve) => bad.server.close(resolve)));

    for (const project of ['alpha', 'beta']) {
      const put = await app.inject({ method: 'PUT', url: `/api/specs/${project}/api`, payload: CONTRACT });
      assert.equal(put.statusCode, 200, put.body);
    }
    // Specs that are not contracts are not compliance material.
    await app.inject({ method: 'PUT', url: '/api/specs/alpha/notes', payload: { kind: 'notes', text: 'hi' } });

    const alphaAgent = await register(app, { name: 'alpha-agent', workspace: 'alpha', base_url: good.url });
    const betaAgent = await register(app, { name: 'beta-agent', workspace: 'beta', base_url: bad.url });
    const noService = await register(app, { name: 'planner', workspace: 'alpha' });
    await register(app, { name: 'idle', workspace: 'beta', base_url: bad.url }, false); // pending: not checked

    const res = await app.inject({ method: 'POST', url: '/api/compliance/run' });
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json();
    assert.equal(body.checked, true);
    assert.equal(body.count, 3);
    const runOf = (id: string) => body.runs.find((r: { instance_id: string }) => r.instance_id === id);

    assert.deepEqual({ ...runOf(alphaAgent), id: 0, run_at: '' }, { id: 0, instance_id: alphaAgent, project: 'alpha', contract: 'api', pass: true, violations: [], run_at: '' });
    assert.equal(runOf(noService).pass, true, 'an instance without a service passes on a valid contract');
    const failed = runOf(betaAgent);
    assert.equal(failed.project, 'beta');
    assert.equal(failed.contract, 'api');
    assert.equal(failed.pass, false);
    assert.deepEqual(failed.violations, [
      { endpoint: 'GET /status', path: 'ok', message: 'expected boolean, got string' },
      { endpoint: 'GET /items', path: '[1].id', message: 'required field missing' },
      { endpoint: 'GET /items', path: '[1].name', message: 'unknown field' },
    ]);
    assert.deepEqual(good.calls.sort(), ['GET /items', 'GET /status']);
    assert.deepEqual(bad.calls.sort(), ['GET /items', 'GET /status'], 'the pending instance was not called');

    const events = (await app.inject({ method: 'GET', url: '/api/events/history?topic=compliance.violation' })).json();
    assert.equal(events.length, 1);
    assert.equal(events[0].data.instance_id, betaAgent);
    assert.equal(events[0].data.project, 'beta');
    assert.equal(events[0].data.contract, 'api');
    assert.equal(events[0].data.violations.length, 3);

    // Every check is stored: a second run adds three more.
    assert.equal((await app.inject({ method: 'POST', url: '/api/compliance/run' })).json().count, 3);
    const all = (await app.inject({ method: 'GET', url: '/api/compliance/history' })).json();
    assert.equal(all.length, 6);
    const betaHistory = (await app.inject({ method: 'GET', url: `/api/compliance/history?instance_id=${betaAgent}&limit=1` })).json();
    assert.equal(betaHistory.length, 1);
    assert.equal(betaHistory[0].instance_id, betaAgent);
    assert.equal(betaHistory[0].pass, false);
    assert.equal(betaHistory[0].violations.length, 3);
    assert.ok(betaHistory[0].id > failed.id, 'newest first');
    assert.equal((await app.inject({ method: 'GET', url: '/api/compliance/history?limit=0' })).statusCode, 400);
  });

  test(`the compliance scheduler runs on its interval (${engine})`, async (t) => {
    const { app, close } = await startTestApp({ complianceIntervalMs: 50 }, engine);
    t.after(close);
    const put = await app.inject({ method: 'PUT', url: '/api/specs/gamma/api', payload: CONTRACT });
    assert.equal(put.statusCode, 200);
    const id = await register(app, { name: 'g', workspace: 'gamma' });
    // Poll until the background job has stored a check for the instance.
    for (;;) {
      const history = (await app.inject({ method: 'GET', url: `/api/compliance/history?instance_id=${id}` })).json();
      if (history.length > 0) {
        assert.equal(history[0].project, 'gamma');
        assert.equal(history[0].pass, true);
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  });
}

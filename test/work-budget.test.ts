import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startListeningApp, testEngines } from './support/app.js';
import { probeHealthDuring } from './support/health-probe.js';

// Costly checks of user input used to run on the event loop: a JSON Schema `uniqueItems` over
// 20 000 objects held every other request for 8.9 s, a costly `pattern` over 500 KB for 7.4 s.
// They now run in the worker pool, and the work budget ends them with a 422 that names it.
// The budgets here are far below what the work needs on any machine (seconds), so the answer
// does not depend on the machine's speed.

const BUDGET_MS = 500;
const OVER_BUDGET = (what: string) => ({ error: `${what} exceeded the ${BUDGET_MS}ms work budget (--work-budget)`, code: 422, reason: 'work_budget_exceeded', budget_ms: BUDGET_MS });
const COSTLY_PATTERN = '(?:[a-z][a-z]?){1000}Q';

function contract(schema: unknown, direction = 'request') {
  return { kind: 'contract', endpoints: { 'POST /items': { schema: { [direction]: schema } } } };
}

for (const engine of testEngines()) {
  test(`costly JSON Schema checks run past the work budget end in a 422 while /health answers (${engine})`, { timeout: 120_000 }, async (t) => {
    const { url, close } = await startListeningApp({ workBudgetMs: BUDGET_MS }, engine);
    t.after(close);
    const call = async (method: string, path: string, body: unknown) => {
      const res = await fetch(`${url}${path}`, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    assert.equal((await call('PUT', '/api/specs/shop/unique', contract({ type: 'array', uniqueItems: true }))).status, 200);
    assert.equal((await call('PUT', '/api/specs/shop/pattern', contract({ type: 'string', pattern: COSTLY_PATTERN }))).status, 200);

    const objects = Array.from({ length: 20_000 }, (_, i) => ({ id: i, name: `item ${i}`, tags: ['a', 'b'] }));
    const unique = await probeHealthDuring(url, call('POST', '/api/contracts/shop/unique/validate', { endpoint: 'POST /items', payload: objects }));
    t.diagnostic(`uniqueItems: /health answered ${unique.answeredWhileRunning} probes, the slowest in ${unique.slowestMs} ms`);
    assert.deepEqual(unique.result, { status: 422, body: OVER_BUDGET('contract check') });
    assert.deepEqual(unique.failed, []);
    assert.ok(unique.answeredWhileRunning > 0, '/health never answered during the check');

    const text = 'abcdefghijklmnopqrstuvwxyz'.repeat(20_000); // 520 KB
    const pattern = await probeHealthDuring(url, call('POST', '/api/contracts/shop/pattern/validate', { endpoint: 'POST /items', payload: text }));
    t.diagnostic(`pattern: /health answered ${pattern.answeredWhileRunning} probes, the slowest in ${pattern.slowestMs} ms`);
    assert.deepEqual(pattern.result, { status: 422, body: OVER_BUDGET('contract check') });
    assert.deepEqual(pattern.failed, []);
    assert.ok(pattern.answeredWhileRunning > 0, '/health never answered during the check');

    // Small payloads are still checked, inline or not, with their real verdict.
    assert.deepEqual(await call('POST', '/api/contracts/shop/unique/validate', { endpoint: 'POST /items', payload: [1, 2, 2] }), {
      status: 200,
      body: { valid: false, violations: [{ path: '$', message: 'must NOT have duplicate items (items ## 1 and 2 are identical)' }] },
    });
    assert.deepEqual(await call('POST', '/api/contracts/shop/unique/validate', { endpoint: 'POST /items', payload: objects.slice(0, 20) }), {
      status: 200,
      body: { valid: true, violations: [] },
    });
    assert.deepEqual((await call('POST', '/api/contracts/shop/pattern/validate', { endpoint: 'POST /items', payload: 'abc' })).body, {
      valid: false,
      violations: [{ path: '$', message: `must match pattern "${COSTLY_PATTERN}"` }],
    });
  });

  test(`a live answer too costly to check is a 422 naming the budget, and the server goes on (${engine})`, { timeout: 120_000 }, async (t) => {
    const { url, close } = await startListeningApp({ workBudgetMs: BUDGET_MS }, engine);
    t.after(close);
    const answer = JSON.stringify(Array.from({ length: 20_000 }, (_, i) => ({ id: i, name: `item ${i}` })));
    const service = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(answer));
    await new Promise<void>((resolve) => service.listen(0, '127.0.0.1', resolve));
    t.after(() => new Promise<void>((resolve) => service.close(() => resolve())));
    const serviceUrl = `http://127.0.0.1:${(service.address() as AddressInfo).port}`;

    const doc = { kind: 'contract', endpoints: { 'GET /items': { schema: { response: { type: 'array', uniqueItems: true } } } } };
    const put = await fetch(`${url}/api/specs/shop/live`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(doc) });
    assert.equal(put.status, 200);
    const live = fetch(`${url}/api/contracts/shop/live/test`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ endpoint: 'GET /items', base_url: serviceUrl }) })
      .then(async (res) => ({ status: res.status, body: (await res.json()) as Record<string, unknown> }));
    const probes = await probeHealthDuring(url, live);
    t.diagnostic(`live answer: /health answered ${probes.answeredWhileRunning} probes, the slowest in ${probes.slowestMs} ms`);
    assert.deepEqual(probes.result, { status: 422, body: OVER_BUDGET('contract check') });
    assert.deepEqual(probes.failed, []);
    assert.ok(probes.answeredWhileRunning > 0, '/health never answered during the check');
  });
}

test('a contract whose JSON Schema is big is checked when stored (in the worker pool), naming the problem', async (t) => {
  const { url, close } = await startListeningApp({ workBudgetMs: 5000 });
  t.after(close);
  // Over the inline size: many properties, one of them with a type that does not exist.
  const properties = Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`field_${i}`, { type: 'string', description: `field number ${i}` }]));
  const put = (schema: unknown) => fetch(`${url}/api/specs/shop/big`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(contract(schema)) })
    .then(async (res) => ({ status: res.status, body: (await res.json()) as Record<string, unknown> }));
  assert.equal((await put({ type: 'object', properties })).status, 200);
  const bad = await put({ type: 'object', properties: { ...properties, field_7: { type: 'text' } } });
  assert.equal(bad.status, 400);
  assert.match(String(bad.body.error), /^invalid contract: endpoints\["POST \/items"\]\.schema\.request: invalid JSON Schema: .*type/);
});

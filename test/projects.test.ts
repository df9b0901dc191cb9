import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, testEngines } from './support/app.js';

for (const engine of testEngines()) {
  test(`GET /api/projects lists every project with specs or rules, with counts, on ${engine}`, async (t) => {
    const { app, close } = await startTestApp({}, engine);
    t.after(close);
    assert.deepEqual((await app.inject({ method: 'GET', url: '/api/projects' })).json(), []);

    const put = (url: string, payload: unknown, method: 'PUT' | 'POST' = 'PUT') =>
      app.inject({ method, url, payload: payload as object, headers: { 'content-type': 'application/json' } });
    assert.equal((await put('/api/specs/shop/overview', { goal: 'orders' })).statusCode, 200);
    assert.equal((await put('/api/specs/shop/api', { openapi: '3.1.0' })).statusCode, 200);
    assert.equal((await put('/api/specs/blog/readme', { title: 'Blog' })).statusCode, 200);
    assert.equal((await put('/api/validate/_global/rules', [{ rule_id: 'no-todo', pattern: 'TODO', message: 'no TODO' }])).statusCode, 200);
    assert.equal((await put('/api/rules/propose', { project: 'truck-wash', rule_id: 'no-sleep', pattern: 'sleep\\(', message: 'no sleeps' }, 'POST')).statusCode, 200);
    await app.inject({ method: 'DELETE', url: '/api/specs/blog/readme' });

    const projects = (await app.inject({ method: 'GET', url: '/api/projects' })).json();
    assert.deepEqual(projects, [
      { name: '_global', specs: 0, rules: { accepted: 1, proposed: 0, rejected: 0 } },
      { name: 'shop', specs: 2, rules: { accepted: 0, proposed: 0, rejected: 0 } },
      { name: 'truck-wash', specs: 0, rules: { accepted: 0, proposed: 1, rejected: 0 } },
    ], 'a project whose only spec was deleted is gone; one with only a proposed rule is listed');
  });
}

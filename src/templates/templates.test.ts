import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, testEngines } from '../../test/support/app.js';

const CONTRACT = { kind: 'contract', endpoints: { 'GET /ping': { response: { pong: { type: 'boolean', required: true } } } } };
const RULES = [
  { rule_id: 'no-print', pattern: String.raw`\bprint\(`, message: 'use logging', applies_to: ['*.py'] },
  { rule_id: 'no-todo', pattern: 'TODO', severity: 'warning' },
];

for (const engine of testEngines()) {
  test(`templates: create, list, get, apply and delete (${engine})`, async (t) => {
    const { app, close } = await startTestApp({}, engine);
    t.after(close);
    const create = (body: Record<string, unknown>) => app.inject({ method: 'POST', url: '/api/templates', payload: body });

    const rules = await create({ id: 'py-basics', name: 'Python basics', description: 'starter rules', kind: 'rules', data: RULES, tags: ['python', 'starter'] });
    assert.equal(rules.statusCode, 200, rules.body);
    assert.equal(rules.json().id, 'py-basics');
    assert.deepEqual(rules.json().tags, ['python', 'starter']);
    assert.equal((await create({ id: 'ping-api', name: 'Ping API', kind: 'contracts', data: { ping: CONTRACT } })).statusCode, 200);
    assert.equal((await create({ id: 'service', name: 'Service bundle', kind: 'bundle', data: { rules: RULES.slice(0, 1), contracts: { 'ping-api': CONTRACT } }, tags: ['starter'] })).statusCode, 200);

    // Bad templates are refused with the reason.
    const duplicate = await create({ id: 'py-basics', name: 'again', kind: 'rules', data: RULES });
    assert.equal(duplicate.statusCode, 409);
    const badRule = await create({ id: 'bad', name: 'bad', kind: 'rules', data: [{ rule_id: 'r1', pattern: '(' }] });
    assert.equal(badRule.statusCode, 400);
    assert.match(badRule.json().error, /rule "r1": invalid pattern/);
    const badContract = await create({ id: 'bad', name: 'bad', kind: 'contracts', data: { c: { kind: 'contract' } } });
    assert.equal(badContract.statusCode, 400);
    assert.match(badContract.json().error, /contract "c"/);
    assert.equal((await create({ id: 'bad', name: 'bad', kind: 'rules', data: { not: 'an array' } })).statusCode, 400);
    assert.equal((await create({ id: 'bad', name: 'bad', kind: 'bundle', data: {} })).statusCode, 400);
    assert.equal((await create({ id: 'bad', name: 'bad', kind: 'widgets', data: [] })).statusCode, 400);
    assert.equal((await create({ id: 'bad id!', name: 'bad', kind: 'rules', data: RULES })).statusCode, 400);

    const all = (await app.inject({ method: 'GET', url: '/api/templates' })).json();
    assert.deepEqual(all.map((x: { id: string }) => x.id), ['ping-api', 'py-basics', 'service']);
    assert.equal(all[0].data, undefined, 'lists carry no data');
    assert.deepEqual((await app.inject({ method: 'GET', url: '/api/templates?kind=rules' })).json().map((x: { id: string }) => x.id), ['py-basics']);
    assert.deepEqual((await app.inject({ method: 'GET', url: '/api/templates?tag=starter' })).json().map((x: { id: string }) => x.id), ['py-basics', 'service']);
    const one = (await app.inject({ method: 'GET', url: '/api/templates/py-basics' })).json();
    assert.deepEqual(one.data, RULES);
    assert.equal(one.description, 'starter rules');
    assert.equal((await app.inject({ method: 'GET', url: '/api/templates/nope' })).statusCode, 404);

    const applyRules = await app.inject({ method: 'POST', url: '/api/templates/py-basics/apply', payload: { project: 'etl' } });
    assert.equal(applyRules.statusCode, 200, applyRules.body);
    assert.deepEqual(applyRules.json(), { applied: 'py-basics', project: 'etl', kind: 'rules', rules: 2, contracts: 0 });
    const check = await app.inject({ method: 'POST', url: '/api/validate/etl', payload: { filename: 'job.py', content: 'print("x")  # TODO' } });
    assert.deepEqual(check.json().violations.map((v: { rule_id: string }) => v.rule_id), ['no-print', 'no-todo']);
    const applied = (await app.inject({ method: 'GET', url: '/api/validate/etl/rules' })).json().rules;
    assert.ok(applied.every((r: { project: string; status: string }) => r.project === 'etl' && r.status === 'accepted'));

    const applyContracts = await app.inject({ method: 'POST', url: '/api/templates/ping-api/apply', payload: { project: 'web' } });
    assert.deepEqual(applyContracts.json(), { applied: 'ping-api', project: 'web', kind: 'contracts', rules: 0, contracts: 1 });
    const spec = await app.inject({ method: 'GET', url: '/api/specs/web/ping' });
    assert.equal(spec.statusCode, 200);
    assert.deepEqual(JSON.parse(spec.body), CONTRACT);
    const validated = await app.inject({ method: 'POST', url: '/api/contracts/web/ping/validate', payload: { endpoint: 'GET /ping', direction: 'response', payload: { pong: true } } });
    assert.deepEqual(validated.json(), { valid: true, violations: [] });

    const bundle = await app.inject({ method: 'POST', url: '/api/templates/service/apply', payload: { project: 'svc' } });
    assert.deepEqual(bundle.json(), { applied: 'service', project: 'svc', kind: 'bundle', rules: 1, contracts: 1 });
    assert.equal((await app.inject({ method: 'GET', url: '/api/specs/svc/ping-api' })).statusCode, 200);
    assert.equal((await app.inject({ method: 'GET', url: '/api/validate/svc/rules' })).json().rules.length, 1);

    assert.equal((await app.inject({ method: 'POST', url: '/api/templates/nope/apply', payload: { project: 'x' } })).statusCode, 404);
    assert.equal((await app.inject({ method: 'POST', url: '/api/templates/service/apply', payload: {} })).statusCode, 400);

    assert.deepEqual((await app.inject({ method: 'DELETE', url: '/api/templates/service' })).json(), { deleted: 'service' });
    assert.equal((await app.inject({ method: 'DELETE', url: '/api/templates/service' })).statusCode, 404);

    const audit = await app.koor.db.query.selectFrom('audit_log').select('action').where('outcome', '=', 'success').execute();
    const actions = new Set(audit.map((a) => a.action));
    for (const action of ['template.create', 'template.apply', 'template.delete']) assert.ok(actions.has(action), action);
  });
}

test('a rules template holds at most 10 000 rules, like any one write of rules', async (t) => {
  const { app, close } = await startTestApp();
  t.after(close);
  const rules = (count: number) => Array.from({ length: count }, (_, i) => ({ rule_id: `r${i}`, pattern: `never${i}` }));
  const create = (id: string, kind: string, data: unknown) => app.inject({ method: 'POST', url: '/api/templates', payload: { id, name: id, kind, data } });

  const tooMany = await create('huge', 'rules', rules(10_001));
  assert.equal(tooMany.statusCode, 400);
  assert.deepEqual(tooMany.json(), { error: 'data holds 10001 rules; a template may hold 10000', code: 400, reason: 'bad_request' });
  const tooManyInBundle = await create('huge-bundle', 'bundle', { rules: rules(10_001) });
  assert.deepEqual(tooManyInBundle.json(), { error: 'data.rules holds 10001 rules; a template may hold 10000', code: 400, reason: 'bad_request' });
  assert.equal((await app.inject({ method: 'GET', url: '/api/templates/huge' })).statusCode, 404);

  assert.equal((await create('large', 'rules', rules(10_000))).statusCode, 200);
  const applied = await app.inject({ method: 'POST', url: '/api/templates/large/apply', payload: { project: 'p' } });
  assert.equal(applied.json().rules, 10_000);
});

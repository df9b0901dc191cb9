import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { startTestApp, testEngines } from '../../test/support/app.js';

async function putRules(app: FastifyInstance, project: string, rules: unknown[]) {
  const res = await app.inject({ method: 'PUT', url: `/api/validate/${project}/rules`, payload: rules });
  assert.equal(res.statusCode, 200, res.body);
  return res.json();
}

async function validate(app: FastifyInstance, project: string, body: Record<string, unknown>, headers: Record<string, string> = {}) {
  const res = await app.inject({ method: 'POST', url: `/api/validate/${project}`, payload: body, headers });
  assert.equal(res.statusCode, 200, res.body);
  return res.json() as { project: string; violations: { rule_id: string; severity: string; message: string; line?: number; match?: string }[]; count: number };
}

const ids = (result: { violations: { rule_id: string }[] }) => result.violations.map((v) => v.rule_id);

for (const engine of testEngines()) {
  test(`regex, missing and custom rules report what they find (${engine})`, async (t) => {
    const { app, close } = await startTestApp({}, engine);
    t.after(close);
    assert.deepEqual(
      await putRules(app, 'shop', [
        { rule_id: 'no-var', pattern: String.raw`\bvar\s+\w+`, message: 'use let or const', severity: 'warning' },
        { rule_id: 'needs-license', match_type: 'missing', pattern: '(?i)^// license: ', message: 'add a license header' },
        { rule_id: 'no-log', match_type: 'custom', pattern: 'no-console-log', message: 'no console.log' },
        { rule_id: 'unknown-custom', match_type: 'custom', pattern: 'FIXME', message: 'falls back to regex' },
      ]),
      { project: 'shop', count: 4 },
    );

    const content = ['var a = 1;', 'let b = 2; var c = 3', '// console.log("commented")', 'console.log(a) // FIXME', ''].join('\n');
    const result = await validate(app, 'shop', { content });
    assert.equal(result.project, 'shop');
    assert.equal(result.count, result.violations.length);
    // Rules report in rule_id order, each rule's lines ascending.
    assert.deepEqual(result.violations, [
      { rule_id: 'needs-license', severity: 'error', message: 'add a license header' },
      { rule_id: 'no-log', severity: 'error', message: 'no console.log', line: 4, match: 'console.log(' },
      { rule_id: 'no-var', severity: 'warning', message: 'use let or const', line: 1, match: 'var a' },
      { rule_id: 'no-var', severity: 'warning', message: 'use let or const', line: 2, match: 'var c' },
      { rule_id: 'unknown-custom', severity: 'error', message: 'falls back to regex', line: 4, match: 'FIXME' },
    ]);

    // The license header is there (case-insensitive thanks to RE2's (?i)): no missing violation.
    const clean = await validate(app, 'shop', { content: '// LICENSE: MIT\r\nconst x = 1\r\n' });
    assert.deepEqual(clean, { project: 'shop', violations: [], count: 0 });
  });

  test(`applies_to globs, stacks and _global decide which rules run (${engine})`, async (t) => {
    const { app, close } = await startTestApp({}, engine);
    t.after(close);
    await putRules(app, '_global', [{ rule_id: 'no-secret', pattern: 'SECRET', message: 'global rule' }]);
    await putRules(app, 'web', [
      { rule_id: 'ts-only', pattern: 'any', applies_to: ['*.ts'] },
      { rule_id: 'src-only', pattern: 'any', applies_to: ['src/**/*.js'] },
      { rule_id: 'go-stack', pattern: 'any', stack: 'go' },
      { rule_id: 'node-stack', pattern: 'any', stack: 'node' },
    ]);
    const content = 'any SECRET';

    assert.deepEqual(ids(await validate(app, 'web', { content })).sort(), ['go-stack', 'no-secret', 'node-stack', 'src-only', 'ts-only']);
    assert.deepEqual(ids(await validate(app, 'web', { content, filename: 'deep/dir/x.ts' })).sort(), ['go-stack', 'no-secret', 'node-stack', 'ts-only']);
    assert.deepEqual(ids(await validate(app, 'web', { content, filename: 'src/a/b.js' })).sort(), ['go-stack', 'no-secret', 'node-stack', 'src-only']);
    assert.deepEqual(ids(await validate(app, 'web', { content, filename: 'lib/b.js' })).sort(), ['go-stack', 'no-secret', 'node-stack']);
    assert.deepEqual(ids(await validate(app, 'web', { content, stack: 'go' })).sort(), ['go-stack', 'no-secret', 'src-only', 'ts-only']);
    assert.deepEqual(ids(await validate(app, 'web', { content, stack: 'go', filename: 'x.ts' })).sort(), ['go-stack', 'no-secret', 'ts-only']);
    // Another project only sees _global.
    assert.deepEqual(ids(await validate(app, 'other', { content })), ['no-secret']);

    const listed = await app.inject({ method: 'GET', url: '/api/validate/web/rules?stack=node' });
    assert.equal(listed.statusCode, 200);
    assert.deepEqual(listed.json().rules.map((r: { rule_id: string }) => r.rule_id).sort(), ['no-secret', 'node-stack', 'src-only', 'ts-only']);
    const rule = listed.json().rules.find((r: { rule_id: string }) => r.rule_id === 'ts-only');
    assert.deepEqual(rule.applies_to, ['*.ts']);
    assert.equal(rule.source, 'local');
    assert.equal(rule.status, 'accepted');
    assert.match(rule.created_at, /^\d{4}-\d\d-\d\dT/);
  });

  test(`PUT replaces only local rules and rejects bad patterns by name (${engine})`, async (t) => {
    const { app, close } = await startTestApp({}, engine);
    t.after(close);
    await putRules(app, 'p', [{ rule_id: 'a', pattern: 'a' }, { rule_id: 'b', pattern: 'b' }]);
    const imported = await app.inject({ method: 'POST', url: '/api/rules/import', payload: [{ project: 'p', rule_id: 'ext', pattern: 'x' }] });
    assert.deepEqual(imported.json(), { imported: 1 });
    await putRules(app, 'p', [{ rule_id: 'c', pattern: 'c' }]);
    const listed = await app.inject({ method: 'GET', url: '/api/validate/p/rules' });
    assert.deepEqual(listed.json().rules.map((r: { rule_id: string }) => r.rule_id), ['c', 'ext']);

    const bad = await app.inject({ method: 'PUT', url: '/api/validate/p/rules', payload: [{ rule_id: 'ok', pattern: 'x' }, { rule_id: 'broken', pattern: 'a(b' }] });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.json().error, /rule "broken": invalid pattern: missing \)/);
    // Perl lookbehind is not RE2: refused, not silently accepted.
    const lookbehind = await app.inject({ method: 'PUT', url: '/api/validate/p/rules', payload: [{ rule_id: 'lb', pattern: '(?<=a)b' }] });
    assert.equal(lookbehind.statusCode, 400);
    assert.match(lookbehind.json().error, /rule "lb"/);
    const badSeverity = await app.inject({ method: 'PUT', url: '/api/validate/p/rules', payload: [{ rule_id: 's', pattern: 'x', severity: 'fatal' }] });
    assert.equal(badSeverity.statusCode, 400);
    assert.match(badSeverity.json().error, /severity/);
    const twice = await app.inject({ method: 'PUT', url: '/api/validate/p/rules', payload: [{ rule_id: 'x', pattern: 'x' }, { rule_id: 'x', pattern: 'y' }] });
    assert.equal(twice.statusCode, 400);
    // Nothing changed by the failed writes.
    assert.deepEqual((await app.inject({ method: 'GET', url: '/api/validate/p/rules' })).json().rules.map((r: { rule_id: string }) => r.rule_id), ['c', 'ext']);

    const noContent = await app.inject({ method: 'POST', url: '/api/validate/p', payload: { filename: 'a.ts' } });
    assert.equal(noContent.statusCode, 400);
    assert.match(noContent.json().error, /content/);
  });

  test(`rule lifecycle: propose, accept, reject, export, import (${engine})`, async (t) => {
    const { app, close } = await startTestApp({}, engine);
    t.after(close);
    const proposed = await app.inject({
      method: 'POST',
      url: '/api/rules/propose',
      payload: { project: 'api', rule_id: 'no-sleep', pattern: String.raw`time\.sleep\(`, message: 'avoid sleeps', proposed_by: 'agent-7', context: 'flaky tests' },
    });
    assert.equal(proposed.statusCode, 200, proposed.body);
    assert.deepEqual(proposed.json(), { project: 'api', rule_id: 'no-sleep', status: 'proposed' });
    const events = await app.inject({ method: 'GET', url: '/api/events/history?topic=rule.proposed' });
    assert.equal(events.json()[0].data.rule_id, 'no-sleep');
    assert.equal(events.json()[0].data.project, 'api');

    // Proposed rules do not fire.
    assert.equal((await validate(app, 'api', { content: 'time.sleep(1)' })).count, 0);
    const pending = await app.inject({ method: 'GET', url: '/api/validate/api/rules?status=proposed' });
    assert.equal(pending.json().rules[0].source, 'learned');
    assert.equal(pending.json().rules[0].proposed_by, 'agent-7');
    assert.equal(pending.json().rules[0].context, 'flaky tests');

    const accepted = await app.inject({ method: 'POST', url: '/api/rules/api/no-sleep/accept' });
    assert.deepEqual(accepted.json(), { project: 'api', rule_id: 'no-sleep', status: 'accepted' });
    assert.equal((await validate(app, 'api', { content: 'x\ntime.sleep(1)' })).violations[0]!.line, 2);
    assert.equal((await app.inject({ method: 'POST', url: '/api/rules/api/no-sleep/accept' })).statusCode, 404);
    assert.equal((await app.inject({ method: 'POST', url: '/api/rules/api/no-sleep/reject' })).statusCode, 404);
    assert.equal((await app.inject({ method: 'POST', url: '/api/rules/api/nope/accept' })).statusCode, 404);
    const again = await app.inject({ method: 'POST', url: '/api/rules/propose', payload: { project: 'api', rule_id: 'no-sleep', pattern: 'x', message: 'm' } });
    assert.equal(again.statusCode, 409);

    await app.inject({ method: 'POST', url: '/api/rules/propose', payload: { project: 'api', rule_id: 'meh', pattern: 'meh', message: 'm' } });
    const rejected = await app.inject({ method: 'POST', url: '/api/rules/api/meh/reject' });
    assert.deepEqual(rejected.json(), { project: 'api', rule_id: 'meh', status: 'rejected' });
    assert.equal((await validate(app, 'api', { content: 'meh' })).count, 0);

    const badPropose = await app.inject({ method: 'POST', url: '/api/rules/propose', payload: { project: 'api', rule_id: 'bad', pattern: '[', message: 'm' } });
    assert.equal(badPropose.statusCode, 400);
    assert.match(badPropose.json().error, /rule "bad"/);

    await putRules(app, 'api', [{ rule_id: 'local-one', pattern: 'L' }]);
    await app.inject({ method: 'POST', url: '/api/rules/import', payload: [{ project: '_global', rule_id: 'ext-one', pattern: 'E' }] });
    const exported = await app.inject({ method: 'GET', url: '/api/rules/export' });
    assert.deepEqual(exported.json().map((r: { rule_id: string }) => r.rule_id).sort(), ['local-one', 'no-sleep']);
    const external = await app.inject({ method: 'GET', url: '/api/rules/export?source=external' });
    assert.deepEqual(external.json().map((r: { rule_id: string; source: string }) => [r.rule_id, r.source]), [['ext-one', 'external']]);
    assert.equal((await app.inject({ method: 'GET', url: '/api/rules/export?source=bogus' })).statusCode, 400);
    // A blank source is the default, not an empty list (which PostgreSQL refused with a 500).
    for (const blank of ['', '%20', ',%20,']) {
      const defaulted = await app.inject({ method: 'GET', url: `/api/rules/export?source=${blank}` });
      assert.deepEqual(defaulted.json(), exported.json(), `source=${blank}`);
    }

    // Export → import round trip into another server keeps rules working.
    const other = await startTestApp({}, engine);
    t.after(other.close);
    const roundTrip = await other.app.inject({ method: 'POST', url: '/api/rules/import', payload: exported.json() });
    assert.deepEqual(roundTrip.json(), { imported: 2 });
    assert.deepEqual(ids(await validate(other.app, 'api', { content: 'L time.sleep(' })).sort(), ['local-one', 'no-sleep']);
    // Import upserts: same ids again replace, not duplicate.
    assert.deepEqual((await other.app.inject({ method: 'POST', url: '/api/rules/import', payload: exported.json() })).json(), { imported: 2 });
    assert.equal((await other.app.inject({ method: 'GET', url: '/api/validate/api/rules' })).json().rules.length, 2);

    const empty = await app.inject({ method: 'POST', url: '/api/rules/import', payload: [] });
    assert.equal(empty.statusCode, 400);
    const noProject = await app.inject({ method: 'POST', url: '/api/rules/import', payload: [{ rule_id: 'x', pattern: 'x' }] });
    assert.equal(noProject.statusCode, 400);
    assert.match(noProject.json().error, /project/);

    const audit = await app.koor.db.query.selectFrom('audit_log').select('action').where('outcome', '=', 'success').execute();
    const actions = new Set(audit.map((a) => a.action));
    for (const action of ['rules.put', 'rule.propose', 'rule.accept', 'rule.reject', 'rules.import']) assert.ok(actions.has(action), action);
  });

  test(`violations found for an instance count in its metrics (${engine})`, async (t) => {
    const { app, close } = await startTestApp({}, engine);
    t.after(close);
    const registered = await app.inject({ method: 'POST', url: '/api/instances/register', payload: { name: 'agent', workspace: 'p' } });
    assert.equal(registered.statusCode, 200, registered.body);
    const { id, token } = registered.json();
    await putRules(app, 'p', [{ rule_id: 'x', pattern: 'x' }]);
    const result = await validate(app, 'p', { content: 'x\nx\ny' }, { 'x-koor-instance-token': token });
    assert.equal(result.count, 2);
    const counted = [...(app.koor.counters.pending.get(id)?.values() ?? [])].reduce((sum, metrics) => sum + (metrics.get('violations') ?? 0), 0);
    assert.equal(counted, 2);
  });
}

// Storing rules is one transaction on the event loop: 60 000 in one request held the server
// for seconds. A request may carry 10 000.
test('one request replaces or imports at most 10 000 rules, and a refused one stores nothing', async (t) => {
  const { app, close } = await startTestApp();
  t.after(close);
  const rules = (count: number) => Array.from({ length: count }, (_, i) => ({ project: 'big', rule_id: `r${i}`, pattern: `never${i}` }));
  const expected = { error: 'invalid request: body must NOT have more than 10000 items', code: 400, reason: 'invalid_request' };

  const tooManyLocal = await app.inject({ method: 'PUT', url: '/api/validate/big/rules', payload: rules(10_001) });
  assert.equal(tooManyLocal.statusCode, 400);
  assert.deepEqual(tooManyLocal.json(), expected);
  const tooManyImported = await app.inject({ method: 'POST', url: '/api/rules/import', payload: rules(10_001) });
  assert.deepEqual(tooManyImported.json(), expected);
  const stored = await app.inject({ method: 'GET', url: '/api/validate/big/rules?status=all' });
  assert.deepEqual(stored.json().rules.filter((r: { project: string }) => r.project === 'big'), []);

  assert.deepEqual(await putRules(app, 'big', rules(10_000)), { project: 'big', count: 10_000 });
});

// Go Koor compatibility: each request form documented for Go Koor (its docs/api-reference.md,
// with its server code deciding where the two disagree) gets the answer shape Go Koor gives.
// The expected shapes below are written from those facts (field names, types, status codes),
// with example values of our own. A Koor answer may carry more fields than Go's; it may not
// lack one, nor give one another type.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { FastifyInstance } from 'fastify';
import WebSocket from 'ws';
import { startListeningApp, startTestApp, testEngines } from './support/app.js';

const TIME = '2026-02-16T14:30:00Z';
/** In a shape: any JSON value (an event's `data`). */
const ANY = Symbol('any JSON value');

/** What JSON type a value has, as a shape check sees it. */
function kind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

/**
 * Asserts `actual` has Go's shape: every field of `expected` is present with the same JSON type
 * (recursively; arrays by their first elements when both have one).
 */
function assertShape(actual: unknown, expected: unknown, at = '$'): void {
  if (expected === ANY) return assert.notEqual(actual, undefined, `${at} is missing`);
  assert.equal(kind(actual), kind(expected), `${at}: ${JSON.stringify(actual)?.slice(0, 200)} should be of type ${kind(expected)}`);
  if (Array.isArray(expected) && Array.isArray(actual)) {
    if (expected.length > 0 && actual.length > 0) assertShape(actual[0], expected[0], `${at}[0]`);
  } else if (expected && typeof expected === 'object') {
    for (const [field, value] of Object.entries(expected)) {
      assert.ok(Object.hasOwn(actual as object, field), `${at}.${field} is missing from ${JSON.stringify(actual)?.slice(0, 300)}`);
      assertShape((actual as Record<string, unknown>)[field], value, `${at}.${field}`);
    }
  }
}

const ERROR = { error: 'what went wrong', code: 404 };

interface Answer {
  status: number;
  headers: Record<string, string | string[] | number | undefined>;
  body: string;
  json(): any;
}

function client(app: FastifyInstance) {
  return async (method: string, url: string, payload?: unknown, headers: Record<string, string> = {}): Promise<Answer> => {
    const raw = typeof payload === 'string';
    const response = await app.inject({
      method: method as 'GET',
      url,
      ...(payload !== undefined ? { payload: raw ? payload : JSON.stringify(payload) } : {}),
      // Go's clients send JSON bodies as application/json (and curl -d as form data, which Go ignores).
      headers: { ...(payload !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    });
    return { status: response.statusCode, headers: response.headers, body: response.body, json: () => response.json() };
  };
}

/** The status, and the JSON body's shape against Go's. */
function expectAnswer(answer: Answer, status: number, shape?: unknown, what = ''): any {
  assert.equal(answer.status, status, `${what} answered ${answer.status}: ${answer.body.slice(0, 300)}`);
  if (shape === undefined) return undefined;
  const body = answer.json();
  assertShape(body, shape, what || '$');
  return body;
}

for (const engine of testEngines()) {
  test(`Go Koor's state and specs requests get Go's answers on ${engine}`, async (t) => {
    const { app, close } = await startTestApp({}, engine);
    t.after(close);
    const call = client(app);

    const put = expectAnswer(await call('PUT', '/api/state/api-contract', '{"version":"1.0"}'), 200,
      { key: 'k', version: 1, hash: 'h', content_type: 'application/json', updated_at: TIME }, 'PUT state');
    assert.equal(put.version, 1);
    await call('PUT', '/api/state/api-contract', '{"version":"2.0","extra":true}');
    await call('PUT', '/api/state/api-contract', '{"version":"3.0"}');
    // Keys may hold slashes (project scoping).
    expectAnswer(await call('PUT', '/api/state/Truck-Wash/backend-task', '{"task":"build"}'), 200, { key: 'k' });

    expectAnswer(await call('GET', '/api/state'), 200, [{ key: 'k', version: 3, content_type: 'application/json', updated_at: TIME }], 'GET /api/state');
    const value = await call('GET', '/api/state/api-contract');
    assert.equal(value.status, 200);
    assert.equal(value.body, '{"version":"3.0"}', 'the raw value');
    assert.match(String(value.headers['content-type']), /^application\/json/);
    assert.equal(value.headers['x-koor-version'], '3');
    assert.match(String(value.headers.etag), /^"[0-9a-f]+"$/);
    assert.equal((await call('GET', '/api/state/api-contract', undefined, { 'if-none-match': String(value.headers.etag) })).status, 304);
    assert.equal((await call('GET', '/api/state/Truck-Wash/backend-task')).body, '{"task":"build"}');

    const history = expectAnswer(await call('GET', '/api/state/api-contract?history=1&limit=10'), 200,
      { key: 'k', versions: [{ version: 3, hash: 'h', updated_at: TIME }] }, 'history');
    assert.deepEqual(history.versions.map((v: { version: number }) => v.version), [3, 2, 1]);
    const v2 = await call('GET', '/api/state/api-contract?version=2');
    assert.equal(v2.body, '{"version":"2.0","extra":true}');
    assert.equal(v2.headers['x-koor-version'], '2');
    const diff = expectAnswer(await call('GET', '/api/state/api-contract?diff=1,3'), 200,
      { key: 'k', v1: 1, v2: 3, diffs: [{ operation: 'replace', path: '/version', old_value: '1.0', new_value: '3.0' }] }, 'diff');
    assert.deepEqual(diff.diffs, [{ operation: 'replace', path: '/version', old_value: '1.0', new_value: '3.0' }]);

    const rolled = expectAnswer(await call('POST', '/api/state/api-contract?rollback=2'), 200,
      { key: 'k', version: 4, hash: 'h', rolled_back: 2, updated_at: TIME }, 'rollback');
    assert.deepEqual([rolled.version, rolled.rolled_back], [4, 2]);
    expectAnswer(await call('POST', '/api/state/api-contract?rollback=x'), 400, ERROR, 'bad rollback');
    expectAnswer(await call('POST', '/api/state/api-contract?rollback=99'), 404, ERROR, 'missing version');
    expectAnswer(await call('PUT', '/api/state/empty', ''), 400, ERROR, 'empty body');
    expectAnswer(await call('GET', '/api/state/missing'), 404, ERROR, 'missing key');
    assert.deepEqual(expectAnswer(await call('DELETE', '/api/state/api-contract'), 200, { deleted: 'k' }), { deleted: 'api-contract' });
    expectAnswer(await call('DELETE', '/api/state/api-contract'), 404, ERROR);

    const spec = expectAnswer(await call('PUT', '/api/specs/w2c-forms/button-schema', '{"states":["idle","hover"]}'), 200,
      { project: 'p', name: 'n', version: 1, hash: 'h', updated_at: TIME }, 'PUT spec');
    assert.deepEqual([spec.project, spec.name], ['w2c-forms', 'button-schema']);
    expectAnswer(await call('GET', '/api/specs/w2c-forms'), 200, { project: 'p', specs: [{ name: 'n', version: 1, updated_at: TIME }] });
    assert.deepEqual((await call('GET', '/api/specs/nobody')).json(), { project: 'nobody', specs: [] });
    const specValue = await call('GET', '/api/specs/w2c-forms/button-schema');
    assert.equal(specValue.body, '{"states":["idle","hover"]}');
    assert.equal(specValue.headers['x-koor-version'], '1');
    assert.equal((await call('GET', '/api/specs/w2c-forms/button-schema', undefined, { 'if-none-match': String(specValue.headers.etag) })).status, 304);
    expectAnswer(await call('PUT', '/api/specs/w2c-forms/empty', ''), 400, ERROR);
    assert.deepEqual((await call('DELETE', '/api/specs/w2c-forms/button-schema')).json(), { deleted: 'w2c-forms/button-schema' });
    expectAnswer(await call('GET', '/api/specs/w2c-forms/button-schema'), 404, ERROR);
  });

  test(`Go Koor's event, instance and liveness requests get Go's answers on ${engine}`, async (t) => {
    const { app, close } = await startTestApp({}, engine);
    t.after(close);
    const call = client(app);

    const event = expectAnswer(await call('POST', '/api/events/publish', { topic: 'api.change.contract', data: { version: '2.0', breaking: true } }), 200,
      { id: 42, topic: 't', data: ANY, source: '', created_at: TIME }, 'publish');
    assert.deepEqual(event.data, { version: '2.0', breaking: true });
    expectAnswer(await call('POST', '/api/events/publish', { data: 1 }), 400, ERROR, 'no topic');
    await call('POST', '/api/events/publish', { topic: 'build.completed', data: { tests_passed: 47 }, source: 'agent-1' });
    await call('POST', '/api/events/publish', { topic: 'api.deploy' });

    const topics = async (query: string) => {
      const answer = await call('GET', `/api/events/history${query}`);
      const events = expectAnswer(answer, 200, [{ id: 1, topic: 't', data: ANY, source: '', created_at: TIME }], query);
      return events.map((e: { topic: string }) => e.topic);
    };
    assert.deepEqual(await topics(''), ['api.deploy', 'build.completed', 'api.change.contract']);
    assert.deepEqual(await topics('?last=10'), ['api.deploy', 'build.completed', 'api.change.contract']);
    // Go's code matches `api.*` with path.Match, whose `*` crosses dots.
    assert.deepEqual(await topics('?last=100&topic=api.*'), ['api.deploy', 'api.change.contract']);
    assert.deepEqual(await topics('?source=agent-1&topic=*'), ['build.completed']);
    assert.deepEqual(await topics('?from=2026-02-16T14:00:00Z&to=2026-02-16T15:00:00Z'), []);
    assert.deepEqual(await topics('?topic=nothing.*'), []);

    const registered = expectAnswer(await call('POST', '/api/instances/register', { name: 'claude-frontend', workspace: '/projects/frontend', intent: 'implementing dark mode', stack: 'goth' }), 200,
      { id: 'i', name: 'n', workspace: 'w', intent: 'i', stack: 's', token: 't', registered_at: TIME, last_seen: TIME }, 'register');
    expectAnswer(await call('POST', '/api/instances/register', {}), 400, ERROR, 'register without a name');
    const instance = { id: 'i', name: 'n', workspace: 'w', intent: 'i', stack: 's', capabilities: ['c'], status: 'active', registered_at: TIME, last_seen: TIME };
    const listed = expectAnswer(await call('GET', '/api/instances'), 200, [instance], 'instances');
    assert.equal(listed[0].token, undefined, 'no token in lists');
    assert.equal(expectAnswer(await call('GET', '/api/instances?stack=goth'), 200, [instance]).length, 1);
    assert.equal(expectAnswer(await call('GET', '/api/instances?name=claude-frontend&workspace=/projects/frontend'), 200, [instance]).length, 1);
    assert.equal((await call('GET', '/api/instances?stack=react')).json().length, 0);
    const one = expectAnswer(await call('GET', `/api/instances/${registered.id}`), 200, instance, 'instance');
    assert.equal(one.token, undefined);
    expectAnswer(await call('GET', '/api/instances/no-such-id'), 404, ERROR);

    assert.deepEqual(expectAnswer(await call('POST', `/api/instances/${registered.id}/activate`), 200, { id: 'i', status: 'active' }), { id: registered.id, status: 'active' });
    assert.deepEqual(expectAnswer(await call('POST', `/api/instances/${registered.id}/heartbeat`), 200, { id: 'i', status: 'ok' }), { id: registered.id, status: 'ok' });
    expectAnswer(await call('POST', '/api/instances/no-such-id/heartbeat'), 404, ERROR);
    expectAnswer(await call('POST', '/api/instances/no-such-id/activate'), 404, ERROR);
    const caps = expectAnswer(await call('POST', `/api/instances/${registered.id}/capabilities`, { capabilities: ['code-review', 'testing', 'deployment'] }), 200,
      { id: 'i', capabilities: ['c'] }, 'capabilities');
    assert.deepEqual(caps.capabilities, ['code-review', 'testing', 'deployment']);
    assert.equal((await call('GET', '/api/instances?capability=testing')).json().length, 1);
    expectAnswer(await call('POST', '/api/instances/no-such-id/capabilities', { capabilities: [] }), 404, ERROR);

    expectAnswer(await call('GET', '/api/instances/stale'), 200, [{ id: 'i', name: 'n', workspace: 'w', status: 'stale', last_seen: TIME }]);
    expectAnswer(await call('POST', '/api/liveness/check'), 200, { checked: true, newly_stale: [{ id: 'i', name: 'n', status: 'stale' }], count: 0 }, 'liveness');

    assert.deepEqual((await call('DELETE', `/api/instances/${registered.id}`)).json(), { deleted: registered.id });
    expectAnswer(await call('DELETE', `/api/instances/${registered.id}`), 404, ERROR);
  });

  test(`Go Koor's validation, rules, contracts and compliance requests get Go's answers on ${engine}`, async (t) => {
    const { app, close } = await startTestApp({}, engine);
    t.after(close);
    const call = client(app);
    const rule = { project: 'p', rule_id: 'r', severity: 'error', match_type: 'regex', pattern: 'x', message: 'm', applies_to: ['*'], stack: 's' };

    const rules = [
      { rule_id: 'no-inline-style', severity: 'error', match_type: 'regex', pattern: 'style\\s*=', message: 'Inline styles are not allowed', applies_to: ['*.html', '*.templ'], stack: 'goth' },
      { rule_id: 'require-data-ai-id', severity: 'warning', match_type: 'missing', pattern: 'data-ai-id', message: 'Components should have data-ai-id attributes', applies_to: ['*.templ'] },
    ];
    assert.deepEqual(expectAnswer(await call('PUT', '/api/validate/w2c-forms/rules', rules), 200, { project: 'p', count: 2 }), { project: 'w2c-forms', count: 2 });
    expectAnswer(await call('GET', '/api/validate/w2c-forms/rules'), 200, { project: 'p', rules: [rule] });
    assert.equal(expectAnswer(await call('GET', '/api/validate/w2c-forms/rules?stack=goth'), 200, { project: 'p', rules: [rule] }).rules.length, 2);
    assert.deepEqual((await call('GET', '/api/validate/nothing/rules')).json(), { project: 'nothing', rules: [] });
    const checked = expectAnswer(await call('POST', '/api/validate/w2c-forms', {
      filename: 'button.templ', content: '<div style="color: red" class="c-button">\n  <span>Click me</span>\n</div>', stack: 'goth',
    }), 200, { project: 'p', violations: [{ rule_id: 'r', severity: 'error', message: 'm', line: 1, match: 'x' }], count: 2 }, 'validate');
    assert.deepEqual(checked.violations.map((v: { rule_id: string }) => v.rule_id).sort(), ['no-inline-style', 'require-data-ai-id']);
    assert.deepEqual((await call('POST', '/api/validate/w2c-forms', { filename: 'a.txt', content: 'fine' })).json(), { project: 'w2c-forms', violations: [], count: 0 });

    const proposal = {
      project: 'w2c-forms', rule_id: 'no-hardcoded-colors', severity: 'warning', match_type: 'regex', pattern: '#[0-9a-fA-F]{3,8}',
      message: 'Use CSS custom properties instead of hardcoded colors', applies_to: ['*.templ', '*.css'], stack: 'goth',
      proposed_by: 'an-instance-id', context: 'hardcoded hex colors broke the theme',
    };
    assert.deepEqual((await call('POST', '/api/rules/propose', proposal)).json(), { project: 'w2c-forms', rule_id: 'no-hardcoded-colors', status: 'proposed' });
    assert.deepEqual((await call('POST', '/api/rules/w2c-forms/no-hardcoded-colors/accept')).json(), { project: 'w2c-forms', rule_id: 'no-hardcoded-colors', status: 'accepted' });
    expectAnswer(await call('POST', '/api/rules/w2c-forms/no-hardcoded-colors/accept'), 404, ERROR, 'accept twice');
    await call('POST', '/api/rules/propose', { ...proposal, rule_id: 'second' });
    assert.deepEqual((await call('POST', '/api/rules/w2c-forms/second/reject')).json(), { project: 'w2c-forms', rule_id: 'second', status: 'rejected' });
    expectAnswer(await call('POST', '/api/rules/w2c-forms/nope/reject'), 404, ERROR);

    const exportedShape = [{ project: 'p', rule_id: 'r', severity: 'e', match_type: 'regex', pattern: 'x', message: 'm', stack: 's', source: 'local', status: 'accepted' }];
    assert.equal(expectAnswer(await call('GET', '/api/rules/export'), 200, exportedShape).length, 3);
    assert.equal(expectAnswer(await call('GET', '/api/rules/export?source=local,learned'), 200, exportedShape).length, 3);
    assert.deepEqual(expectAnswer(await call('POST', '/api/rules/import', [{
      project: 'w2c-forms', rule_id: 'ext-no-console-log', severity: 'error', match_type: 'regex', pattern: 'console\\.log\\(',
      message: 'Remove console.log statements', applies_to: ['*.js', '*.ts'], source: 'external',
    }]), 200, { imported: 1 }), { imported: 1 });
    assert.equal((await call('GET', '/api/rules/export?source=external')).json().length, 1);
    expectAnswer(await call('POST', '/api/rules/import', []), 400, ERROR, 'empty import');

    const contract = {
      kind: 'contract', version: '1.0',
      endpoints: { 'POST /api/trucks': { request: { plate: { type: 'string', required: true } }, response: { id: { type: 'string', required: true } } } },
    };
    await call('PUT', '/api/specs/Truck-Wash/api-contract', contract);
    expectAnswer(await call('POST', '/api/contracts/Truck-Wash/api-contract/validate', { endpoint: 'POST /api/trucks', direction: 'request', payload: { plate: 'AB' } }), 200,
      { valid: true, violations: [] });
    const invalid = expectAnswer(await call('POST', '/api/contracts/Truck-Wash/api-contract/validate', { endpoint: 'POST /api/trucks', direction: 'request', payload: {} }), 200,
      { valid: false, violations: [{ path: 'plate', message: 'm' }] }, 'contract validate');
    assert.equal(invalid.valid, false);

    expectAnswer(await call('GET', '/api/compliance/history'), 200, [{ id: 5, instance_id: 'i', project: 'p', contract: 'c', pass: false, violations: [], run_at: TIME }]);
    expectAnswer(await call('GET', '/api/compliance/history?instance_id=x&limit=5'), 200, []);
    expectAnswer(await call('POST', '/api/compliance/run'), 200,
      { checked: true, runs: [{ id: 5, instance_id: 'i', project: 'p', contract: 'c', pass: false, violations: [], run_at: TIME }], count: 0 }, 'compliance run');
  });

  test(`Go Koor's template, audit, metrics and LLM requests get Go's answers on ${engine}`, async (t) => {
    const { app, close } = await startTestApp({}, engine);
    t.after(close);
    const call = client(app);

    const summary = { id: 't', name: 'n', description: 'd', kind: 'rules', tags: ['a'], version: 1, created_at: TIME, updated_at: TIME };
    const created = expectAnswer(await call('POST', '/api/templates', {
      id: 'strict-api-rules', name: 'Strict API Rules', description: 'Standard API validation rules for all projects', kind: 'rules',
      data: [{ rule_id: 'no-console-log', pattern: 'console\\.log' }], tags: ['api', 'strict'],
    }), 200, summary, 'template create');
    assert.equal(created.version, 1);
    // Go's `kind` is optional (rules by default), and so are description, data and tags.
    const bare = expectAnswer(await call('POST', '/api/templates', { id: 'bare', name: 'Bare', data: [{ rule_id: 'no-todo', pattern: 'TODO' }] }), 200, summary, 'template without kind');
    assert.deepEqual([bare.kind, bare.description, bare.tags], ['rules', '', []]);
    // A Go `contracts` template holds one contract, stored under the template's id on apply.
    const contract = { kind: 'contract', version: '1', endpoints: { 'GET /api/health': { response: { ok: { type: 'boolean' } } } } };
    expectAnswer(await call('POST', '/api/templates', { id: 'health-contract', name: 'Health', kind: 'contracts', data: contract }), 200, summary, 'contracts template');
    expectAnswer(await call('POST', '/api/templates', { name: 'No id' }), 400, ERROR, 'template without id');

    const listed = expectAnswer(await call('GET', '/api/templates'), 200, [summary], 'templates');
    assert.equal(listed.length, 3);
    assert.equal(listed[0].data, undefined, 'lists carry no data');
    assert.deepEqual((await call('GET', '/api/templates?kind=rules&tag=strict')).json().map((x: { id: string }) => x.id), ['strict-api-rules']);
    const full = expectAnswer(await call('GET', '/api/templates/strict-api-rules'), 200, { ...summary, data: [] }, 'template');
    assert.deepEqual(full.data, [{ rule_id: 'no-console-log', pattern: 'console\\.log' }]);
    expectAnswer(await call('GET', '/api/templates/nope'), 404, ERROR);

    const applied = expectAnswer(await call('POST', '/api/templates/strict-api-rules/apply', { project: 'Truck-Wash' }), 200, { applied: 'a', project: 'p', kind: 'k' });
    assert.deepEqual([applied.applied, applied.project, applied.kind], ['strict-api-rules', 'Truck-Wash', 'rules']);
    assert.equal((await call('GET', '/api/validate/Truck-Wash/rules')).json().rules[0].rule_id, 'no-console-log');
    const appliedContract = expectAnswer(await call('POST', '/api/templates/health-contract/apply', { project: 'Truck-Wash' }), 200, { applied: 'a', project: 'p', kind: 'k' });
    assert.deepEqual([appliedContract.applied, appliedContract.kind], ['health-contract', 'contracts']);
    assert.deepEqual(JSON.parse((await call('GET', '/api/specs/Truck-Wash/health-contract')).body), contract);
    expectAnswer(await call('POST', '/api/templates/strict-api-rules/apply', {}), 400, ERROR, 'apply without project');
    assert.deepEqual((await call('DELETE', '/api/templates/bare')).json(), { deleted: 'bare' });
    expectAnswer(await call('DELETE', '/api/templates/bare'), 404, ERROR);

    const entry = { id: 42, timestamp: TIME, actor: 'a', action: 'state.put', resource: 'r', detail: '', outcome: 'success' };
    expectAnswer(await call('GET', '/api/audit'), 200, [entry], 'audit');
    assert.ok((await call('GET', '/api/audit?action=template.create&limit=10')).json().length >= 3);
    expectAnswer(await call('GET', '/api/audit?actor=agent-1&from=2026-02-16T00:00:00Z'), 200, []);
    const actions = (await call('GET', '/api/audit?limit=100')).json().map((e: { action: string }) => e.action);
    for (const action of ['template.create', 'template.apply', 'template.delete']) assert.ok(actions.includes(action), action);
    expectAnswer(await call('GET', '/api/audit/summary'), 200, { total_entries: 42, action_counts: {}, outcome_counts: {}, unique_actors: 3, unique_resources: 15 }, 'audit summary');

    const metrics = expectAnswer(await call('GET', '/api/metrics'), 200, {
      uptime: '3h24m10s', state_keys: 5, instances: 2, last_event_id: 42, api_bind: 'localhost:9800', dashboard_bind: 'localhost:9847',
      token_tax: { mcp_calls: 0, rest_calls: 0, total_calls: 0, mcp_estimated_tokens: 0, rest_tokens_saved: 0, savings_percent: 0 },
    }, 'metrics');
    assert.match(metrics.uptime, /^(\d+h)?(\d+m)?\d+s$/, "uptime is Go's duration text");
    assert.equal(typeof metrics.uptime_seconds, 'number');
    expectAnswer(await call('GET', '/api/metrics/agents'), 200, [{ instance_id: 'i', metrics: {} }]);
    expectAnswer(await call('GET', '/api/metrics/agents?instance_id=x&period=2026-02-16'), 200, [{ instance_id: 'i', metric_name: 'rest_calls', metric_value: 42, period: '2026-02-16T14' }]);
    expectAnswer(await call('GET', '/api/metrics/agents/x'), 200, []);

    const usage = {
      instance_id: 'agent-1', project: 'Truck-Wash', provider: 'anthropic', model: 'claude-sonnet-4-20250514',
      tokens_in: 1500, tokens_out: 800, cost_usd: 0.012, request_type: 'completion', session_tag: 'refactor-auth',
    };
    expectAnswer(await call('POST', '/api/llm/usage', usage), 200, { id: 42, recorded: true }, 'llm usage');
    expectAnswer(await call('POST', '/api/llm/usage', { provider: 'openai' }), 400, ERROR, 'no model');
    const record = { id: 42, ...usage, created_at: TIME };
    for (const query of ['', '?instance=agent-1&limit=20', '?project=Truck-Wash&from=2026-02-16T00:00:00Z', '?session_tag=refactor-auth']) {
      assert.equal(expectAnswer(await call('GET', `/api/llm/usage${query}`), 200, [record], query).length, 1, query);
    }
    const group = { total_tokens_in: 1, total_tokens_out: 1, total_cost_usd: 0.1, request_count: 1 };
    const byModel = expectAnswer(await call('GET', '/api/llm/usage/summary?group_by=model'), 200, { group_by: 'model', from: '', to: '', groups: {}, total: group }, 'llm summary');
    assertShape(byModel.groups['claude-sonnet-4-20250514'], group);
    expectAnswer(await call('GET', '/api/llm/usage/summary'), 200, { group_by: 'project', groups: {}, total: group });
    expectAnswer(await call('GET', '/api/llm/usage/summary?group_by=colour'), 400, ERROR);
  });

  test(`Go Koor's webhook requests get Go's answers, and a receiver written for Go verifies the deliveries, on ${engine}`, async (t) => {
    const { app, close } = await startListeningApp({}, engine);
    t.after(close);
    const call = client(app);

    // A receiver as Go Koor's webhooks are meant to be received: X-Koor-Event is "true", the
    // signature is the hex HMAC-SHA256 of the raw body with the shared secret, and the body
    // names the event by `event_id`.
    const received: { headers: IncomingHttpHeaders; body: string; verified: boolean }[] = [];
    const receiver = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => (body += chunk));
      request.on('end', () => {
        const expected = createHmac('sha256', 'my-hmac-secret').update(body).digest('hex');
        const given = String(request.headers['x-koor-signature'] ?? '');
        const verified = request.headers['x-koor-event'] === 'true' && given.length === expected.length && timingSafeEqual(Buffer.from(given), Buffer.from(expected));
        received.push({ headers: request.headers, body, verified });
        response.writeHead(verified ? 200 : 401).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    t.after(() => new Promise((resolve) => receiver.close(resolve)));
    const address = receiver.address();
    const hookUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/koor`;

    const hookShape = { id: 'w', url: 'u', patterns: ['p'], active: true, created_at: TIME, fail_count: 0 };
    const created = expectAnswer(await call('POST', '/api/webhooks', { id: 'slack-notify', url: hookUrl, patterns: ['agent.*', 'compliance.*'], secret: 'my-hmac-secret' }), 200, hookShape, 'webhook');
    assert.equal(created.secret, undefined);
    expectAnswer(await call('GET', '/api/webhooks'), 200, [{ ...hookShape }], 'webhooks');
    expectAnswer(await call('POST', '/api/webhooks', { url: hookUrl }), 400, ERROR, 'no id');
    const defaults = expectAnswer(await call('POST', '/api/webhooks', { id: 'all', url: 'http://127.0.0.1:9/x' }), 200, hookShape);
    assert.deepEqual(defaults.patterns, ['*']);

    // Go's `agent.*` matches agent.registered; `compliance.*` compliance.violation.
    const published = (await call('POST', '/api/events/publish', { topic: 'agent.registered', data: { id: 'x' } })).json();
    await call('POST', '/api/events/publish', { topic: 'other.thing' });
    while (received.length < 1) await new Promise((resolve) => setTimeout(resolve, 10));
    const [delivery] = received;
    assert.equal(delivery!.verified, true, 'the Go receiver verified the signature');
    const body = JSON.parse(delivery!.body);
    assertShape(body, { event_id: 1, topic: 't', data: ANY, source: '', created_at: TIME });
    assert.equal(body.event_id, published.id);
    assert.equal(body.topic, 'agent.registered');

    assert.deepEqual(expectAnswer(await call('POST', '/api/webhooks/slack-notify/test'), 200, { tested: 's', status: 'ok' }), { tested: 'slack-notify', status: 'ok' });
    assert.equal(received.at(-1)!.verified, true, 'the test delivery verifies too');
    assert.equal(JSON.parse(received.at(-1)!.body).topic, 'webhook.test');
    expectAnswer(await call('POST', '/api/webhooks/all/test'), 400, ERROR, 'failed test');
    expectAnswer(await call('POST', '/api/webhooks/nope/test'), 404, ERROR);
    assert.deepEqual((await call('DELETE', '/api/webhooks/slack-notify')).json(), { deleted: 'slack-notify' });
    expectAnswer(await call('DELETE', '/api/webhooks/slack-notify'), 404, ERROR);
  });
}

test("Go Koor's health, WebSocket and auth forms", async (t) => {
  const { app, url, close } = await startListeningApp({ authToken: 'my-secret-token' });
  t.after(close);
  const call = client(app);

  const health = expectAnswer(await call('GET', '/health'), 200, { status: 'ok', uptime: '3h24m10s' }, 'health');
  assert.match(health.uptime, /^(\d+h)?(\d+m)?\d+s$/);
  const refused = expectAnswer(await call('GET', '/api/state'), 401, ERROR);
  assert.deepEqual([refused.error, refused.code], ['invalid or missing bearer token', 401]);
  const bearer = { authorization: 'Bearer my-secret-token' };
  assert.equal((await call('GET', '/api/state', undefined, bearer)).status, 200);

  // ws://…/api/events/subscribe?pattern=api.* with the bearer header: one JSON text frame per event.
  const socket = new WebSocket(`${url.replace('http', 'ws')}/api/events/subscribe?pattern=api.*`, { headers: bearer });
  t.after(() => socket.close());
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  const frames: unknown[] = [];
  socket.on('message', (data) => frames.push(JSON.parse(String(data))));
  await call('POST', '/api/events/publish', { topic: 'build.done' }, bearer);
  await call('POST', '/api/events/publish', { topic: 'api.change.contract', data: { version: '2.0' } }, bearer);
  while (frames.length < 1) await new Promise((resolve) => setTimeout(resolve, 10));
  assertShape(frames[0], { id: 43, topic: 't', data: ANY, source: '', created_at: TIME });
  assert.equal((frames[0] as { topic: string }).topic, 'api.change.contract');
});

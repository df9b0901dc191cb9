import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { startTestApp } from './support/app.js';
import { routeAuditCatalog } from '../src/audit/hooks.js';

interface Call {
  method: 'POST' | 'PUT' | 'DELETE';
  url: string;
  /** The route template the call exercises. */
  route: string;
  action: string;
  payload?: unknown;
  contentType?: string;
  /** Made as the admin (no token in local mode): the route is the admin's alone (SPEC §15). */
  admin?: true;
}

// POST routes that only read (they check content against rules or a contract, or call the
// agent's own service to check it); they change nothing in Koor, so there is nothing to audit.
const READ_ONLY_POSTS = new Set([
  'POST /api/validate/:project',
  'POST /api/contracts/:project/:name/validate',
  'POST /api/contracts/:project/:name/test',
  'POST /api/leases/check',
]);

const contract = {
  kind: 'contract',
  version: '1',
  endpoints: { 'GET /api/ping': { response: { ok: { type: 'boolean', required: true } } } },
};

/** One concrete call per mutating route, in an order where each finds what it needs. */
function calls(self: string, exportBody: () => string, created: Map<string, string>): Call[] {
  return [
    { method: 'POST', url: `/api/instances/${self}/heartbeat`, route: '/api/instances/:id/heartbeat', action: 'instance.heartbeat' },
    { method: 'POST', url: `/api/instances/${self}/activate`, route: '/api/instances/:id/activate', action: 'instance.activate' },
    { method: 'POST', url: `/api/instances/${self}/capabilities`, route: '/api/instances/:id/capabilities', action: 'instance.capabilities', payload: { capabilities: ['go'] } },
    { method: 'POST', url: `/api/instances/${self}/intent`, route: '/api/instances/:id/intent', action: 'instance.intent', payload: { intent: 'reviewing' } },
    { method: 'PUT', url: '/api/state/app/cfg', route: '/api/state/*', action: 'state.put', payload: '{"v":1}', contentType: 'application/json' },
    { method: 'PUT', url: '/api/state/app/cfg', route: '/api/state/*', action: 'state.put', payload: '{"v":2}', contentType: 'application/json' },
    { method: 'POST', url: '/api/state/app/cfg?rollback=1', route: '/api/state/*', action: 'state.rollback' },
    { method: 'DELETE', url: '/api/state/app/cfg', route: '/api/state/*', action: 'state.delete' },
    { method: 'PUT', url: '/api/specs/shop/api', route: '/api/specs/:project/:name', action: 'spec.put', payload: JSON.stringify(contract), contentType: 'application/json' },
    { method: 'PUT', url: '/api/specs/shop/old', route: '/api/specs/:project/:name', action: 'spec.put', payload: '{"a":1}', contentType: 'application/json' },
    { method: 'DELETE', url: '/api/specs/shop/old', route: '/api/specs/:project/:name', action: 'spec.delete' },
    { method: 'POST', url: '/api/events/publish', route: '/api/events/publish', action: 'event.publish', payload: { topic: 'build.done', data: {} } },
    { method: 'POST', url: '/api/webhooks', route: '/api/webhooks', action: 'webhook.create', payload: { id: 'hook', url: 'http://127.0.0.1:9/x', patterns: ['never.*'] }, admin: true },
    { method: 'POST', url: '/api/webhooks/hook/test', route: '/api/webhooks/:id/test', action: 'webhook.test', admin: true },
    { method: 'DELETE', url: '/api/webhooks/hook', route: '/api/webhooks/:id', action: 'webhook.delete', admin: true },
    { method: 'PUT', url: '/api/validate/shop/rules', route: '/api/validate/:project/rules', action: 'rules.put', payload: [{ rule_id: 'no-todo', pattern: 'TODO', message: 'no TODOs' }], admin: true },
    { method: 'POST', url: '/api/rules/propose', route: '/api/rules/propose', action: 'rule.propose', payload: { project: 'shop', rule_id: 'r1', pattern: 'console\\.log', message: 'no logs' } },
    { method: 'POST', url: '/api/rules/shop/r1/accept', route: '/api/rules/:project/:rule_id/accept', action: 'rule.accept', admin: true },
    { method: 'POST', url: '/api/rules/propose', route: '/api/rules/propose', action: 'rule.propose', payload: { project: 'shop', rule_id: 'r2', pattern: 'eval\\(', message: 'no eval' } },
    { method: 'POST', url: '/api/rules/shop/r2/reject', route: '/api/rules/:project/:rule_id/reject', action: 'rule.reject', admin: true },
    { method: 'POST', url: '/api/rules/import?project=shop', route: '/api/rules/import', action: 'rules.import', payload: [{ rule_id: 'r3', pattern: 'debugger', message: 'no debugger' }], admin: true },
    { method: 'DELETE', url: '/api/rules/shop/r3', route: '/api/rules/:project/:rule_id', action: 'rule.delete', admin: true },
    { method: 'POST', url: '/api/templates', route: '/api/templates', action: 'template.create', payload: { id: 'tpl', name: 'Basics', kind: 'rules', data: [{ rule_id: 't1', pattern: 'FIXME', message: 'fix it' }] }, admin: true },
    { method: 'POST', url: '/api/templates/tpl/apply', route: '/api/templates/:id/apply', action: 'template.apply', payload: { project: 'blog' }, admin: true },
    { method: 'DELETE', url: '/api/templates/tpl', route: '/api/templates/:id', action: 'template.delete', admin: true },
    { method: 'POST', url: '/api/llm/usage', route: '/api/llm/usage', action: 'llm.usage', payload: { provider: 'p', model: 'm' } },
    { method: 'POST', url: '/api/metrics/reset', route: '/api/metrics/reset', action: 'metrics.reset', admin: true },
    { method: 'POST', url: '/api/liveness/check', route: '/api/liveness/check', action: 'liveness.check', admin: true },
    { method: 'POST', url: '/api/compliance/run', route: '/api/compliance/run', action: 'compliance.run', admin: true },
    { method: 'POST', url: '/api/leases', route: '/api/leases', action: 'lease.acquire', payload: { resources: ['src/api/**'] } },
    { method: 'POST', get url() { return `/api/leases/${created.get('/api/leases')}/renew`; }, route: '/api/leases/:id/renew', action: 'lease.renew', payload: { ttl: '1h' } },
    { method: 'DELETE', get url() { return `/api/leases/${created.get('/api/leases')}`; }, route: '/api/leases/:id', action: 'lease.release' },
    { method: 'POST', url: '/api/messages', route: '/api/messages', action: 'message.send', payload: { to: [self], body: 'note to self' } },
    { method: 'POST', get url() { return `/api/messages/${created.get('/api/messages')}/read`; }, route: '/api/messages/:id/read', action: 'message.read' },
    { method: 'POST', get url() { return `/api/messages/${created.get('/api/messages')}/ack`; }, route: '/api/messages/:id/ack', action: 'message.ack' },
    { method: 'POST', url: '/api/events/consumers/audit-feed/ack', route: '/api/events/consumers/:name/ack', action: 'consumer.ack', payload: { id: 0 } },
    { method: 'POST', url: '/api/import?merge=1', route: '/api/import', action: 'backup.import', get payload() { return exportBody(); }, contentType: 'application/x-ndjson', admin: true },
    { method: 'DELETE', url: `/api/instances/${self}`, route: '/api/instances/:id', action: 'instance.deregister' },
  ];
}

async function newEntries(app: FastifyInstance, afterId: number) {
  const entries = (await app.inject({ method: 'GET', url: '/api/audit?limit=1000' })).json() as { id: number; actor: string; action: string; outcome: string }[];
  return entries.filter((e) => e.id > afterId);
}

test('every mutating route leaves exactly one audit entry with its action and its caller', async (t) => {
  const { app, close } = await startTestApp();
  t.after(close);
  const register = await app.inject({ method: 'POST', url: '/api/instances/register', payload: { name: 'auditor' } });
  assert.equal(register.statusCode, 200);
  const agent = register.json() as { id: string; token: string };
  let lastId = 0;
  const [registered] = await newEntries(app, lastId);
  assert.deepEqual([registered!.action, registered!.actor], ['instance.register', 'anonymous']);
  lastId = Math.max(...(await newEntries(app, 0)).map((e) => e.id));

  let dump = '';
  const exercised = new Set<string>(['POST /api/instances/register']);
  // Every call is checked; the problems are listed together so one report shows them all.
  const problems: string[] = [];
  // Ids the server gives (a lease, a message) for the calls that follow.
  const created = new Map<string, string>();
  for (const call of calls(agent.id, () => dump, created)) {
    if (call.route === '/api/import') dump = (await app.inject({ method: 'GET', url: '/api/export' })).body;
    const headers: Record<string, string> = call.admin ? {} : { 'x-koor-instance-token': agent.token };
    const actor = call.admin ? 'anonymous' : agent.id;
    if (call.contentType) headers['content-type'] = call.contentType;
    const res = await app.inject({ method: call.method, url: call.url, payload: call.payload as string, headers });
    if (call.url === call.route && res.statusCode < 300) created.set(call.route, String(res.json().id));
    const entries = await newEntries(app, lastId);
    exercised.add(`${call.method} ${call.route}`);
    if (entries.length > 0) lastId = Math.max(...entries.map((e) => e.id));
    const label = `${call.method} ${call.url} (${res.statusCode})`;
    if (entries.length !== 1) {
      problems.push(`${label}: ${entries.length} entries: ${entries.map((e) => `${e.action}/${e.outcome}`).join(', ')}`);
      continue;
    }
    const [entry] = entries;
    if (entry!.action !== call.action) problems.push(`${label}: action ${entry!.action}, expected ${call.action}`);
    if (entry!.actor !== actor) problems.push(`${label}: actor ${entry!.actor}, expected ${actor}`);
    // Calls to outside services may fail (nothing listens on port 9); the entry says so.
    if (entry!.outcome !== 'success' && call.action !== 'webhook.test') {
      problems.push(`${label}: outcome ${entry!.outcome}: ${res.body.slice(0, 200)}`);
    }
  }
  assert.deepEqual(problems, []);

  // A failed mutation: one error entry.
  const failed = await app.inject({ method: 'PUT', url: '/api/state/app/cfg', payload: '', headers: { 'content-type': 'text/plain' } });
  assert.equal(failed.statusCode, 400);
  const [error] = await newEntries(app, lastId);
  assert.deepEqual([error!.action, error!.actor, error!.outcome], ['state.put', 'anonymous', 'error']);

  // Every mutating route declares an action, and this test exercises each one.
  const mutating = routeAuditCatalog(app).filter((r) => ['POST', 'PUT', 'DELETE', 'PATCH'].includes(r.method) && r.url.startsWith('/api/'));
  const undeclared = mutating.filter((r) => !r.auditAction && !READ_ONLY_POSTS.has(`${r.method} ${r.url}`));
  assert.deepEqual(undeclared, [], 'mutating routes without config.auditAction');
  const untested = mutating.filter((r) => r.auditAction && !exercised.has(`${r.method} ${r.url}`)).map((r) => `${r.method} ${r.url}`);
  assert.deepEqual(untested, [], 'audited routes this test does not call yet');
});

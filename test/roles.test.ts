import { test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { startListeningApp, testEngines } from './support/app.js';

// Roles (SPEC §15) seen from outside: over real HTTP, WebSocket and the MCP SDK client.

const ADMIN_TOKEN = 'admin-secret';
const READ_TOKEN = 'reader-secret';
type Role = 'admin' | 'agent' | 'reader';

/** SPEC §15's table, as this test reads it: which roles each declared permission lets in. */
const TABLE: Record<string, Role[]> = {
  public: ['admin', 'agent', 'reader'],
  read: ['admin', 'agent', 'reader'],
  write: ['admin', 'agent'],
  propose: ['admin', 'agent'],
  'own-instance': ['admin', 'agent'],
  admin: ['admin'],
};

/**
 * Every route of the OpenAPI document and the permission SPEC §15 gives it. A new route fails
 * this test until it is added here, with the row of the table it belongs to.
 */
const EXPECTED: Record<string, string> = {
  'GET /health': 'public',
  'GET /api/state': 'read',
  'GET /api/state/{*}': 'read',
  'PUT /api/state/{*}': 'write',
  'POST /api/state/{*}': 'write',
  'DELETE /api/state/{*}': 'write',
  'GET /api/specs/{project}': 'read',
  'GET /api/specs/{project}/{name}': 'read',
  'PUT /api/specs/{project}/{name}': 'write',
  'DELETE /api/specs/{project}/{name}': 'write',
  'POST /api/events/publish': 'write',
  'GET /api/events/history': 'read',
  'GET /api/events/subscribe': 'read',
  'GET /api/events/next': 'write',
  'POST /api/events/consumers/{name}/ack': 'write',
  'POST /api/webhooks': 'admin',
  'GET /api/webhooks': 'admin',
  'DELETE /api/webhooks/{id}': 'admin',
  'POST /api/webhooks/{id}/test': 'admin',
  'POST /api/instances/register': 'admin',
  'GET /api/instances': 'read',
  'GET /api/instances/stale': 'read',
  'GET /api/instances/{id}': 'read',
  'POST /api/instances/{id}/heartbeat': 'own-instance',
  'POST /api/instances/{id}/activate': 'own-instance',
  'POST /api/instances/{id}/intent': 'own-instance',
  'POST /api/instances/{id}/capabilities': 'own-instance',
  'DELETE /api/instances/{id}': 'own-instance',
  'POST /api/liveness/check': 'admin',
  'GET /api/validate/{project}/rules': 'read',
  'PUT /api/validate/{project}/rules': 'admin',
  'POST /api/validate/{project}': 'write',
  'POST /api/rules/propose': 'propose',
  'POST /api/rules/{project}/{rule_id}/accept': 'admin',
  'POST /api/rules/{project}/{rule_id}/reject': 'admin',
  'DELETE /api/rules/{project}/{rule_id}': 'admin',
  'GET /api/rules/export': 'read',
  'POST /api/rules/import': 'admin',
  'POST /api/contracts/{project}/{name}/validate': 'write',
  'POST /api/contracts/{project}/{name}/test': 'write',
  'POST /api/compliance/run': 'admin',
  'GET /api/compliance/history': 'read',
  'POST /api/templates': 'admin',
  'GET /api/templates': 'read',
  'GET /api/templates/{id}': 'read',
  'DELETE /api/templates/{id}': 'admin',
  'POST /api/templates/{id}/apply': 'admin',
  'GET /api/audit': 'read',
  'GET /api/audit/summary': 'read',
  'GET /api/metrics': 'read',
  'POST /api/metrics/reset': 'admin',
  'GET /api/metrics/agents': 'read',
  'GET /api/metrics/agents/{id}': 'read',
  'GET /metrics': 'read',
  'POST /api/llm/usage': 'write',
  'GET /api/llm/usage': 'read',
  'GET /api/llm/usage/summary': 'read',
  'POST /mcp': 'read',
  'GET /mcp': 'read',
  'DELETE /mcp': 'read',
  'GET /api/export': 'admin',
  'POST /api/import': 'admin',
  'POST /api/leases': 'write',
  'POST /api/leases/{id}/renew': 'write',
  'DELETE /api/leases/{id}': 'write',
  'GET /api/leases': 'read',
  'POST /api/leases/check': 'read',
  'POST /api/messages': 'write',
  'GET /api/messages/inbox': 'read',
  'GET /api/messages/unread': 'read',
  'POST /api/messages/{id}/read': 'write',
  'POST /api/messages/{id}/ack': 'write',
  'GET /api/messages/threads/{thread_id}': 'read',
  'GET /api/projects': 'read',
};

interface Agent {
  id: string;
  token: string;
}

async function call(url: string, method: string, path: string, headers: Record<string, string> = {}, body?: unknown) {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    (init.headers as Record<string, string>)['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch(`${url}${path}`, init);
  const text = await res.text();
  let json: any = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = text;
  }
  return { status: res.status, json };
}

const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
const reader = { authorization: `Bearer ${READ_TOKEN}` };
const asAgent = (agent: Agent) => ({ 'x-koor-instance-token': agent.token });

async function register(url: string, name: string, headers: Record<string, string> = admin): Promise<Agent> {
  const res = await call(url, 'POST', '/api/instances/register', headers, { name });
  assert.equal(res.status, 200, JSON.stringify(res.json));
  return res.json as Agent;
}

async function startWithTokens(engine: 'sqlite' | 'postgres' = 'sqlite', config = {}) {
  return startListeningApp({ authToken: ADMIN_TOKEN, readTokens: [READ_TOKEN], ...config }, engine);
}

test('every route in the OpenAPI document declares its permission, and every role gets exactly what SPEC §15 gives it', async (t) => {
  const { url, close } = await startWithTokens();
  t.after(close);
  const self = await register(url, 'self');
  const other = await register(url, 'other');

  const doc = await call(url, 'GET', '/api/openapi.json', reader);
  assert.equal(doc.status, 200);
  const routes: Array<{ method: string; path: string; permission: string }> = [];
  const problems: string[] = [];
  for (const [path, operations] of Object.entries(doc.json.paths as Record<string, Record<string, { 'x-koor-permission'?: string }>>)) {
    for (const [method, operation] of Object.entries(operations)) {
      const key = `${method.toUpperCase()} ${path}`;
      const permission = operation['x-koor-permission'];
      if (!permission) problems.push(`${key}: no x-koor-permission`);
      else if (EXPECTED[key] === undefined) problems.push(`${key}: declares ${permission}; add it to this test's table`);
      else if (EXPECTED[key] !== permission) problems.push(`${key}: declares ${permission}, SPEC §15 says ${EXPECTED[key]}`);
      routes.push({ method: method.toUpperCase(), path, permission: permission ?? '' });
    }
  }
  for (const key of Object.keys(EXPECTED)) if (!routes.some((r) => `${r.method} ${r.path}` === key)) problems.push(`${key}: no longer in the OpenAPI document`);
  assert.deepEqual(problems, []);

  // Deregistering the caller's own instance goes last: its token stops working after it.
  const order = (r: { method: string; path: string }) => (r.method === 'DELETE' && r.path === '/api/instances/{id}' ? 1 : 0);
  routes.sort((a, b) => order(a) - order(b));

  const wrong: string[] = [];
  const callers: Array<{ role: Role; headers: Record<string, string> }> = [
    { role: 'reader', headers: reader },
    { role: 'admin', headers: admin },
    { role: 'agent', headers: asAgent(self) },
  ];
  for (const route of routes) {
    for (const { role, headers } of callers) {
      // Own-instance routes: an agent is refused on another instance and let through on its own.
      const targets = route.permission === 'own-instance' && role === 'agent' ? [other.id, self.id] : [role === 'admin' ? other.id : self.id];
      for (const target of targets) {
        const path = route.path.replace('{*}', 'roles/probe').replace('{id}', target).replace(/\{[a-z_]+\}/g, 'probe');
        const body = ['POST', 'PUT'].includes(route.method) ? {} : undefined;
        const res = await call(url, route.method, path, headers, body);
        const allowed = TABLE[route.permission]!.includes(role) && !(route.permission === 'own-instance' && role === 'agent' && target !== self.id);
        const label = `${role} ${route.method} ${path}`;
        if (allowed) {
          if (res.status === 403 || res.status === 401) wrong.push(`${label}: ${res.status} ${JSON.stringify(res.json)}`);
        } else if (res.status !== 403) {
          wrong.push(`${label}: ${res.status}, expected 403`);
        } else {
          const who = role === 'agent' ? 'an agent token' : 'a reader token';
          if (res.json?.reason !== 'forbidden' || res.json?.code !== 403 || !String(res.json?.error).startsWith(`${who} may not `)) {
            wrong.push(`${label}: refusal ${JSON.stringify(res.json)} does not name the role and the act`);
          }
        }
      }
    }
  }
  assert.deepEqual(wrong, []);
});

for (const engine of testEngines()) {
  test(`an agent does its work but not the admin's, a reader reads but writes nothing, on ${engine}`, async (t) => {
    const { url, close } = await startWithTokens(engine);
    t.after(close);
    const self = await register(url, 'self');
    const other = await register(url, 'other');
    const refusal = (error: string) => ({ error, code: 403, reason: 'forbidden' });

    // The agent's work.
    assert.equal((await call(url, 'PUT', '/api/state/shop/task', asAgent(self), { step: 1 })).status, 200);
    assert.equal((await call(url, 'POST', '/api/events/publish', asAgent(self), { topic: 'shop.done', data: {} })).status, 200);
    assert.equal((await call(url, 'POST', `/api/instances/${self.id}/heartbeat`, asAgent(self))).status, 200);

    // Not the admin's.
    const hook = await call(url, 'POST', '/api/webhooks', asAgent(self), { id: 'exfiltrate', url: 'http://127.0.0.1:9/x', patterns: ['*'] });
    assert.deepEqual(hook, { status: 403, json: refusal('an agent token may not create webhooks') });
    assert.deepEqual(await call(url, 'DELETE', `/api/instances/${other.id}`, asAgent(self)), {
      status: 403,
      json: refusal(`an agent token may not deregister instance ${other.id}: an agent acts only on its own instance (${self.id})`),
    });
    assert.deepEqual(await call(url, 'POST', `/api/instances/${other.id}/heartbeat`, asAgent(self)), {
      status: 403,
      json: refusal(`an agent token may not send a heartbeat for instance ${other.id}: an agent acts only on its own instance (${self.id})`),
    });
    assert.deepEqual(await call(url, 'POST', '/api/metrics/reset', asAgent(self)), { status: 403, json: refusal('an agent token may not reset metrics') });
    assert.deepEqual(await call(url, 'GET', '/api/export', asAgent(self)), { status: 403, json: refusal('an agent token may not export the database') });
    const imported = await fetch(`${url}/api/import?merge=1`, { method: 'POST', headers: { ...asAgent(self), 'content-type': 'application/x-ndjson' }, body: '{}\n' });
    assert.equal(imported.status, 403);
    assert.deepEqual(await imported.json(), refusal('an agent token may not import into the database'));
    assert.deepEqual(await call(url, 'GET', '/api/webhooks', asAgent(self)), { status: 403, json: refusal('an agent token may not list webhooks') });
    // Still registered, nothing created.
    assert.equal((await call(url, 'GET', `/api/instances/${other.id}`, admin)).status, 200);
    assert.deepEqual((await call(url, 'GET', '/api/webhooks', admin)).json, []);

    // The server token next to an instance token speaks as the agent; the refusal says how to act as the admin.
    const both = await call(url, 'POST', '/api/metrics/reset', { ...admin, ...asAgent(self) });
    assert.equal(both.status, 403);
    assert.match(both.json.error, /^an agent token may not reset metrics \(this request carried an instance token.*send the server token alone/);
    assert.equal((await call(url, 'POST', '/api/metrics/reset', admin)).status, 200);

    // A reader reads everything readable, writes nothing.
    for (const path of ['/api/state', '/api/state/shop/task', '/api/instances', '/api/events/history', '/api/audit', '/api/metrics', '/api/validate/shop/rules']) {
      assert.equal((await call(url, 'GET', path, reader)).status, 200, path);
    }
    assert.deepEqual(await call(url, 'PUT', '/api/state/shop/task', reader, { step: 2 }), { status: 403, json: refusal('a reader token may not write state') });
    assert.deepEqual(await call(url, 'POST', '/api/events/publish', reader, { topic: 'x', data: {} }), { status: 403, json: refusal('a reader token may not publish events') });
    assert.deepEqual(await call(url, 'POST', `/api/instances/${self.id}/heartbeat`, reader), { status: 403, json: refusal('a reader token may not send a heartbeat for an instance') });
    assert.deepEqual(await call(url, 'POST', '/api/rules/propose', reader, { project: 'p', rule_id: 'r', pattern: 'x', message: 'm' }), {
      status: 403,
      json: refusal('a reader token may not propose rules'),
    });
    assert.deepEqual((await call(url, 'GET', '/api/state/shop/task', reader)).json, { step: 1 });

    // A reader's live stream works; its refusals are counted by role.
    const ws = new WebSocket(`${url.replace('http', 'ws')}/api/events/subscribe?pattern=shop.*&token=${READ_TOKEN}`);
    t.after(() => ws.close());
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const frame = new Promise<string>((resolve) => ws.once('message', (data) => resolve(String(data))));
    assert.equal((await call(url, 'POST', '/api/events/publish', asAgent(self), { topic: 'shop.live', data: { n: 1 } })).status, 200);
    assert.equal(JSON.parse(await frame).topic, 'shop.live');
    const metrics = await fetch(`${url}/metrics`, { headers: reader });
    const text = await metrics.text();
    assert.match(text, /^koor_auth_forbidden_total\{role="agent"\} 8$/m);
    assert.match(text, /^koor_auth_forbidden_total\{role="reader"\} 4$/m);
  });
}

test('MCP tools are held to the same roles as REST', async (t) => {
  const { url, close } = await startWithTokens();
  t.after(close);
  const self = await register(url, 'self');
  const other = await register(url, 'other');
  const connect = async (headers: Record<string, string>) => {
    const client = new Client({ name: 'roles-test', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${url}/mcp`), { requestInit: { headers } }));
    t.after(() => client.close());
    return async (name: string, args: Record<string, unknown> = {}) => {
      const result = (await client.callTool({ name, arguments: args })) as { content: Array<{ text?: string }>; isError?: boolean };
      return { text: result.content.map((c) => c.text ?? '').join(''), isError: result.isError === true };
    };
  };

  const asReader = await connect(reader);
  assert.match((await asReader('discover_instances')).text, /^count=2/);
  assert.deepEqual(await asReader('register_instance', { name: 'sneaky' }), { text: 'error: a reader token may not register instances', isError: true });
  assert.deepEqual(await asReader('propose_rule', { project: 'p', rule_id: 'r', pattern: 'x', message: 'm' }), { text: 'error: a reader token may not propose rules', isError: true });
  assert.deepEqual(await asReader('set_intent', { instance_id: self.id, intent: 'x' }), { text: 'error: a reader token may not set the intent of an instance', isError: true });

  const asSelf = await connect({ authorization: `Bearer ${self.token}` });
  assert.equal((await asSelf('set_intent', { intent: 'mine' })).isError, false);
  assert.deepEqual(await asSelf('set_intent', { instance_id: other.id, intent: 'yours' }), {
    text: `error: an agent token may not set the intent of instance ${other.id}: an agent acts only on its own instance (${self.id})`,
    isError: true,
  });
  // An agent calling register_instance re-activates itself; it mints no new instance.
  assert.match((await asSelf('register_instance', { name: 'another' })).text, new RegExp(`^id=${self.id} `));
  assert.equal((await call(url, 'GET', '/api/instances', admin)).json.length, 2);
  assert.equal((await call(url, 'GET', `/api/instances/${other.id}`, admin)).json.intent, '');
  const refused = (await call(url, 'GET', '/api/audit?action=instance.intent', admin)).json as Array<{ actor: string; outcome: string }>;
  assert.deepEqual(refused.map((e) => [e.actor, e.outcome]), [[self.id, 'error'], [self.id, 'success'], ['reader', 'error']]);
});

for (const engine of testEngines()) {
  test(`the Bearer scheme is case-insensitive; revoked and disagreeing credentials are a 401, on ${engine}`, async (t) => {
    const { url, close } = await startWithTokens(engine);
    t.after(close);
    const self = await register(url, 'self');
    const other = await register(url, 'other');

    for (const scheme of ['bearer', 'BEARER', 'Bearer']) {
      assert.equal((await call(url, 'GET', '/api/instances', { authorization: `${scheme} ${ADMIN_TOKEN}` })).status, 200, scheme);
    }
    assert.equal((await call(url, 'POST', `/api/instances/${self.id}/heartbeat`, { authorization: `bearer ${self.token}` })).status, 200);

    const unauthorized = async (headers: Record<string, string>) => {
      const res = await call(url, 'POST', `/api/instances/${self.id}/heartbeat`, headers);
      assert.equal(res.status, 401, JSON.stringify(headers));
      assert.equal(res.json.reason, 'unauthorized');
      return res.json.error as string;
    };
    // A wrong bearer next to a valid instance token.
    assert.equal(await unauthorized({ authorization: 'Bearer wrong', ...asAgent(self) }), 'invalid or missing bearer token');
    // Two credentials naming different callers.
    assert.match(await unauthorized({ authorization: `Bearer ${other.token}`, ...asAgent(self) }), /name different callers/);
    assert.match(await unauthorized({ ...reader, ...asAgent(self) }), /name different callers/);
    // An unknown instance token in the header, even with the server token.
    assert.match(await unauthorized({ ...admin, 'x-koor-instance-token': 'f'.repeat(64) }), /X-Koor-Instance-Token/);
    // The same token twice is one caller.
    assert.equal((await call(url, 'POST', `/api/instances/${self.id}/heartbeat`, { authorization: `Bearer ${self.token}`, ...asAgent(self) })).status, 200);
  });
}

test('in local mode no token is the admin, an instance token is an agent, and a revoked one is refused', async (t) => {
  const { url, close } = await startListeningApp();
  t.after(close);
  const self = await register(url, 'self', {});
  const other = await register(url, 'other', {});
  assert.equal((await call(url, 'POST', '/api/webhooks', {}, { id: 'mine', url: 'http://127.0.0.1:9/x', patterns: ['never.*'] })).status, 200);
  assert.deepEqual((await call(url, 'POST', '/api/webhooks', asAgent(self), { id: 'theirs', url: 'http://127.0.0.1:9/y', patterns: ['*'] })).json.error, 'an agent token may not create webhooks');
  assert.equal((await call(url, 'DELETE', `/api/instances/${other.id}`, asAgent(self))).status, 403);
  assert.equal((await call(url, 'DELETE', `/api/instances/${self.id}`, asAgent(self))).status, 200);
  // Its token is gone: refused, not quietly taken for the admin.
  assert.equal((await call(url, 'GET', '/api/instances', asAgent(self))).status, 401);
  assert.equal((await call(url, 'GET', '/api/instances', { authorization: `Bearer ${self.token}` })).status, 401);
});

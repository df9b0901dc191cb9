import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { startListeningApp } from './support/app.js';

type ToolResult = { content: Array<{ type: string; text?: string }>; isError?: boolean };

async function connect(url: string, headers: Record<string, string> = {}) {
  const client = new Client({ name: 'koor-test', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(`${url}/mcp`), { requestInit: { headers } });
  await client.connect(transport);
  return { client, transport };
}

async function call(client: Client, name: string, args: Record<string, unknown> = {}) {
  const result = (await client.callTool({ name, arguments: args })) as ToolResult;
  return { text: result.content.map((c) => c.text ?? '').join(''), isError: result.isError === true };
}

async function rest(url: string, path: string, init: RequestInit = {}) {
  const res = await fetch(`${url}${path}`, {
    ...init,
    headers: { ...(init.body ? { 'content-type': 'application/json' } : {}), ...(init.headers as Record<string, string> | undefined) },
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/** One JSON-RPC request to /mcp with no session and no initialize: how a plain script talks. */
async function statelessCall(url: string, name: string, args: Record<string, unknown>, headers: Record<string, string> = {}) {
  const res = await fetch(`${url}/mcp`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: args } }),
  });
  return { status: res.status, sessionId: res.headers.get('mcp-session-id'), body: (await res.json()) as { result: ToolResult } };
}

test('every MCP tool works through the SDK client and agrees with REST', async (t) => {
  const { app, url, close } = await startListeningApp();
  t.after(close);
  const { client } = await connect(url);
  t.after(() => client.close());

  const tools = await client.listTools();
  assert.deepEqual(tools.tools.map((tool) => tool.name).sort(), [
    'discover_instances', 'get_endpoints', 'propose_rule', 'register_instance', 'set_intent', 'validate_contract',
  ]);

  // MCP → REST: register over MCP, see it over REST.
  const registered = await call(client, 'register_instance', { name: 'mcp-agent', stack: 'react', capabilities: ['ui'] });
  assert.equal(registered.isError, false);
  assert.ok(!registered.text.includes('\n'), 'the answer is one line');
  const match = registered.text.match(/^id=([0-9a-f-]{36}) token=([0-9a-f]{64}) /);
  assert.ok(match, registered.text);
  const [, id, token] = match;
  assert.ok(registered.text.includes(`${url}/api`));
  const shown = await rest(url, `/api/instances/${id}`);
  assert.equal(shown.status, 200);
  assert.equal(shown.body.name, 'mcp-agent');
  assert.deepEqual(shown.body.capabilities, ['ui']);

  // The token from MCP is a working REST identity.
  const beat = await rest(url, `/api/instances/${id}/heartbeat`, { method: 'POST', headers: { 'x-koor-instance-token': token! } });
  assert.equal(beat.status, 200);

  // REST → MCP: register over REST, find it over MCP.
  const viaRest = await rest(url, '/api/instances/register', { method: 'POST', body: JSON.stringify({ name: 'rest-agent', stack: 'go-api', intent: 'serve the API' }) });
  assert.equal(viaRest.status, 200);
  const all = await call(client, 'discover_instances');
  assert.match(all.text, /^count=2\n/);
  assert.ok(all.text.includes(`id=${viaRest.body.id} name=rest-agent status=pending stack=go-api intent="serve the API"`), all.text);
  const filtered = await call(client, 'discover_instances', { stack: 'react' });
  assert.equal(filtered.text.split('\n')[0], 'count=1');
  assert.ok(filtered.text.includes(`id=${id}`));
  const none = await call(client, 'discover_instances', { capability: 'nothing' });
  assert.equal(none.text, 'count=0');

  // The session acts as the instance it registered: its own intent, not another's (SPEC §15).
  const before = await rest(url, `/api/instances/${id}`);
  const intent = await call(client, 'set_intent', { instance_id: id, intent: 'add pagination' });
  assert.equal(intent.isError, false);
  assert.equal(intent.text, `ok id=${id} status=active`, 'set_intent is a sign of life');
  const afterIntent = await rest(url, `/api/instances/${id}`);
  assert.equal(afterIntent.body.intent, 'add pagination');
  assert.ok(afterIntent.body.last_seen > before.body.last_seen, 'set_intent is also a heartbeat');
  const othersIntent = await call(client, 'set_intent', { instance_id: viaRest.body.id, intent: 'hijack' });
  assert.equal(othersIntent.isError, true);
  assert.equal(othersIntent.text, `error: an agent token may not set the intent of instance ${viaRest.body.id}: an agent acts only on its own instance (${id})`);

  const endpoints = await call(client, 'get_endpoints');
  assert.ok(endpoints.text.startsWith(`base=${url}/api `), endpoints.text);
  assert.match(endpoints.text, /\/state\/\{key\}/);
  // What the CLI prints does reach the model when the agent prints it: no claim that it never does.
  assert.doesNotMatch(endpoints.text, /nothing enters your context/);
  assert.match(endpoints.text, /only as far as you print it/);
  assert.match(endpoints.text, /POST \/leases\/check/, 'agents learn where leases and messages are');

  const proposed = await call(client, 'propose_rule', {
    project: 'shop', rule_id: 'no-todo', pattern: 'TODO', message: 'no TODOs in main', severity: 'warning',
  });
  assert.equal(proposed.isError, false, proposed.text);
  assert.equal(proposed.text, 'project=shop rule_id=no-todo status=proposed');
  const rules = await rest(url, '/api/validate/shop/rules?status=proposed');
  assert.equal(rules.status, 200);
  assert.ok(rules.body.rules.some((r: { rule_id: string; status: string }) => r.rule_id === 'no-todo' && r.status === 'proposed'));

  // Errors are tool errors naming the problem, and the session keeps working.
  // (A session that acts as no instance is the admin in local mode: it may name any instance.)
  const { client: person } = await connect(url);
  t.after(() => person.close());
  const unknown = await call(person, 'set_intent', { instance_id: 'no-such-id', intent: 'x' });
  assert.equal(unknown.isError, true);
  assert.match(unknown.text, /instance not found: no-such-id/);
  const badName = await call(client, 'register_instance', { name: '' });
  assert.equal(badName.isError, true);
  assert.match(badName.text, /name/);
  const badRule = await call(client, 'propose_rule', { project: 'shop', rule_id: 'r' });
  assert.equal(badRule.isError, true);
  assert.equal((await call(client, 'discover_instances', { name: 'mcp-agent' })).text.split('\n')[0], 'count=1');

  // MCP calls are counted apart from REST (token tax).
  assert.equal(app.koor.counters.mcp, 12, 'every tools/call is counted');
});

test("Go Koor's tool forms: capabilities as a comma-separated string, and validate_contract", async (t) => {
  const { url, close } = await startListeningApp();
  t.after(close);
  const { client } = await connect(url);
  t.after(() => client.close());

  const registered = await call(client, 'register_instance', { name: 'go-agent', stack: 'goth', capabilities: 'code-review, testing,,deployment' });
  assert.equal(registered.isError, false, registered.text);
  const id = registered.text.match(/^id=(\S+)/)![1]!;
  assert.deepEqual((await rest(url, `/api/instances/${id}`)).body.capabilities, ['code-review', 'testing', 'deployment']);
  assert.equal((await call(client, 'discover_instances', { capability: 'testing' })).text.split('\n')[0], 'count=1');

  const contract = {
    kind: 'contract',
    version: '1.0',
    endpoints: {
      'POST /api/trucks': {
        request: { plate: { type: 'string', required: true }, axles: { type: 'integer' } },
        response: { id: { type: 'string', required: true } },
      },
    },
  };
  assert.equal((await rest(url, '/api/specs/Truck-Wash/api-contract', { method: 'PUT', body: JSON.stringify(contract) })).status, 200);
  const base = { project: 'Truck-Wash', contract: 'api-contract', endpoint: 'POST /api/trucks' };

  // Go sends the payload as JSON text.
  const valid = await call(client, 'validate_contract', { ...base, direction: 'request', payload: '{"plate":"AB-12","axles":3}' });
  assert.deepEqual(valid, { text: 'valid=true', isError: false });
  const invalid = await call(client, 'validate_contract', { ...base, direction: 'request', payload: '{"axles":"three","colour":"red"}' });
  assert.equal(invalid.isError, false);
  const lines = invalid.text.split('\n');
  assert.equal(lines[0], 'valid=false violations=3');
  assert.ok(lines.some((line) => /^plate: .*required/.test(line)), invalid.text);
  assert.ok(lines.some((line) => /^axles: /.test(line)), invalid.text);
  assert.ok(lines.some((line) => /^colour: /.test(line)), invalid.text);
  // The same check over REST agrees.
  const viaRest = await rest(url, '/api/contracts/Truck-Wash/api-contract/validate', {
    method: 'POST', body: JSON.stringify({ endpoint: base.endpoint, direction: 'request', payload: { axles: 'three', colour: 'red' } }),
  });
  assert.equal(viaRest.body.violations.length, 3);

  // A JSON value works as well; an empty string is {} as in Go.
  assert.equal((await call(client, 'validate_contract', { ...base, direction: 'response', payload: { id: 't-1' } })).text, 'valid=true');
  assert.match((await call(client, 'validate_contract', { ...base, direction: 'response', payload: '' })).text, /^valid=false violations=1\nid: /);

  const badJson = await call(client, 'validate_contract', { ...base, direction: 'request', payload: '{nope' });
  assert.equal(badJson.isError, true);
  assert.match(badJson.text, /invalid payload JSON/);
  const missing = await call(client, 'validate_contract', { ...base, contract: 'nope', direction: 'request', payload: '{}' });
  assert.equal(missing.isError, true);
  assert.match(missing.text, /Truck-Wash\/nope/);
  const badEndpoint = await call(client, 'validate_contract', { ...base, endpoint: 'GET /api/none', direction: 'request', payload: '{}' });
  assert.equal(badEndpoint.isError, true);
  assert.match(badEndpoint.text, /GET \/api\/none/);
});

test('the tools/list answer stays under about 750 tokens', async (t) => {
  const { url, close } = await startListeningApp();
  t.after(close);
  const { client } = await connect(url);
  t.after(() => client.close());
  const listed = JSON.stringify(await client.listTools());
  assert.ok(listed.length < 3000, `tools/list is ${listed.length} characters`);
});

test('stateless requests work without a session, and sessions end on DELETE', async (t) => {
  const { app, url, close } = await startListeningApp();
  t.after(close);

  const stateless = await statelessCall(url, 'register_instance', { name: 'scripted' });
  assert.equal(stateless.status, 200);
  assert.equal(stateless.sessionId, null, 'no session is created');
  const text = stateless.body.result.content[0]!.text!;
  const id = text.match(/^id=(\S+)/)![1]!;
  assert.equal((await rest(url, `/api/instances/${id}`)).body.name, 'scripted');

  const unknown = await statelessCall(url, 'set_intent', { instance_id: 'missing', intent: 'x' });
  assert.equal(unknown.status, 200);
  assert.equal(unknown.body.result.isError, true);

  // A session client, then its session is terminated and the id no longer works.
  const { client, transport } = await connect(url);
  t.after(() => client.close());
  const sessionId = transport.sessionId!;
  assert.ok(sessionId);
  assert.equal((await call(client, 'discover_instances')).text.split('\n')[0], 'count=1');
  await transport.terminateSession();
  const stale = await fetch(`${url}/mcp`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': sessionId },
    body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }),
  });
  assert.equal(stale.status, 404);
  await stale.body?.cancel();

  const noSessionGet = await fetch(`${url}/mcp`, { headers: { accept: 'text/event-stream' } });
  assert.equal(noSessionGet.status, 405);
  await noSessionGet.body?.cancel();
  assert.equal(app.koor.counters.mcp, 3);
});

test('with auth on, /mcp needs a token and instance tokens name the caller', async (t) => {
  const { app, url, close } = await startListeningApp({ authToken: 'server-secret' });
  t.after(close);

  const anonymous = await fetch(`${url}/mcp`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
  });
  assert.equal(anonymous.status, 401);
  assert.deepEqual(await anonymous.json(), { error: 'invalid or missing bearer token', code: 401, reason: 'unauthorized' });

  const { client: admin } = await connect(url, { authorization: 'Bearer server-secret' });
  t.after(() => admin.close());
  const registered = await call(admin, 'register_instance', { name: 'agent' });
  const [, id, token] = registered.text.match(/^id=(\S+) token=(\S+)/)!;

  // The agent's own MCP connection, authenticated by its instance token.
  const { client: agent } = await connect(url, { authorization: `Bearer ${token}` });
  t.after(() => agent.close());
  // Registering again with its own token mints nothing: the caller is that instance (SPEC §10).
  const minted = await call(agent, 'register_instance', { name: 'another' });
  assert.equal(minted.isError, false, minted.text);
  assert.match(minted.text, new RegExp(`^id=${id} status=active — this session already acts as this instance`));
  assert.equal((await rest(url, '/api/instances', { headers: { authorization: 'Bearer server-secret' } })).body.length, 1);
  const intent = await call(agent, 'set_intent', { instance_id: id!, intent: 'reviewing' });
  assert.equal(intent.isError, false);

  const rows = await app.koor.db.query.selectFrom('audit_log').selectAll().where('action', '=', 'instance.intent').where('outcome', '=', 'success').execute();
  assert.deepEqual(rows.map((r) => r.actor), [id]);
  // A refused MCP change is audited like a refused REST call: as the caller, as an error.
  assert.equal((await call(agent, 'set_intent', { instance_id: 'no-such-instance', intent: 'x' })).isError, true);
  const refused = await app.koor.db.query.selectFrom('audit_log').selectAll()
    .where('action', '=', 'instance.intent').where('outcome', '=', 'error').execute();
  assert.deepEqual(refused.map((r) => [r.actor, r.resource]), [[id, 'mcp:set_intent']]);
  assert.match(refused[0]!.detail, /no-such-instance/);

  // Deregistered: its token no longer opens /mcp.
  const bye = await rest(url, `/api/instances/${id}`, { method: 'DELETE', headers: { authorization: 'Bearer server-secret' } });
  assert.equal(bye.status, 200);
  const closed = await statelessCall(url, 'discover_instances', {}, { authorization: `Bearer ${token}` });
  assert.equal(closed.status, 401);
});

test('an MCP session acts as one instance: after register_instance, or from its token; registering again re-activates it', async (t) => {
  const { url, close } = await startListeningApp();
  t.after(close);

  // A session opened without a token registers, and from then on acts as that instance.
  const { client: fresh } = await connect(url);
  t.after(() => fresh.close());
  const noOne = await call(fresh, 'set_intent', { intent: 'anything' });
  assert.equal(noOne.isError, true);
  assert.match(noOne.text, /instance_id is required/);
  const registered = await call(fresh, 'register_instance', { name: 'docs-writer', workspace: 'shop' });
  const [, id, token] = /^id=(\S+) token=(\S+)/.exec(registered.text) ?? [];
  assert.ok(id && token, registered.text);
  assert.equal((await call(fresh, 'propose_rule', { project: 'shop', rule_id: 'no-tabs', pattern: '\\t', message: 'spaces' })).isError, false);
  const audit = await rest(url, '/api/audit?action=rule.propose');
  assert.equal(audit.body[0].actor, id, 'the proposal is audited as the instance, not anonymous');
  assert.equal((await call(fresh, 'set_intent', { intent: 'write the guide' })).text, `ok id=${id} status=active`);
  assert.equal((await rest(url, `/api/instances/${id}`)).body.intent, 'write the guide');

  // A session opened with the token is that instance: registering again makes no second one.
  const { client: same } = await connect(url, { authorization: `Bearer ${token}` });
  t.after(() => same.close());
  const again = await call(same, 'register_instance', { name: 'docs-writer', workspace: 'shop', intent: 'review the guide' });
  assert.equal(again.isError, false, again.text);
  assert.match(again.text, new RegExp(`^id=${id} status=active — this session already acts as this instance`));
  assert.doesNotMatch(again.text, /token=/);
  const all = await rest(url, '/api/instances?workspace=shop');
  assert.deepEqual(all.body.map((i: { id: string }) => i.id), [id]);
  assert.equal(all.body[0].intent, 'review the guide');
  assert.equal((await call(same, 'set_intent', { intent: 'done' })).text, `ok id=${id} status=active`);
});

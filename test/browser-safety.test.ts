import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import WebSocket from 'ws';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { startListeningApp, startTestApp, testEngines } from './support/app.js';
import { startDashboardStack } from './support/dashboard.js';

// What a web page open in the user's browser can send to a Koor server on the same machine,
// sent here over real HTTP and WebSocket with the headers a browser would give it (SPEC §15,
// README "Browser safety"). The same run in real Chromium is test/browser-safety-chromium.test.ts.

const EVIL = 'http://evil.example';

interface Answer {
  status: number;
  text: string;
  json: any;
}

/** One request with exactly these headers (Host and Origin included, which fetch() would not let a test set). */
function send(base: string, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Answer> {
  const url = new URL(path, base);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, method, path: url.pathname + url.search, headers: { ...headers, ...(body !== undefined ? { 'content-length': String(Buffer.byteLength(body)) } : {}) } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        let json: unknown = null;
        try {
          json = text ? JSON.parse(text) : null;
        } catch {
          // not JSON: the test looks at text
        }
        resolve({ status: res.statusCode ?? 0, text, json });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

const json = { 'content-type': 'application/json' };

/** How a WebSocket to the event stream ends: open with the frames it got, or refused with the status and body. */
function openEventSocket(url: string, options: WebSocket.ClientOptions = {}): Promise<{ opened: true; frames: any[] } | { opened: false; status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url.replace(/^http/, 'ws'), options);
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ opened: false, status: res.statusCode ?? 0, body: JSON.parse(body) }));
    });
    ws.on('open', () => {
      const frames: any[] = [];
      ws.on('message', (data) => {
        frames.push(JSON.parse(String(data)));
        // One replayed event is all these tests publish before subscribing.
        ws.close();
        resolve({ opened: true, frames });
      });
    });
    ws.on('error', (err) => {
      if (!String(err.message).includes('Unexpected server response')) reject(err);
    });
  });
}

for (const engine of testEngines()) {
  test(`[${engine}] a write from another origin is refused with 403 naming it, stores nothing and leaves no audit entry; without Origin or from the server's own origin it goes through`, async (t) => {
    const server = await startListeningApp({}, engine);
    t.after(server.close);
    const own = server.url;
    const port = Number(new URL(own).port);

    assert.equal((await send(own, 'PUT', '/api/state/plan', { 'content-type': 'text/plain' }, 'v1')).status, 200);
    assert.equal((await send(own, 'PUT', '/api/state/plan', { 'content-type': 'text/plain' }, 'v2')).status, 200);
    const historyBefore = (await send(own, 'GET', '/api/events/history')).json;

    const attempts: Array<[string, string, Record<string, string>, string | undefined]> = [
      ['POST', '/api/events/publish', json, JSON.stringify({ topic: 'planted.event' })],
      ['PUT', '/api/state/plan', { 'content-type': 'text/plain' }, 'planted'],
      // The finding of issue 16: a "simple" cross-site POST (no body) rolled a key back.
      ['POST', '/api/state/plan?rollback=1', {}, undefined],
      ['DELETE', '/api/state/plan', {}, undefined],
    ];
    for (const origin of [EVIL, 'null', `http://127.0.0.1:${port + 1}`, `http://localhost:${port + 1}`]) {
      for (const [method, path, headers, body] of attempts) {
        const refused = await send(own, method, path, { ...headers, origin }, body);
        assert.equal(refused.status, 403, `${method} ${path} from ${origin}: ${refused.text}`);
        assert.equal(refused.json.reason, 'origin_not_allowed');
        assert.equal(refused.json.error.startsWith(`Origin "${origin}" may not send ${method} requests here`), true, refused.json.error);
      }
    }
    const plan = await send(own, 'GET', '/api/state/plan');
    assert.equal(plan.text, 'v2');
    assert.deepEqual((await send(own, 'GET', '/api/events/history')).json, historyBefore);
    const audit = (await send(own, 'GET', '/api/audit?limit=100')).json as Array<{ outcome: string }>;
    assert.deepEqual(audit.filter((entry) => entry.outcome === 'error'), [], 'the refusals left no audit entries');

    // Reads are not concerned: a page cannot read the answer without CORS, which Koor never sends.
    const read = await send(own, 'GET', '/api/state/plan', { origin: EVIL });
    assert.equal(read.status, 200);

    // The same writes from curl, the CLI or an agent (no Origin), and from the server's own origin.
    assert.equal((await send(own, 'POST', '/api/events/publish', json, JSON.stringify({ topic: 'by.curl' }))).status, 200);
    assert.equal((await send(own, 'POST', '/api/events/publish', { ...json, origin: own }, JSON.stringify({ topic: 'by.own.page' }))).status, 200);
    assert.equal((await send(own, 'POST', '/api/state/plan?rollback=1', { origin: own.replace('127.0.0.1', 'localhost'), host: `localhost:${port}` })).status, 200);
    assert.equal((await send(own, 'GET', '/api/state/plan')).text, 'v1');
    const topics = ((await send(own, 'GET', '/api/events/history')).json as Array<{ topic: string }>).map((e) => e.topic);
    assert.deepEqual(topics.filter((topic) => topic.startsWith('by.')).sort(), ['by.curl', 'by.own.page']);
  });

  test(`[${engine}] a JSON route and the import refuse text/plain, form and multipart bodies with 415 naming the type; raw values still take any type`, async (t) => {
    const server = await startListeningApp({}, engine);
    t.after(server.close);
    const own = server.url;

    // An export that plants a webhook and a _global rule: what the cross-site import of issue 16 sent.
    const scratch = await startTestApp({}, engine);
    t.after(scratch.close);
    await scratch.app.inject({ method: 'POST', url: '/api/webhooks', payload: { id: 'exfil', url: 'http://127.0.0.1:9/hook', patterns: ['*'] } });
    await scratch.app.inject({ method: 'POST', url: '/api/rules/import?project=_global', payload: [{ rule_id: 'planted', pattern: 'x', message: 'planted', source: 'external' }] });
    const dump = (await scratch.app.inject({ method: 'GET', url: '/api/export' })).body;

    for (const type of ['text/plain', 'text/plain;charset=UTF-8', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      const imported = await send(own, 'POST', '/api/import?merge=1', { 'content-type': type }, dump);
      assert.equal(imported.status, 415, imported.text);
      assert.equal(imported.json.error, `POST /api/import takes application/x-ndjson or application/jsonl or application/json, not Content-Type "${type}"`);
      assert.equal(imported.json.reason, 'unsupported_media_type');
      const published = await send(own, 'POST', '/api/events/publish', { 'content-type': type }, JSON.stringify({ topic: 'planted.event' }));
      assert.equal(published.status, 415, published.text);
      assert.equal(published.json.error, `POST /api/events/publish takes application/json, not Content-Type "${type}"`);
    }
    const untyped = await send(own, 'POST', '/api/events/publish', {}, JSON.stringify({ topic: 'planted.event' }));
    assert.equal(untyped.status, 415);
    assert.equal(untyped.json.error, 'POST /api/events/publish needs a body of type application/json, and this one has no Content-Type');
    assert.deepEqual((await send(own, 'GET', '/api/webhooks')).json, []);
    assert.deepEqual((await send(own, 'GET', '/api/validate/_global/rules?status=all')).json.rules, []);
    assert.deepEqual((await send(own, 'GET', '/api/events/history')).json, []);

    // State and spec values are stored with their type, whatever it is.
    const note = await send(own, 'PUT', '/api/state/notes', { 'content-type': 'text/plain' }, 'ship it');
    assert.equal(note.status, 200, note.text);
    assert.equal(note.json.content_type, 'text/plain');
    assert.equal((await send(own, 'PUT', '/api/specs/shop/overview', { 'content-type': 'text/markdown' }, '# Shop')).status, 200);
    // The import as koor-cli restore sends it goes through.
    const restored = await send(own, 'POST', '/api/import?merge=1', { 'content-type': 'application/x-ndjson' }, dump);
    assert.equal(restored.status, 200, restored.text);
    assert.deepEqual(((await send(own, 'GET', '/api/webhooks')).json as Array<{ id: string }>).map((w) => w.id), ['exfil']);
  });

  test(`[${engine}] a WebSocket or event stream from another origin is refused; without Origin, or from the server's own, it replays the history`, async (t) => {
    const server = await startListeningApp({}, engine);
    t.after(server.close);
    assert.equal((await send(server.url, 'POST', '/api/events/publish', json, JSON.stringify({ topic: 'secret.plan', data: { launch: 'tuesday' } }))).status, 200);
    const stream = `${server.url}/api/events/subscribe?after=0`;

    for (const origin of [EVIL, 'null']) {
      const socket = await openEventSocket(stream, { origin });
      assert.equal(socket.opened, false);
      assert.ok(!socket.opened);
      assert.equal(socket.status, 403);
      assert.equal(socket.body.reason, 'origin_not_allowed');
      assert.equal(socket.body.error.startsWith(`Origin "${origin}" may not open a WebSocket here`), true, socket.body.error);
      const sse = await send(server.url, 'GET', '/api/events/subscribe?after=0', { accept: 'text/event-stream', origin });
      assert.equal(sse.status, 403);
      assert.equal(sse.json.error.startsWith(`Origin "${origin}" may not open an event stream here`), true, sse.json.error);
      assert.doesNotMatch(sse.text, /tuesday/);
    }

    for (const options of [{}, { origin: server.url }]) {
      const socket = await openEventSocket(stream, options);
      assert.ok(socket.opened, JSON.stringify(socket));
      assert.equal(socket.frames[0].topic, 'secret.plan');
    }
  });
}

test('in local mode a Host that does not name the server is refused (DNS rebinding); --allowed-hosts names more; /health answers any Host', async (t) => {
  const local = await startListeningApp();
  t.after(local.close);
  const port = Number(new URL(local.url).port);

  const rebound = await send(local.url, 'GET', '/api/state', { host: `evil.example:${port}` });
  assert.equal(rebound.status, 403);
  assert.deepEqual(rebound.json, {
    error: `Host "evil.example:${port}" is not a name of this server (localhost, 127.0.0.1, [::1]): ` +
      'a web page may have pointed its own domain at this machine (DNS rebinding); to reach the server by this name, add it to --allowed-hosts',
    code: 403,
    reason: 'host_not_allowed',
  });
  const write = await send(local.url, 'POST', '/api/events/publish', { ...json, host: `evil.example:${port}` }, JSON.stringify({ topic: 'planted' }));
  assert.equal(write.status, 403);
  const socket = await openEventSocket(`${local.url}/api/events/subscribe?after=0`, { headers: { host: `evil.example:${port}` } });
  assert.ok(!socket.opened);
  assert.equal(socket.status, 403);
  assert.equal(socket.body.reason, 'host_not_allowed');
  assert.deepEqual((await send(local.url, 'GET', '/api/events/history')).json, []);

  // The server's own names, on any port (port forwarding shows clients another one).
  for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, 'localhost:8080', 'LOCALHOST']) {
    assert.equal((await send(local.url, 'GET', '/api/state', { host })).status, 200, host);
  }
  const health = await send(local.url, 'GET', '/health', { host: 'evil.example' });
  assert.equal(health.status, 200);
  assert.equal(health.json.status, 'ok');

  const named = await startListeningApp({ allowedHosts: ['box.lan'] });
  t.after(named.close);
  assert.equal((await send(named.url, 'GET', '/api/state', { host: 'box.lan:9800' })).status, 200);
  assert.equal((await send(named.url, 'POST', '/api/events/publish', { ...json, host: 'box.lan:9800', origin: 'http://box.lan:9800' }, JSON.stringify({ topic: 'from.lan' }))).status, 200);
  assert.equal((await send(named.url, 'GET', '/api/state', { host: 'evil.example' })).status, 403);
});

test('with an auth token, Host is checked only once --allowed-hosts is set, and Origin always', async (t) => {
  const auth = { authorization: 'Bearer s3cret' };
  const open = await startListeningApp({ authToken: 's3cret' });
  t.after(open.close);
  assert.equal((await send(open.url, 'GET', '/api/state', { ...auth, host: 'koor.example.com' })).status, 200);
  const crossSite = await send(open.url, 'POST', '/api/events/publish', { ...auth, ...json, origin: EVIL }, JSON.stringify({ topic: 'x' }));
  assert.equal(crossSite.status, 403);
  assert.equal(crossSite.json.reason, 'origin_not_allowed');
  // Behind a reverse proxy that keeps Host, the public origin is the server's own.
  assert.equal((await send(open.url, 'POST', '/api/events/publish', { ...auth, ...json, host: 'koor.example.com', origin: 'https://koor.example.com' }, JSON.stringify({ topic: 'x' }))).status, 200);

  const listed = await startListeningApp({ authToken: 's3cret', allowedHosts: ['koor.example.com'], allowedOrigins: ['https://app.example'] });
  t.after(listed.close);
  assert.equal((await send(listed.url, 'GET', '/api/state', { ...auth, host: 'koor.example.com' })).status, 200);
  const other = await send(listed.url, 'GET', '/api/state', { ...auth, host: 'evil.example' });
  assert.equal(other.status, 403);
  assert.equal(other.json.reason, 'host_not_allowed');
  assert.equal((await send(listed.url, 'POST', '/api/events/publish', { ...auth, ...json, origin: 'https://app.example' }, JSON.stringify({ topic: 'x' }))).status, 200);
  assert.equal((await send(listed.url, 'POST', '/api/events/publish', { ...auth, ...json, origin: 'http://app.example' }, JSON.stringify({ topic: 'x' }))).status, 403);
});

test('/mcp refuses a foreign Origin or Host; an MCP client that sends neither works', async (t) => {
  const server = await startListeningApp();
  t.after(server.close);
  const initialize = JSON.stringify({
    jsonrpc: '2.0', id: 1, method: 'initialize',
    params: { protocolVersion: '2025-03-26', capabilities: {}, clientInfo: { name: 'page', version: '1' } },
  });
  const mcpHeaders = { ...json, accept: 'application/json, text/event-stream' };
  const crossSite = await send(server.url, 'POST', '/mcp', { ...mcpHeaders, origin: EVIL }, initialize);
  assert.equal(crossSite.status, 403);
  assert.equal(crossSite.json.reason, 'origin_not_allowed');
  const rebound = await send(server.url, 'POST', '/mcp', { ...mcpHeaders, host: 'evil.example' }, initialize);
  assert.equal(rebound.status, 403);
  assert.equal(rebound.json.reason, 'host_not_allowed');

  const refusedClient = new Client({ name: 'page', version: '1' });
  await assert.rejects(refusedClient.connect(new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`), { requestInit: { headers: { origin: EVIL } } })), /403|origin/i);

  const client = new Client({ name: 'agent', version: '1' });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`)));
  t.after(() => client.close());
  const { tools } = await client.listTools();
  assert.ok(tools.some((tool) => tool.name === 'register_instance'), tools.map((tool) => tool.name).join(', '));
});

test('the dashboard holds its visitors to the same checks, and forwards what passes to the API', async (t) => {
  const stack = await startDashboardStack();
  t.after(stack.close);
  const dashboard = stack.dashboard.url;
  const port = Number(new URL(dashboard).port);
  const publish = (headers: Record<string, string>, topic: string) => send(dashboard, 'POST', '/api/events/publish', { ...json, ...headers }, JSON.stringify({ topic }));

  const crossSite = await publish({ origin: EVIL }, 'planted.cross.site');
  assert.equal(crossSite.status, 403);
  assert.equal(crossSite.json.reason, 'origin_not_allowed');
  const rebound = await send(dashboard, 'GET', '/api/state', { host: `evil.example:${port}` });
  assert.equal(rebound.status, 403);
  assert.equal(rebound.json.reason, 'host_not_allowed');
  const relayed = await openEventSocket(`${dashboard}/api/events/subscribe?after=0`, { origin: EVIL });
  assert.ok(!relayed.opened);
  assert.equal(relayed.status, 403);
  const textImport = await send(dashboard, 'POST', '/api/import?merge=1', { 'content-type': 'text/plain' }, '{}\n');
  assert.equal(textImport.status, 415, 'the API judges the body the dashboard forwards');

  // The dashboard's own pages: their Origin is the dashboard's, and the API takes what it forwards.
  assert.equal((await publish({ origin: dashboard }, 'from.dashboard')).status, 200);
  assert.equal((await publish({}, 'from.curl')).status, 200);
  const socket = await openEventSocket(`${dashboard}/api/events/subscribe?after=0`, { origin: dashboard });
  assert.ok(socket.opened);
  assert.equal(socket.frames[0].topic, 'from.dashboard');
  const topics = ((await send(stack.api.url, 'GET', '/api/events/history')).json as Array<{ topic: string }>).map((e) => e.topic);
  assert.deepEqual(topics.sort(), ['from.curl', 'from.dashboard']);
});

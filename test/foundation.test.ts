import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { startListeningApp, startTestApp, testEngines } from './support/app.js';

for (const engine of testEngines()) {
  test(`health, errors and OpenAPI on ${engine}`, async (t) => {
    const { app, close } = await startTestApp({}, engine);
    t.after(close);

    const health = await app.inject({ method: 'GET', url: '/health' });
    assert.equal(health.statusCode, 200);
    assert.equal(health.json().status, 'ok');
    assert.match(health.json().uptime, /^\d+s$/);

    const missing = await app.inject({ method: 'GET', url: '/api/nope' });
    assert.equal(missing.statusCode, 404);
    assert.deepEqual(missing.json(), { error: 'no route for GET /api/nope', code: 404, reason: 'no_route' });

    const openapi = await app.inject({ method: 'GET', url: '/api/openapi.json' });
    assert.equal(openapi.statusCode, 200);
    assert.equal(openapi.json().openapi, '3.0.3');
    assert.ok(openapi.json().paths['/health']);
  });
}

test('with an auth token, requests need the bearer and /health stays open', async (t) => {
  const { app, close } = await startTestApp({ authToken: 's3cret' });
  t.after(close);
  const open = await app.inject({ method: 'GET', url: '/health' });
  assert.equal(open.statusCode, 200);
  const denied = await app.inject({ method: 'GET', url: '/api/openapi.json' });
  assert.equal(denied.statusCode, 401);
  assert.deepEqual(denied.json(), { error: 'invalid or missing bearer token', code: 401, reason: 'unauthorized' });
  assert.equal(denied.headers['www-authenticate'], 'Bearer realm="koor"', 'a 401 names the scheme (RFC 6750)');
  const mcp = await app.inject({ method: 'POST', url: '/mcp', payload: { jsonrpc: '2.0', id: 1, method: 'tools/list' } });
  assert.equal(mcp.statusCode, 401);
  assert.equal(mcp.headers['www-authenticate'], 'Bearer realm="koor"', 'MCP clients are told a bearer token is wanted, not OAuth');
  const wrong = await app.inject({ method: 'GET', url: '/api/openapi.json', headers: { authorization: 'Bearer nope' } });
  assert.equal(wrong.statusCode, 401);
  const allowed = await app.inject({ method: 'GET', url: '/api/openapi.json', headers: { authorization: 'Bearer s3cret' } });
  assert.equal(allowed.statusCode, 200);
});

test('router-level errors keep the {error, code} shape', async (t) => {
  const { app, close } = await startTestApp();
  t.after(close);
  const badEscape = await app.inject({ method: 'GET', url: '/api/specs/%ZZ' });
  assert.equal(badEscape.statusCode, 400);
  assert.deepEqual(badEscape.json(), { error: 'malformed URL: invalid percent-encoding in the path', code: 400, reason: 'bad_request' });
  const longSegment = await app.inject({ method: 'GET', url: `/api/specs/${'p'.repeat(500)}` });
  assert.equal(longSegment.json().code, longSegment.statusCode);
  assert.equal(typeof longSegment.json().error, 'string');
});

test('malformed JSON and oversized bodies are clear 4xx answers', async (t) => {
  const { app, close } = await startTestApp();
  t.after(close);
  const malformed = await app.inject({ method: 'POST', url: '/api/events/publish', headers: { 'content-type': 'application/json' }, payload: '{"topic":' });
  assert.equal(malformed.statusCode, 400);
  assert.match(malformed.json().error, /^malformed JSON body/);
  const huge = await app.inject({ method: 'POST', url: '/api/events/publish', headers: { 'content-type': 'application/json' }, payload: `{"topic":"a","data":"${'x'.repeat(10 * 1024 * 1024)}"}` });
  assert.equal(huge.statusCode, 413);
  assert.deepEqual(huge.json(), { error: 'request body exceeds the 10 MB limit', code: 413, reason: 'payload_too_large' });
});

test('JSON nested thousands of levels deep is a 400, not a 500, and stores nothing', async (t) => {
  const { url, close } = await startListeningApp();
  t.after(close);
  const nested = (levels: number) => '['.repeat(levels) + ']'.repeat(levels);
  const post = (path: string, body: string, method = 'POST') =>
    fetch(`${url}${path}`, { method, headers: { 'content-type': 'application/json' }, body });

  // Parsing copes with any depth; storing and sending such an event used to overflow the stack.
  for (const levels of [5_000, 1_000_000]) {
    const deep = await post('/api/events/publish', `{"topic":"agent.deep","data":${nested(levels)}}`);
    assert.equal(deep.status, 400);
    assert.deepEqual(await deep.json(), { error: 'request body is nested more than 256 levels deep', code: 400, reason: 'bad_request' });
  }
  // Up to the limit is fine, and the event comes back whole.
  const fine = await post('/api/events/publish', `{"topic":"agent.deep","data":${nested(255)}}`);
  assert.equal(fine.status, 200);
  assert.deepEqual((await fine.json()).data, JSON.parse(nested(255)));
  const history = (await (await fetch(`${url}/api/events/history?topic=agent.deep`)).json()) as unknown[];
  assert.equal(history.length, 1);

  // State values are stored as sent, however deep; a diff of such versions is refused clearly.
  assert.equal((await post('/api/state/deep/doc', nested(5_000), 'PUT')).status, 200);
  assert.equal((await post('/api/state/deep/doc', nested(5_001), 'PUT')).status, 200);
  const diff = await fetch(`${url}/api/state/deep/doc?diff=1,2`);
  assert.equal(diff.status, 400);
  assert.match(((await diff.json()) as { error: string }).error, /version 1 of state key "deep\/doc" is nested more than 256 levels deep/);
  assert.equal((await (await fetch(`${url}/api/state/deep/doc`)).text()).length, 10_002);
});

/** Sends raw bytes to the server and resolves with everything it answers, once it closes. */
function rawExchange(url: string, bytes: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(bytes));
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk));
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
  });
}

const bodyOf = (answer: string) => JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as unknown;

test("requests Node's HTTP parser refuses, or that never finish arriving, get the {error, code} shape", async (t) => {
  const { url, close } = await startListeningApp({ requestTimeoutMs: 500, bodyIdleTimeoutMs: 500 });
  t.after(close);

  const malformed = await rawExchange(url, 'GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n');
  assert.match(malformed, /^HTTP\/1\.1 400 /);
  assert.deepEqual(bodyOf(malformed), { error: 'malformed HTTP request (HPE_INVALID_HEADER_TOKEN)', code: 400, reason: 'malformed_http' });

  const huge = await rawExchange(url, `GET /${'a'.repeat(100_000)} HTTP/1.1\r\nHost: x\r\n\r\n`);
  assert.match(huge, /^HTTP\/1\.1 431 /);
  assert.deepEqual(bodyOf(huge), { error: 'request headers are too large (the limit is 16 KB in all)', code: 431, reason: 'headers_too_large' });

  // A body that stops coming: answered once it has been silent for the body idle timeout (Node's
  // own request timeout only cut it after about a minute), and the connection closed.
  const stalled = await rawExchange(url, 'PUT /api/state/slow HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\nonly ten b');
  assert.match(stalled, /^HTTP\/1\.1 408 /);
  assert.deepEqual(bodyOf(stalled), { error: 'request body stalled: no data for 500 ms', code: 408, reason: 'request_timeout' });
  assert.equal((await fetch(`${url}/api/state/slow`)).status, 404);
});

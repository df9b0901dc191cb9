import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { WebSocket } from 'ws';
import { startDashboardStack } from './support/dashboard.js';
import { startDashboard } from '../src/dashboard/server.js';

/** Opens a WebSocket and resolves with the first JSON frame, or rejects with the close code. */
function firstFrame(url: string, headers: Record<string, string> = {}): { opened: Promise<void>; frame: Promise<unknown>; socket: WebSocket } {
  const socket = new WebSocket(url, { headers });
  const opened = new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  const frame = new Promise<unknown>((resolve, reject) => {
    socket.once('message', (data) => resolve(JSON.parse(String(data))));
    socket.once('close', (code, reason) => reject(Object.assign(new Error(`closed ${code} ${reason}`), { code, reason: String(reason) })));
  });
  return { opened, frame, socket };
}

test('the dashboard serves its page and the vendored libraries, and nothing outside its folder', async (t) => {
  const stack = await startDashboardStack();
  t.after(stack.close);
  const base = stack.dashboard.url;

  const index = await fetch(`${base}/`);
  assert.equal(index.status, 200);
  assert.match(index.headers.get('content-type') ?? '', /^text\/html/);
  const html = await index.text();
  assert.match(html, /<script type="importmap">/);
  assert.doesNotMatch(html, /https?:\/\/(?!www\.w3\.org)/, 'the page loads nothing from the network');

  for (const path of ['/app.js', '/style.css', '/vendor/preact.mjs', '/vendor/preact-hooks.mjs', '/vendor/htm.mjs', '/vendor/uplot.mjs', '/vendor/uplot.css']) {
    const response = await fetch(`${base}${path}`);
    assert.equal(response.status, 200, path);
    assert.ok((await response.text()).length > 100, `${path} has content`);
  }
  const js = await fetch(`${base}/vendor/preact.mjs`);
  assert.match(js.headers.get('content-type') ?? '', /^text\/javascript/);

  for (const path of ['/../package.json', '/%2e%2e/%2e%2e/package.json', '/nope.js']) {
    const response = await fetch(`${base}${path}`);
    assert.equal(response.status, 404, path);
    assert.match((await response.json()).error, /no dashboard file/);
  }
  const post = await fetch(`${base}/index.html`, { method: 'POST' });
  assert.equal(post.status, 405);
});

test('the dashboard proxies /api/* with method, headers and body, and auth stays with the API', async (t) => {
  const stack = await startDashboardStack({ authToken: 'open-sesame' });
  t.after(stack.close);
  const base = stack.dashboard.url;
  const bearer = { authorization: 'Bearer open-sesame' };

  const denied = await fetch(`${base}/api/state`);
  assert.equal(denied.status, 401);
  assert.deepEqual(await denied.json(), { error: 'invalid or missing bearer token', code: 401, reason: 'unauthorized' });

  const health = await fetch(`${base}/health`);
  assert.equal(health.status, 200);
  assert.equal((await health.json()).status, 'ok');

  const put = await fetch(`${base}/api/state/team/plan`, { method: 'PUT', headers: { ...bearer, 'content-type': 'application/json' }, body: '{"step":1}' });
  assert.equal(put.status, 200);
  assert.equal((await put.json()).version, 1);

  const read = await fetch(`${base}/api/state/team/plan`, { headers: bearer });
  assert.equal(read.status, 200);
  assert.equal(read.headers.get('x-koor-version'), '1');
  assert.deepEqual(await read.json(), { step: 1 });

  // A conditional write keeps its If-Match through the proxy.
  const stale = await fetch(`${base}/api/state/team/plan`, { method: 'PUT', headers: { ...bearer, 'if-match': '7', 'content-type': 'application/json' }, body: '{"step":2}' });
  assert.equal(stale.status, 412);
  assert.equal((await stale.json()).code, 412);
});

test('the dashboard answers 502 with a clear error when the API is gone', async (t) => {
  const stack = await startDashboardStack();
  t.after(stack.close);
  await stack.api.app.close();
  const response = await fetch(`${stack.dashboard.url}/api/state`);
  assert.equal(response.status, 502);
  assert.match((await response.json()).error, /dashboard cannot reach the API/);
});

test('the event stream WebSocket is relayed to the API, ?token= included', async (t) => {
  const stack = await startDashboardStack({ authToken: 'open-sesame' });
  t.after(stack.close);
  const wsBase = stack.dashboard.url.replace('http', 'ws');

  const published = await fetch(`${stack.api.url}/api/events/publish`, {
    method: 'POST',
    headers: { authorization: 'Bearer open-sesame', 'content-type': 'application/json' },
    body: JSON.stringify({ topic: 'deploy.finished', data: { build: 42 }, source: 'ci' }),
  });
  assert.equal(published.status, 200);
  // ?after=0 replays the stored event through the relay, so no timing is involved.
  const live = firstFrame(`${wsBase}/api/events/subscribe?pattern=deploy.*&after=0&token=open-sesame`);
  t.after(() => live.socket.terminate());
  const received = await live.frame;
  assert.equal((received as { topic: string }).topic, 'deploy.finished');
  assert.equal((received as { source: string }).source, 'ci');
  assert.deepEqual((received as { data: unknown }).data, { build: 42 });

  const refused = firstFrame(`${wsBase}/api/events/subscribe?pattern=*&token=wrong`);
  await assert.rejects(refused.frame, (err: { code: number; reason: string }) => {
    assert.equal(err.code, 4401);
    assert.match(err.reason, /bearer token/);
    return true;
  });

  // Shutting the dashboard down says goodbye to open streams with a close frame.
  const open = firstFrame(`${wsBase}/api/events/subscribe?pattern=none.*&token=open-sesame`);
  await open.opened;
  const goodbye = assert.rejects(open.frame, (err: { code: number }) => {
    assert.equal(err.code, 1001);
    return true;
  });
  await stack.dashboard.close();
  await goodbye;
});

test('startDashboard logs and skips a dashboard whose address is taken, leaving the API up', async (t) => {
  const stack = await startDashboardStack();
  t.after(stack.close);
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => blocker.close(() => resolve())));
  const port = (blocker.address() as { port: number }).port;

  const dashboard = await startDashboard(stack.api.app, `127.0.0.1:${port}`);
  assert.equal(dashboard, undefined);
  const health = await fetch(`${stack.api.url}/health`);
  assert.equal(health.status, 200);

  const started = await startDashboard(stack.api.app, '127.0.0.1:0');
  assert.ok(started);
  t.after(() => started.close());
  const page = await fetch(`${started.url}/`);
  assert.equal(page.status, 200);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer } from 'node:net';
import { randomBytes } from 'node:crypto';
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

/**
 * Sends one raw request to host:port and resolves with the answer's status line and text: at
 * once for a 101 (the upgrade happened), else when the server closes the connection.
 */
function rawRequest(port: number, text: string): Promise<{ status: number; answer: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(text));
    let answer = '';
    const done = () => {
      socket.destroy();
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0), answer });
    };
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      answer += chunk;
      if (/^HTTP\/1\.1 101 /.test(answer) && answer.includes('\r\n\r\n')) done();
    });
    socket.on('close', done);
    socket.on('error', reject);
  });
}

test('the dashboard connects to nothing but its API, whatever the request line names', async (t) => {
  // A decoy on another port: any connection to it means the dashboard was steered away from its API.
  let decoyConnections = 0;
  const decoy = createServer((socket) => {
    decoyConnections++;
    socket.end('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\ndecoy');
  });
  await new Promise<void>((resolve) => decoy.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => decoy.close(() => resolve())));
  const decoyAt = `127.0.0.1:${(decoy.address() as { port: number }).port}`;

  const stack = await startDashboardStack();
  t.after(stack.close);
  const port = Number(new URL(stack.dashboard.url).port);
  const plain = 'Connection: close\r\n';
  const upgrade = `Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\n`;
  const ask = (target: string, headers: string, host = `127.0.0.1:${port}`) =>
    rawRequest(port, `GET ${target} HTTP/1.1\r\nHost: ${host}\r\n${headers}\r\n`);

  // The same raw requests do reach the API when they name an API path.
  assert.equal((await ask('/api/state', plain)).status, 200);

  const steering = [
    `//${decoyAt}/api/x`,
    `//${decoyAt}/api/events/subscribe`,
    `http://${decoyAt}/api/x`,
    `http://${decoyAt}/api/events/subscribe`,
    `/api//${decoyAt}/x`,
    `/api/..%2F..%2F%2F${decoyAt}/x`,
    `/api/%2F%2F${decoyAt}/x`,
    `/health//${decoyAt}/`,
    `/api/events/subscribe/..//${decoyAt}/`,
  ];
  for (const target of steering) {
    for (const headers of [plain, upgrade]) {
      const { status, answer } = await ask(target, headers);
      assert.ok(status >= 400 && status < 500, `GET ${target} ${headers === upgrade ? 'with' : 'without'} Upgrade answered ${status}: ${answer}`);
      assert.doesNotMatch(answer, /decoy/);
    }
  }
  // A Host header naming the decoy does not move the event stream relay either: it goes to the API.
  const relayed = await ask('/api/events/subscribe?pattern=*', upgrade, decoyAt);
  assert.equal(relayed.status, 101);
  assert.equal(decoyConnections, 0, 'the dashboard never connected to the decoy');
});

test('the dashboard refuses a WebSocket upgrade anywhere but the event stream', async (t) => {
  const stack = await startDashboardStack();
  t.after(stack.close);
  const port = Number(new URL(stack.dashboard.url).port);
  const key = randomBytes(16).toString('base64');
  for (const path of ['/', '/app.js', '/api/state', '/health']) {
    const { status, answer } = await rawRequest(port,
      `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${key}\r\n\r\n`);
    assert.equal(status, 404, path);
    const body = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as { error: string; reason: string };
    assert.equal(body.error, `no WebSocket endpoint at ${path}`);
    assert.equal(body.reason, 'no_route');
  }
});

test('dashboard files are revalidated, never cached stale, and answer HEAD and conditional requests', async (t) => {
  const stack = await startDashboardStack();
  t.after(stack.close);
  const base = stack.dashboard.url;
  const page = await fetch(`${base}/app.js`);
  assert.equal(page.status, 200);
  assert.equal(page.headers.get('cache-control'), 'no-cache');
  assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
  assert.equal(page.headers.get('referrer-policy'), 'no-referrer');
  assert.match(page.headers.get('content-type') ?? '', /^text\/javascript/);
  const etag = page.headers.get('etag');
  assert.ok(etag, 'an ETag to revalidate with');
  // Raw, because fetch() adds Cache-Control: no-cache to a request with If-None-Match.
  const port = Number(new URL(base).port);
  const again = await rawRequest(port, `GET /app.js HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nIf-None-Match: ${etag}\r\nConnection: close\r\n\r\n`);
  assert.equal(again.status, 304);
  const head = await fetch(`${base}/`, { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.match(head.headers.get('content-type') ?? '', /^text\/html/);
  assert.equal(await head.text(), '');
});

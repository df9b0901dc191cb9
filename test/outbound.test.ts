import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { startListeningApp, testEngines } from './support/app.js';
import { startReceiver } from './support/webhook-receiver.js';
import { CliWorkspace } from './support/cli.js';
import { ConfigError, loadConfig } from '../src/server/config.js';
import { startDashboard } from '../src/dashboard/server.js';

/** One request over real HTTP, as curl makes it: answers the status and the parsed JSON. */
async function call(base: string, method: string, path: string, options: { body?: unknown; bearer?: string } = {}): Promise<{ status: number; json: any; text: string }> {
  const headers: Record<string, string> = {};
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (options.bearer) headers.authorization = `Bearer ${options.bearer}`;
  const response = await fetch(`${base}${path}`, { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) });
  const text = await response.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    // An export is JSON lines, not one document.
  }
  return { status: response.status, json, text };
}

/** A local service that counts the requests it gets. */
async function service(handle: (req: IncomingMessage, res: ServerResponse) => void) {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    handle(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    hits,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

const CONTRACT = {
  kind: 'contract',
  version: '1',
  endpoints: { 'GET /orders': { response: { id: { type: 'integer', required: true } }, response_array: true } },
};

test('webhooks may not target link-local, multicast or unspecified addresses, nor the server itself, however the address is written', async (t) => {
  const { url, app, close } = await startListeningApp();
  t.after(close);
  const port = app.server.address() as AddressInfo;
  const receiver = await startReceiver();
  t.after(() => receiver.close());
  const own = `this server's own API; a call to itself could loop`;

  const refused: [string, string][] = [
    ['http://169.254.169.254/latest/meta-data/', 'link-local 169.254.0.0/16'],
    ['http://[::ffff:169.254.169.254]/', 'link-local 169.254.0.0/16'],
    ['http://[64:ff9b::a9fe:a9fe]/', 'link-local 169.254.0.0/16'],
    ['http://2852039166/', 'link-local 169.254.0.0/16'],
    ['http://[fe80::1]/', 'link-local fe80::/10'],
    ['http://224.0.0.1/', 'multicast 224.0.0.0/4'],
    ['http://[ff02::1]/', 'multicast ff00::/8'],
    ['http://0.0.0.0:8080/', 'unspecified 0.0.0.0/8'],
    [`http://0x7f000001:${port.port}/api/events/publish`, `127.0.0.1:${port.port} is ${own}`],
    [`http://[::1]:${port.port}/api/events/publish`, `[::1]:${port.port} is ${own}`],
    [`${url}/api/events/publish`, `127.0.0.1:${port.port} is ${own}`],
  ];
  for (const [target, reason] of refused) {
    const created = await call(url, 'POST', '/api/webhooks', { body: { id: 'hook', url: target } });
    assert.equal(created.status, 400, target);
    assert.deepEqual(created.json, {
      error: `webhook url ${target} is denied by the outbound policy (${reason})`,
      code: 400,
      reason: 'outbound_denied',
    });
  }
  // A name that resolves to the server's own address is the server too.
  const byName = await call(url, 'POST', '/api/webhooks', { body: { id: 'hook', url: `http://localhost:${port.port}/api/events/publish` } });
  assert.equal(byName.status, 400);
  assert.match(byName.json.error, new RegExp(`^webhook url http://localhost:${port.port}/api/events/publish is denied by the outbound policy \\(.*this server's own API`));

  // The dashboard forwards /api to the API: it is the server too.
  const dashboard = await startDashboard(app, '127.0.0.1:0');
  t.after(() => dashboard!.close());
  const dashboardPort = new URL(dashboard!.url).port;
  const viaDashboard = await call(url, 'POST', '/api/webhooks', { body: { id: 'hook', url: `${dashboard!.url}/api/events/publish` } });
  assert.equal(viaDashboard.json.error, `webhook url ${dashboard!.url}/api/events/publish is denied by the outbound policy (127.0.0.1:${dashboardPort} is this server's own dashboard; a call to itself could loop)`);

  // A live test may not call the server's own API either.
  assert.equal((await call(url, 'PUT', '/api/specs/shop/orders', { body: CONTRACT })).status, 200);
  const selfTest = await call(url, 'POST', '/api/contracts/shop/orders/test', { body: { endpoint: 'GET /orders', base_url: `http://127.0.0.1:${port.port}/api/state` } });
  assert.equal(selfTest.status, 400);
  assert.equal(selfTest.json.error, `base_url http://127.0.0.1:${port.port}/api/state is denied by the outbound policy (127.0.0.1:${port.port} is ${own})`);

  // Two webhooks feeding each other's events back into the publish route: neither is created.
  for (const id of ['loop-a', 'loop-b']) {
    const loop = await call(url, 'POST', '/api/webhooks', { body: { id, url: `${url}/api/events/publish`, patterns: ['*'] } });
    assert.equal(loop.status, 400);
  }
  assert.deepEqual((await call(url, 'GET', '/api/webhooks')).json, []);

  // Loopback services other than this one are what local development is for.
  const local = await call(url, 'POST', '/api/webhooks', { body: { id: 'local', url: receiver.url } });
  assert.equal(local.status, 200, local.text);
  assert.equal((await call(url, 'POST', '/api/webhooks', { body: { id: 'v6', url: `http://[::1]:${port.port + 1}/hook` } })).status, 200);
  const tested = await call(url, 'POST', '/api/webhooks/local/test');
  assert.deepEqual(tested.json, { tested: 'local', status: 'ok' });
  assert.equal(receiver.requests.length, 1);
});

test('a host name is checked on the address it resolves to when connecting: DNS rebinding does not get round the policy', async (t) => {
  const { url, app, close } = await startListeningApp({});
  t.after(close);
  const apiPort = (app.server.address() as AddressInfo).port;
  const receiver = await startReceiver();
  t.after(() => receiver.close());
  const receiverPort = new URL(receiver.url).port;
  // A DNS server under an attacker's control: a harmless answer while the webhook is checked,
  // another one later.
  const answers: Record<string, string> = { 'hooks.rebind.test': '127.0.0.1', 'loop.rebind.test': '10.200.0.1' };
  const system = app.koor.outbound.resolve;
  app.koor.outbound.resolve = async (host) => (host in answers ? [{ address: answers[host]!, family: answers[host]!.includes(':') ? 6 : 4 }] : system(host));

  const created = await call(url, 'POST', '/api/webhooks', { body: { id: 'rebind', url: `http://hooks.rebind.test:${receiverPort}/hook`, patterns: ['none.*'] } });
  assert.equal(created.status, 200, created.text);
  assert.deepEqual((await call(url, 'POST', '/api/webhooks/rebind/test')).json, { tested: 'rebind', status: 'ok' });
  assert.equal(receiver.requests.length, 1);

  answers['hooks.rebind.test'] = '169.254.169.254';
  const rebound = await call(url, 'POST', '/api/webhooks/rebind/test');
  assert.equal(rebound.status, 400);
  assert.deepEqual(rebound.json, {
    error: `webhook test failed for rebind: http://hooks.rebind.test:${receiverPort}/hook is denied by the outbound policy (hooks.rebind.test resolves to 169.254.169.254: link-local 169.254.0.0/16)`,
    code: 400,
    reason: 'outbound_denied',
  });
  answers['hooks.rebind.test'] = '::ffff:169.254.169.254';
  assert.match((await call(url, 'POST', '/api/webhooks/rebind/test')).json.error, /resolves to 169\.254\.169\.254: link-local 169\.254\.0\.0\/16/);
  assert.equal(receiver.requests.length, 1, 'nothing more reached the receiver');

  // A name that turns into the server's own address once stored: its delivery is refused, so
  // one published event stays one event.
  const loop = await call(url, 'POST', '/api/webhooks', { body: { id: 'loop', url: `http://loop.rebind.test:${apiPort}/api/events/publish`, patterns: ['loop.*'] } });
  assert.equal(loop.status, 200, loop.text);
  answers['loop.rebind.test'] = '127.0.0.1';
  assert.equal((await call(url, 'POST', '/api/events/publish', { body: { topic: 'loop.start', data: { n: 1 } } })).status, 200);
  let hook: { fail_count: number } | undefined;
  while (!hook || hook.fail_count === 0) {
    hook = ((await call(url, 'GET', '/api/webhooks')).json as { id: string; fail_count: number }[]).find((h) => h.id === 'loop');
    if (hook?.fail_count === 0) await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const history = (await call(url, 'GET', '/api/events/history?topic=loop.*')).json as unknown[];
  assert.equal(history.length, 1, 'the event did not come back');
});

test('--outbound-deny 127.0.0.0/8 turns a live test, a webhook and a compliance check against a local service into the policy\'s refusal', async (t) => {
  const local = await service((_req, res) => res.setHeader('content-type', 'application/json').end('[{"id":1}]'));
  t.after(local.close);
  const { url, close } = await startListeningApp({ outboundDeny: ['127.0.0.0/8', '::1'] });
  t.after(close);
  assert.equal((await call(url, 'PUT', '/api/specs/shop/orders', { body: CONTRACT })).status, 200);

  const live = await call(url, 'POST', '/api/contracts/shop/orders/test', { body: { endpoint: 'GET /orders', base_url: local.url } });
  assert.equal(live.status, 400);
  assert.deepEqual(live.json, { error: `base_url ${local.url} is denied by the outbound policy (--outbound-deny 127.0.0.0/8)`, code: 400, reason: 'outbound_denied' });
  const byName = await call(url, 'POST', '/api/contracts/shop/orders/test', { body: { endpoint: 'GET /orders', base_url: `http://localhost:${local.port}` } });
  assert.equal(byName.status, 400);
  assert.match(byName.json.error, new RegExp(`^base_url http://localhost:${local.port} is denied by the outbound policy \\(localhost resolves to (127\\.0\\.0\\.1: --outbound-deny 127\\.0\\.0\\.0/8|::1: --outbound-deny ::1)\\)$`));

  const hook = await call(url, 'POST', '/api/webhooks', { body: { id: 'local', url: `${local.url}/hook` } });
  assert.equal(hook.status, 400);
  assert.equal(hook.json.error, `webhook url ${local.url}/hook is denied by the outbound policy (--outbound-deny 127.0.0.0/8)`);

  const registered = await call(url, 'POST', '/api/instances/register', { body: { name: 'shop-agent', workspace: 'shop', base_url: local.url } });
  assert.equal(registered.status, 200, registered.text);
  assert.equal((await call(url, 'POST', `/api/instances/${registered.json.id}/activate`)).status, 200);
  const run = await call(url, 'POST', '/api/compliance/run');
  assert.equal(run.status, 200, run.text);
  assert.equal(run.json.runs.length, 1);
  assert.equal(run.json.runs[0].pass, false);
  assert.deepEqual(run.json.runs[0].violations, [
    { endpoint: 'GET /orders', path: '$', message: `base_url ${local.url} is denied by the outbound policy (--outbound-deny 127.0.0.0/8)` },
  ]);

  assert.deepEqual(local.hits, [], 'the service was never called');
});

test('an allow entry punches a hole in a wider deny; a host name in --outbound-deny is refused whatever it resolves to', async (t) => {
  const { url, close } = await startListeningApp({ outboundDeny: ['0.0.0.0/0', '::/0', 'metadata.google.internal'], outboundAllow: ['127.0.0.1'] });
  t.after(close);
  const receiver = await startReceiver();
  t.after(() => receiver.close());
  assert.equal((await call(url, 'POST', '/api/webhooks', { body: { id: 'allowed', url: receiver.url } })).status, 200);
  const other = await call(url, 'POST', '/api/webhooks', { body: { id: 'other', url: 'http://10.1.2.3/hook' } });
  assert.equal(other.json.error, 'webhook url http://10.1.2.3/hook is denied by the outbound policy (--outbound-deny 0.0.0.0/0)');
  const named = await call(url, 'POST', '/api/webhooks', { body: { id: 'meta', url: 'http://Metadata.Google.Internal/computeMetadata/v1/' } });
  assert.equal(named.json.error, 'webhook url http://Metadata.Google.Internal/computeMetadata/v1/ is denied by the outbound policy (--outbound-deny metadata.google.internal)');
  // The built-in denials stay whatever else is allowed.
  const { url: wide, close: closeWide } = await startListeningApp({ outboundAllow: ['10.0.0.0/8', '*.internal'] });
  t.after(closeWide);
  assert.match((await call(wide, 'POST', '/api/webhooks', { body: { id: 'm', url: 'http://169.254.169.254/' } })).json.error, /\(link-local 169\.254\.0\.0\/16\)$/);
});

test('the outbound lists are settings: flag (repeatable, comma-separated), environment, config file; a bad entry stops the server', () => {
  const config = loadConfig(['--outbound-deny', '127.0.0.0/8', '--outbound-deny', 'metadata.internal, 10.1.0.0/16'], { KOOR_OUTBOUND_ALLOW: '169.254.170.2,*.corp.example' });
  assert.deepEqual(config.outboundDeny, ['127.0.0.0/8', 'metadata.internal', '10.1.0.0/16']);
  assert.deepEqual(config.outboundAllow, ['169.254.170.2', '*.corp.example']);
  assert.deepEqual(loadConfig([], {}).outboundDeny, []);
  const dir = mkdtempSync(join(tmpdir(), 'koor-outbound-'));
  try {
    const file = join(dir, 'settings.json');
    writeFileSync(file, JSON.stringify({ outbound_deny: ['127.0.0.0/8', '::1'], outbound_allow: '10.1.0.0/16' }));
    const fromFile = loadConfig(['--config', file], {});
    assert.deepEqual([fromFile.outboundDeny, fromFile.outboundAllow], [['127.0.0.0/8', '::1'], ['10.1.0.0/16']]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.throws(() => loadConfig(['--outbound-deny', '10.0.0.0/33'], {}), (err: Error) =>
    err instanceof ConfigError && err.message === 'invalid --outbound-deny: "10.0.0.0/33" is neither a CIDR (10.0.0.0/8, fd00::/8), an IP address, nor a host name (example.com, *.example.com)');
  assert.throws(() => loadConfig([], { KOOR_OUTBOUND_ALLOW: 'http://x/' }), /invalid KOOR_OUTBOUND_ALLOW: "http:\/\/x\/"/);
});

test('a live answer over 1 MB is cut and reported; a redirect is the answer and is never followed', async (t) => {
  const target = await service((_req, res) => res.setHeader('content-type', 'application/json').end('[{"id":1}]'));
  t.after(target.close);
  const redirecting = await service((req, res) => res.writeHead(302, { location: `${target.url}${req.url}` }).end());
  t.after(redirecting.close);
  const big = await service((_req, res) => res.setHeader('content-type', 'application/json').end(JSON.stringify(Array.from({ length: 120_000 }, (_, i) => ({ id: i })))));
  t.after(big.close);
  const { url, close } = await startListeningApp();
  t.after(close);
  assert.equal((await call(url, 'PUT', '/api/specs/shop/orders', { body: CONTRACT })).status, 200);

  const cut = await call(url, 'POST', '/api/contracts/shop/orders/test', { body: { endpoint: 'GET /orders', base_url: big.url } });
  assert.equal(cut.status, 200, cut.text);
  assert.equal(cut.json.valid, false);
  assert.equal(cut.json.status_code, 200);
  assert.deepEqual(cut.json.response_violations, [{ path: '$', message: 'response body is larger than 1 MB: only that much is read, so it was not checked' }]);

  const redirected = await call(url, 'POST', '/api/contracts/shop/orders/test', { body: { endpoint: 'GET /orders', base_url: redirecting.url } });
  assert.equal(redirected.status, 200, redirected.text);
  assert.deepEqual(redirected.json, {
    valid: false,
    endpoint: 'GET /orders',
    status_code: 302,
    request_violations: [],
    response_violations: [{ path: 'status', message: `expected status 200, got 302 (a redirect to ${target.url}/orders; redirects are not followed)` }],
    error: '',
  });

  assert.equal((await call(url, 'POST', '/api/webhooks', { body: { id: 'moved', url: `${redirecting.url}/hook` } })).status, 200);
  const tested = await call(url, 'POST', '/api/webhooks/moved/test');
  assert.equal(tested.status, 400);
  assert.equal(tested.json.error, `webhook test failed for moved: receiver answered 302, a redirect to ${target.url}/hook; redirects are not followed`);

  assert.deepEqual(redirecting.hits, ['GET /orders', 'POST /hook']);
  assert.deepEqual(target.hits, [], 'the redirect was not followed');
});

for (const engine of testEngines()) {
  test(`webhook secrets and URL passwords never come back: not in the answer, the list, the audit log or events (${engine})`, async (t) => {
    const { url, close } = await startListeningApp({}, engine);
    t.after(close);
    const receiver = await startReceiver();
    t.after(() => receiver.close());
    const withPassword = receiver.url.replace('http://', 'http://hookuser:hookpass@');
    const masked = receiver.url.replace('http://', 'http://***@');

    const created = await call(url, 'POST', '/api/webhooks', { body: { id: 'signed', url: withPassword, secret: 'webhook-secret-value' } });
    assert.equal(created.status, 200, created.text);
    assert.equal(created.json.url, masked);
    assert.equal(created.json.has_secret, true);
    assert.equal((await call(url, 'POST', '/api/webhooks', { body: { id: 'plain', url: receiver.url } })).json.has_secret, false);

    const list = await call(url, 'GET', '/api/webhooks');
    assert.deepEqual(list.json.map((h: { id: string; url: string; has_secret: boolean }) => [h.id, h.url, h.has_secret]), [
      ['signed', masked, true],
      ['plain', receiver.url, false],
    ]);
    // The receiver still gets the credentials and the signature: only showing them stops.
    assert.deepEqual((await call(url, 'POST', '/api/webhooks/signed/test')).json, { tested: 'signed', status: 'ok' });
    assert.equal(receiver.requests[0]!.headers.authorization, `Basic ${Buffer.from('hookuser:hookpass').toString('base64')}`);
    assert.match(String(receiver.requests[0]!.headers['x-koor-signature']), /^[0-9a-f]{64}$/);

    for (const path of ['/api/webhooks', '/api/audit?limit=100', '/api/events/history']) {
      const text = (await call(url, 'GET', path)).text;
      assert.ok(!text.includes('hookpass'), `${path} shows the URL's password`);
      assert.ok(!text.includes('webhook-secret-value'), `${path} shows the secret`);
    }
  });

  test(`an export leaves out token hashes and webhook secrets unless the admin asks; what each restores to (${engine})`, async (t) => {
    const admin = 'admin-token';
    const source = await startListeningApp({ authToken: admin }, engine);
    t.after(source.close);
    const receiver = await startReceiver();
    t.after(() => receiver.close());
    const registered = await call(source.url, 'POST', '/api/instances/register', { body: { name: 'builder' }, bearer: admin });
    assert.equal(registered.status, 200, registered.text);
    const { id: instanceId, token } = registered.json as { id: string; token: string };
    const tokenHash = createHash('sha256').update(token).digest('hex');
    assert.equal((await call(source.url, 'POST', '/api/webhooks', { body: { id: 'signed', url: receiver.url, secret: 'webhook-secret-value' }, bearer: admin })).status, 200);
    assert.equal((await call(source.url, 'POST', '/api/webhooks', { body: { id: 'plain', url: receiver.url }, bearer: admin })).status, 200);

    const rowsOf = (text: string) => text.trimEnd().split('\n').map((line) => JSON.parse(line));
    const plainExport = await call(source.url, 'GET', '/api/export', { bearer: admin });
    assert.equal(plainExport.status, 200);
    assert.ok(!plainExport.text.includes(tokenHash), 'no token hash');
    assert.ok(!plainExport.text.includes('webhook-secret-value'), 'no webhook secret');
    const plainLines = rowsOf(plainExport.text);
    assert.equal(plainLines[0].secrets, false);
    assert.ok(!('token_hash' in plainLines.find((l) => l.table === 'instances').row));
    assert.deepEqual(plainLines.filter((l) => l.table === 'webhooks').map((l) => [l.row.id, l.row.secret]), [['plain', ''], ['signed', undefined]]);

    const asAgent = await call(source.url, 'GET', '/api/export?include_secrets=1', { bearer: token });
    assert.equal(asAgent.status, 403);
    assert.ok(!asAgent.text.includes(tokenHash));
    const fullExport = await call(source.url, 'GET', '/api/export?include_secrets=1', { bearer: admin });
    assert.equal(fullExport.status, 200);
    const fullLines = rowsOf(fullExport.text);
    assert.equal(fullLines[0].secrets, true);
    assert.equal(fullLines.find((l) => l.table === 'instances').row.token_hash, tokenHash);
    assert.ok(fullExport.text.includes('webhook-secret-value'));

    const restore = async (dump: string) => {
      const target = await startListeningApp({ authToken: admin }, engine);
      t.after(target.close);
      const response = await fetch(`${target.url}/api/import`, { method: 'POST', body: dump, headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/x-ndjson' } });
      assert.equal(response.status, 200, await response.text());
      return target.url;
    };
    const hooksOf = async (base: string) => ((await call(base, 'GET', '/api/webhooks', { bearer: admin })).json as { id: string; active: boolean; has_secret: boolean }[])
      .map((h) => [h.id, h.active, h.has_secret]);

    // Without secrets: the instance is there, its old token is not; the signed webhook waits to be created again.
    const bare = await restore(plainExport.text);
    assert.equal((await call(bare, 'GET', `/api/instances/${instanceId}`, { bearer: admin })).json.name, 'builder');
    assert.equal((await call(bare, 'GET', '/api/instances', { bearer: token })).status, 401);
    assert.deepEqual(await hooksOf(bare), [['signed', false, false], ['plain', true, false]]);
    const again = await call(bare, 'POST', '/api/instances/register', { body: { name: 'builder' }, bearer: admin });
    assert.equal((await call(bare, 'GET', '/api/instances', { bearer: again.json.token })).status, 200);

    // With them: everything as it was.
    const whole = await restore(fullExport.text);
    assert.equal((await call(whole, 'GET', '/api/instances', { bearer: token })).status, 200);
    assert.deepEqual(await hooksOf(whole), [['signed', true, true], ['plain', true, false]]);
  });
}

test('koor-cli backup leaves the secrets out unless given --include-secrets', async (t) => {
  const { url, close } = await startListeningApp();
  t.after(close);
  const cli = new CliWorkspace(url);
  t.after(() => cli.remove());
  const registered = await call(url, 'POST', '/api/instances/register', { body: { name: 'builder' } });
  const tokenHash = createHash('sha256').update(registered.json.token).digest('hex');

  await cli.json(['backup', '--output', 'plain.jsonl']);
  const plain = readFileSync(join(cli.cwd, 'plain.jsonl'), 'utf8');
  assert.equal(JSON.parse(plain.split('\n')[0]!).secrets, false);
  assert.ok(!plain.includes(tokenHash));
  await cli.json(['backup', '--output', 'full.jsonl', '--include-secrets']);
  const full = readFileSync(join(cli.cwd, 'full.jsonl'), 'utf8');
  assert.equal(JSON.parse(full.split('\n')[0]!).secrets, true);
  assert.ok(full.includes(tokenHash));
});

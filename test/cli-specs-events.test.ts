import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startListeningApp } from './support/app.js';
import { CliWorkspace } from './support/cli.js';

const CONTRACT = {
  kind: 'contract',
  version: '1',
  endpoints: {
    'POST /orders': { request: { item: { type: 'string', required: true }, qty: { type: 'integer', required: true } } },
    'GET /ping': { response: { pong: { type: 'boolean', required: true } } },
  },
};

/** A tiny live service for `contract test` and a webhook receiver. */
async function startService(t: { after(fn: () => unknown): void }) {
  const deliveries: { topic: string | undefined; body: string }[] = [];
  const service = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      if (request.url === '/hook') deliveries.push({ topic: request.headers['x-koor-topic'] as string | undefined, body });
      response.setHeader('content-type', 'application/json');
      response.end(request.url === '/ping' ? '{"pong":true}' : '{}');
    });
  });
  await new Promise<void>((resolve) => service.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => service.close(resolve)));
  const address = service.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { url: `http://127.0.0.1:${port}`, deliveries };
}

test('koor-cli specs and contract', async (t) => {
  const server = await startListeningApp();
  t.after(server.close);
  const cli = new CliWorkspace(server.url);
  t.after(() => cli.remove());

  const put = await cli.json(['specs', 'set', 'shop', 'readme', '--data', '{"title":"Shop"}']);
  assert.deepEqual([put.project, put.name, put.version], ['shop', 'readme', 1]);
  await cli.json(['specs', 'set', 'shop', 'notes'], { input: '{"todo":["a"]}' });
  const list = await cli.json(['specs', 'list', 'shop']);
  assert.deepEqual(list.specs.map((s: { name: string }) => s.name).sort(), ['notes', 'readme']);
  assert.equal((await cli.run(['specs', 'get', 'shop', 'readme'])).stdout, '{"title":"Shop"}');
  assert.equal((await cli.run(['specs', 'get', 'shop', 'readme', '--field', 'title'])).stdout, 'Shop\n');
  await cli.run(['specs', 'get', 'shop', 'readme', '--if-changed']);
  assert.equal((await cli.run(['specs', 'get', 'shop', 'readme', '--if-changed'])).stdout, 'unchanged (v1)\n');
  assert.deepEqual(await cli.json(['specs', 'delete', 'shop', 'notes']), { deleted: 'shop/notes' });
  assert.equal((await cli.run(['specs', 'get', 'shop', 'notes'])).code, 3);

  // Contracts are specs with "kind":"contract"; an invalid one is refused.
  writeFileSync(join(cli.cwd, 'orders.json'), JSON.stringify(CONTRACT));
  const stored = await cli.json(['contract', 'set', 'shop', 'orders', '--file', 'orders.json']);
  assert.equal(stored.name, 'orders');
  const broken = await cli.run(['contract', 'set', 'shop', 'bad', '--data', '{"kind":"contract","endpoints":{"GET /x":{"response":{"a":{"type":"nonsense"}}}}}']);
  assert.equal(broken.code, 2);
  assert.match(broken.stderr, /^koor-cli: /);
  assert.deepEqual(JSON.parse((await cli.run(['contract', 'get', 'shop', 'orders'])).stdout), CONTRACT);

  const valid = await cli.json(['contract', 'validate', 'shop', 'orders', '--endpoint', 'POST /orders', '--data', '{"item":"pen","qty":2}']);
  assert.equal(valid.valid, true);
  const invalid = await cli.run(['contract', 'validate', 'shop', 'orders', '--endpoint', 'POST /orders'], { input: '{"item":"pen","qty":"two"}' });
  assert.equal(invalid.code, 7);
  const answer = JSON.parse(invalid.stdout);
  assert.equal(answer.valid, false);
  assert.ok(answer.violations.some((v: { path: string }) => v.path.includes('qty')));
  assert.equal((await cli.run(['contract', 'validate', 'shop', 'nope', '--endpoint', 'GET /ping', '--data', '{}'])).code, 3);

  const service = await startService(t);
  const live = await cli.json(['contract', 'test', 'shop', 'orders', '--endpoint', 'GET /ping', '--base-url', service.url]);
  assert.equal(live.valid, true);
  assert.equal(live.status_code, 200);
});

test('koor-cli events and webhooks', async (t) => {
  const server = await startListeningApp();
  t.after(server.close);
  const cli = new CliWorkspace(server.url);
  t.after(() => cli.remove());

  const first = await cli.json(['events', 'publish', 'api.change', '--data', '{"path":"/orders"}', '--source', 'backend']);
  assert.equal(first.topic, 'api.change');
  assert.deepEqual(first.data, { path: '/orders' });
  assert.equal(first.source, 'backend');
  await cli.json(['events', 'publish', 'api.change.contract']);
  await cli.json(['events', 'publish', 'build.done', '--data', '"ok"']);
  const badData = await cli.run(['events', 'publish', 'x', '--data', '{nope']);
  assert.equal(badData.code, 2);
  assert.match(badData.stderr, /--data is not valid JSON/);
  assert.equal((await cli.run(['events', 'publish', 'bad topic!'])).code, 2);

  const newest = await cli.json(['events', 'history', '--last', '2']);
  assert.deepEqual(newest.map((e: { topic: string }) => e.topic), ['build.done', 'api.change.contract']);
  const underApi = await cli.json(['events', 'history', '--topic', 'api.*']);
  assert.deepEqual(underApi.map((e: { topic: string }) => e.topic), ['api.change.contract', 'api.change']);
  const after = await cli.json(['events', 'history', '--after', String(first.id)]);
  assert.deepEqual(after.map((e: { topic: string }) => e.topic), ['api.change.contract', 'build.done']);
  const bySource = await cli.json(['events', 'history', '--source', 'backend']);
  assert.equal(bySource.length, 1);

  const receiver = await startService(t);
  const added = await cli.json(['webhooks', 'add', 'ci', `${receiver.url}/hook`, '--patterns', 'build.*,deploy.*', '--secret', 'hush']);
  assert.deepEqual([added.id, added.patterns, added.active], ['ci', ['build.*', 'deploy.*'], true]);
  assert.equal(added.secret, undefined);
  const hooks = await cli.json(['webhooks', 'list']);
  assert.deepEqual(hooks.map((h: { id: string }) => h.id), ['ci']);
  assert.deepEqual(await cli.json(['webhooks', 'test', 'ci']), { tested: 'ci', status: 'ok' });
  assert.ok(receiver.deliveries.some((d) => d.topic === 'webhook.test'));
  assert.deepEqual(await cli.json(['webhooks', 'delete', 'ci']), { deleted: 'ci' });
  assert.equal((await cli.run(['webhooks', 'test', 'ci'])).code, 3);
});

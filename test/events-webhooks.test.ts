import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { startTestApp, testEngines } from './support/app.js';
import { startServerProcess } from './support/server-process.js';
import { createTestDatabase } from './support/postgres.js';
import { deliveryTiming } from '../src/webhooks/delivery.js';
import { startReceiver } from './support/webhook-receiver.js';

async function createHook(app: FastifyInstance, body: Record<string, unknown>) {
  return app.inject({ method: 'POST', url: '/api/webhooks', payload: body });
}

async function publish(app: FastifyInstance, topic: string, data?: unknown) {
  const response = await app.inject({ method: 'POST', url: '/api/events/publish', payload: { topic, data } });
  assert.equal(response.statusCode, 200);
  return response.json() as { id: number; topic: string; data: unknown };
}

async function listHooks(app: FastifyInstance) {
  return (await app.inject({ method: 'GET', url: '/api/webhooks' })).json() as Record<string, unknown>[];
}

/** Polls until `check` returns a value (the app works in the background); no fixed sleeps. */
async function eventually<T>(check: () => Promise<T | undefined>): Promise<T> {
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** The replay-safe receiver-side check documented in docs/events-and-webhooks.md. */
function verifySignature(secret: string, headers: IncomingHttpHeaders, body: string): boolean {
  const parts = new Map(String(headers['x-koor-signature-256']).split(',').map((part) => part.split('=', 2) as [string, string]));
  const timestamp = Number(parts.get('t'));
  if (!Number.isInteger(timestamp) || Math.abs(Date.now() / 1000 - timestamp) > 300) return false;
  const expected = createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
  const given = parts.get('v1') ?? '';
  return given.length === expected.length && timingSafeEqual(Buffer.from(given), Buffer.from(expected));
}

for (const engine of testEngines()) {
  test(`webhooks are created, listed without their secret, validated and deleted on ${engine}`, async (t) => {
    const { app, close } = await startTestApp({}, engine);
    t.after(close);

    const created = await createHook(app, { id: 'ci', url: 'https://ci.example.com/koor', secret: 'shh' });
    assert.equal(created.statusCode, 200);
    const hook = created.json();
    assert.deepEqual(Object.keys(hook).sort(), ['active', 'created_at', 'fail_count', 'has_secret', 'id', 'last_fired', 'patterns', 'url']);
    assert.deepEqual(
      { id: hook.id, url: hook.url, patterns: hook.patterns, active: hook.active, fail_count: hook.fail_count, has_secret: hook.has_secret },
      { id: 'ci', url: 'https://ci.example.com/koor', patterns: ['*'], active: true, fail_count: 0, has_secret: true },
    );

    const duplicate = await createHook(app, { id: 'ci', url: 'http://other.example.com' });
    assert.equal(duplicate.statusCode, 409);
    assert.match(duplicate.json().error, /ci/);

    for (const [body, named] of [
      [{ id: 'x', url: 'ftp://files.example.com' }, /url/],
      [{ id: 'x', url: 'not a url' }, /url/],
      [{ id: 'x', url: 'javascript:alert(1)' }, /url/],
      [{ id: 'x' }, /url/],
      [{ url: 'http://example.com' }, /id/],
      [{ id: 'x', url: 'http://example.com', patterns: ['api.[x'] }, /pattern/],
      [{ id: 'x', url: 'http://example.com', patterns: [] }, /pattern/],
    ] as const) {
      const bad = await createHook(app, body);
      assert.equal(bad.statusCode, 400, JSON.stringify(body));
      assert.match(bad.json().error, named, JSON.stringify(body));
    }

    const listed = await listHooks(app);
    assert.equal(listed.length, 1);
    assert.equal(listed[0]!.last_fired, null);
    assert.equal(JSON.stringify(listed).includes('shh'), false, 'the secret is never shown');

    const deleted = await app.inject({ method: 'DELETE', url: '/api/webhooks/ci' });
    assert.deepEqual(deleted.json(), { deleted: 'ci' });
    const again = await app.inject({ method: 'DELETE', url: '/api/webhooks/ci' });
    assert.equal(again.statusCode, 404);
    assert.deepEqual(await listHooks(app), []);

    const audit = await app.inject({ method: 'GET', url: '/api/audit?action=webhook.create' });
    assert.match(audit.body, /webhook\.create/);
  });

  test(`deliveries carry the event, its headers and a signature that verifies on ${engine}`, async (t) => {
    const { app, close } = await startTestApp({}, engine);
    t.after(close);
    const receiver = await startReceiver();
    t.after(() => receiver.close());

    assert.equal((await createHook(app, { id: 'deploys', url: receiver.url, patterns: ['deploy.*'], secret: 'hook-secret' })).statusCode, 200);
    await publish(app, 'build.done');
    const event = await publish(app, 'deploy.done', { version: '1.2.3' });
    await receiver.until((requests) => requests.length >= 1);
    const [request] = receiver.requests;

    assert.deepEqual(JSON.parse(request!.body), { event_id: event.id, ...event });
    assert.equal(request!.headers['content-type'], 'application/json');
    assert.equal(request!.headers['x-koor-event'], 'true');
    assert.equal(request!.headers['x-koor-topic'], 'deploy.done');
    assert.equal(request!.headers['x-koor-delivery'], String(event.id));
    assert.match(String(request!.headers['x-koor-signature-256']), /^t=\d{10},v1=[0-9a-f]{64}$/);
    assert.match(String(request!.headers['x-koor-signature']), /^[0-9a-f]{64}$/);
    assert.equal(verifySignature('hook-secret', request!.headers, request!.body), true);
    assert.equal(verifySignature('wrong-secret', request!.headers, request!.body), false);

    const hook = await eventually(async () => (await listHooks(app)).find((h) => h.last_fired !== null));
    assert.equal(hook.fail_count, 0);
    assert.equal(app.koor.webhooks.deliveries, 1);

    const tested = await app.inject({ method: 'POST', url: '/api/webhooks/deploys/test' });
    assert.deepEqual(tested.json(), { tested: 'deploys', status: 'ok' });
    const testRequest = receiver.requests.at(-1)!;
    assert.equal(testRequest.headers['x-koor-topic'], 'webhook.test');
    assert.equal(verifySignature('hook-secret', testRequest.headers, testRequest.body), true);

    receiver.answer = () => 500;
    const failed = await app.inject({ method: 'POST', url: '/api/webhooks/deploys/test' });
    assert.equal(failed.statusCode, 400);
    assert.match(failed.json().error, /500/);
    const missing = await app.inject({ method: 'POST', url: '/api/webhooks/nope/test' });
    assert.equal(missing.statusCode, 404);

    const unsigned = await startReceiver();
    t.after(() => unsigned.close());
    await createHook(app, { id: 'plain', url: unsigned.url });
    await publish(app, 'anything');
    await unsigned.until((requests) => requests.length >= 1);
    assert.equal(unsigned.requests[0]!.headers['x-koor-signature'], undefined);
    assert.equal(unsigned.requests[0]!.headers['x-koor-signature-256'], undefined);
  });

  test(`a receiver that fails 3 times then succeeds gets the event exactly once more on ${engine}`, async (t) => {
    deliveryTiming.baseDelayMs = 10;
    t.after(() => (deliveryTiming.baseDelayMs = 1000));
    const { app, close } = await startTestApp({}, engine);
    t.after(close);
    const receiver = await startReceiver((n) => (n < 3 ? 500 : 200));
    t.after(() => receiver.close());

    await createHook(app, { id: 'flaky', url: receiver.url });
    const event = await publish(app, 'flaky.event');
    await receiver.until((requests) => requests.some((r) => r.status === 200));
    // A later event arriving proves the worker moved on rather than resending the first.
    const later = await publish(app, 'later.event');
    await receiver.until((requests) => requests.some((r) => r.headers['x-koor-delivery'] === String(later.id)));

    const forFirst = receiver.requests.filter((r) => r.headers['x-koor-delivery'] === String(event.id));
    assert.deepEqual(forFirst.map((r) => r.status), [500, 500, 500, 200]);
    assert.equal(receiver.requests.length, 5);
    const hook = await eventually(async () => (await listHooks(app)).find((h) => h.fail_count === 0 && h.last_fired !== null));
    assert.equal(hook.active, true);
    assert.equal(app.koor.webhooks.failures, 3);
  });

  test(`10 consecutive failures disable the webhook and publish webhook.disabled on ${engine}`, async (t) => {
    deliveryTiming.baseDelayMs = 1;
    t.after(() => (deliveryTiming.baseDelayMs = 1000));
    const { app, close } = await startTestApp({}, engine);
    t.after(close);
    const broken = await startReceiver(() => 503);
    const healthy = await startReceiver();
    t.after(() => broken.close());
    t.after(() => healthy.close());

    await createHook(app, { id: 'broken', url: broken.url });
    await createHook(app, { id: 'watcher', url: healthy.url, patterns: ['webhook.*', 'after.*'] });
    await publish(app, 'some.event');

    const disabled = await eventually(async () => {
      const found = await app.inject({ method: 'GET', url: '/api/events/history?topic=webhook.disabled' });
      return found.json()[0] as { data: unknown } | undefined;
    });
    assert.deepEqual(disabled.data, { id: 'broken', url: broken.url });
    assert.equal(broken.requests.length, 10);
    const hook = (await listHooks(app)).find((h) => h.id === 'broken')!;
    assert.equal(hook.active, false);
    assert.equal(hook.fail_count, 10);

    // Other webhooks hear about it; the disabled one gets nothing more.
    await healthy.until((requests) => requests.some((r) => r.headers['x-koor-topic'] === 'webhook.disabled'));
    await publish(app, 'after.disable');
    await healthy.until((requests) => requests.some((r) => r.headers['x-koor-topic'] === 'after.disable'));
    assert.equal(broken.requests.length, 10);
  });
}

test('deliveries pending at shutdown are sent after a restart on the same data', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'koor-webhooks-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  // The receiver hangs at first, so the delivery is still pending when the server stops.
  const receiver = await startReceiver(() => null);
  t.after(() => receiver.close());

  const first = await startTestApp({ dataDir });
  await createHook(first.app, { id: 'late', url: receiver.url });
  const event = await publish(first.app, 'before.restart', { n: 1 });
  await receiver.until((requests) => requests.length === 1);
  await first.close();

  receiver.answer = () => 200;
  const second = await startTestApp({ dataDir });
  t.after(second.close);
  await receiver.until((requests) => requests.some((r) => r.status === 200));
  const delivered = receiver.requests.find((r) => r.status === 200)!;
  assert.equal(delivered.headers['x-koor-delivery'], String(event.id));
  assert.deepEqual(JSON.parse(delivered.body), { event_id: event.id, ...event });
});

for (const engine of testEngines()) {
test(`a webhook delivery is stored with its event: kill -9 right after the publish is acknowledged loses none, on ${engine}`, async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'koor-webhooks-kill-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const database = engine === 'postgres' ? await createTestDatabase(process.env.KOOR_TEST_POSTGRES_URL!) : undefined;
  if (database) t.after(() => database.drop());
  const engineArgs = database ? ['--database', database.url] : [];
  // The receiver hangs, so nothing gets delivered before the kill.
  const receiver = await startReceiver(() => null);
  t.after(() => receiver.close());

  const first = await startServerProcess(dataDir, engineArgs);
  const post = (path: string, body: unknown) =>
    fetch(`${first.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  assert.equal((await post('/api/webhooks', { id: 'crash', url: receiver.url, patterns: ['crash.*'] })).status, 200);
  const published = await Promise.all(
    Array.from({ length: 40 }, async (_, i) => {
      const response = await post('/api/events/publish', { topic: 'crash.tick', data: { i } });
      assert.equal(response.status, 200);
      return ((await response.json()) as { id: number }).id;
    }),
  );
  first.child.kill('SIGKILL');
  await first.exited;

  receiver.answer = () => 200;
  const second = await startServerProcess(dataDir, engineArgs);
  t.after(async () => {
    second.child.kill('SIGTERM');
    await second.exited;
  });
  const delivered = () => new Set(receiver.requests.filter((r) => r.status === 200).map((r) => Number(r.headers['x-koor-delivery'])));
  // A lost delivery never arrives: wait a bounded time, then compare.
  const deadline = Date.now() + 20_000;
  while (!published.every((id) => delivered().has(id)) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  assert.deepEqual([...delivered()].sort((a, b) => a - b), [...published].sort((a, b) => a - b));
});
}

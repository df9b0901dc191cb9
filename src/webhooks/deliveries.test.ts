import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { startTestApp, testEngines } from '../../test/support/app.js';
import { startReceiver } from '../../test/support/webhook-receiver.js';
import { deliveryTiming } from './delivery.js';
import { MAX_PENDING_PER_WEBHOOK } from './dispatcher.js';
import './tables.js';
import '../events/tables.js';

const databaseBytes = (dataDir: string) =>
  ['data.db', 'data.db-wal'].reduce((sum, file) => {
    try {
      return sum + statSync(join(dataDir, file)).size;
    } catch {
      return sum;
    }
  }, 0);

test('one big event matching many webhooks is stored once, and every webhook receives it whole', async (t) => {
  const { app, dataDir, close } = await startTestApp();
  t.after(close);
  const receiver = await startReceiver();
  t.after(() => receiver.close());
  const HOOKS = 40;
  for (let i = 0; i < HOOKS; i++) {
    const created = await app.inject({ method: 'POST', url: '/api/webhooks', payload: { id: `h${i}`, url: `${receiver.url}?n=${i}`, patterns: ['big.*'] } });
    assert.equal(created.statusCode, 200, created.body);
  }
  const before = databaseBytes(dataDir);
  const data = { blob: 'x'.repeat(4 * 1024 * 1024) };
  const published = await app.inject({ method: 'POST', url: '/api/events/publish', payload: { topic: 'big.one', data } });
  assert.equal(published.statusCode, 200);
  // A copy per delivery would be 40 × 4 MB; the event itself is stored once.
  assert.ok(databaseBytes(dataDir) - before < 12 * 1024 * 1024, `grew by ${databaseBytes(dataDir) - before} bytes`);

  await receiver.until((requests) => requests.length >= HOOKS);
  const id = published.json().id;
  for (const request of receiver.requests) {
    const body = JSON.parse(request.body);
    assert.equal(body.event_id, id);
    assert.equal(body.topic, 'big.one');
    assert.equal(body.data.blob.length, data.blob.length);
  }
  // Each delivery is settled just after its receiver answers.
  const pending = async () => (await app.koor.db.query.selectFrom('webhook_deliveries').select('id').execute()).length;
  for (let i = 0; i < 100 && (await pending()) > 0; i++) await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(await pending(), 0);
});

for (const engine of testEngines()) {
  test(`events waiting for a webhook delivery outlive pruning until they are sent, on ${engine}`, async (t) => {
    const { app, close } = await startTestApp({ eventHistory: 2 }, engine);
    t.after(close);
    const saved = { ...deliveryTiming };
    t.after(() => Object.assign(deliveryTiming, saved));
    deliveryTiming.baseDelayMs = 60_000; // no retry during the test
    const receiver = await startReceiver(() => 503);
    t.after(() => receiver.close());
    await app.inject({ method: 'POST', url: '/api/webhooks', payload: { id: 'down', url: receiver.url, patterns: ['kept.*'] } });
    const ids: number[] = [];
    for (const topic of ['kept.a', 'other.b', 'other.c', 'other.d', 'other.e']) {
      ids.push((await app.inject({ method: 'POST', url: '/api/events/publish', payload: { topic } })).json().id);
    }
    await receiver.until((requests) => requests.length >= 1);

    await app.inject({ method: 'POST', url: '/api/events/publish', payload: { topic: 'other.f' } });
    const { pruneEvents } = await import('../events/prune.js');
    await pruneEvents(app.koor);
    const kept = async () => (await app.koor.db.query.selectFrom('events').select('topic').orderBy('id').execute()).map((e) => e.topic);
    assert.deepEqual(await kept(), ['kept.a', 'other.e', 'other.f']);

    // Once nothing waits for it any more, it goes like any other.
    assert.equal((await app.inject({ method: 'DELETE', url: '/api/webhooks/down' })).statusCode, 200);
    await pruneEvents(app.koor);
    assert.deepEqual(await kept(), ['other.e', 'other.f']);
  });

  test(`webhooks are limited by --max-webhooks, on ${engine}`, async (t) => {
    const { app, close } = await startTestApp({ maxWebhooks: 2 }, engine);
    t.after(close);
    const create = (id: string) => app.inject({ method: 'POST', url: '/api/webhooks', payload: { id, url: 'http://127.0.0.1:9/x' } });
    assert.equal((await create('a')).statusCode, 200);
    assert.equal((await create('b')).statusCode, 200);
    const third = await create('c');
    assert.equal(third.statusCode, 409);
    assert.equal(third.json().reason, 'limit_reached');
    assert.match(third.json().error, /2 webhooks, its limit \(--max-webhooks\)/);
    await app.inject({ method: 'DELETE', url: '/api/webhooks/a' });
    assert.equal((await create('c')).statusCode, 200);
  });
}

test('a webhook that cannot keep up keeps at most its newest pending deliveries', async (t) => {
  const { app, close } = await startTestApp({ eventHistory: 100_000 });
  t.after(close);
  await app.inject({ method: 'POST', url: '/api/webhooks', payload: { id: 'slow', url: 'http://127.0.0.1:9/x', patterns: ['never.*'] } });
  // A backlog as a receiver that stopped answering leaves it, written directly.
  const event = (await app.inject({ method: 'POST', url: '/api/events/publish', payload: { topic: 'x.y' } })).json();
  const now = new Date().toISOString();
  const total = MAX_PENDING_PER_WEBHOOK + 25;
  await app.koor.commit(async (trx) => {
    for (let i = 0; i < total; i += 500) {
      const rows = Array.from({ length: Math.min(500, total - i) }, () => ({
        webhook_id: 'slow', event_id: event.id, topic: 'x.y', attempts: 1, next_attempt_at: '2999-01-01T00:00:00.000Z', last_error: '', created_at: now,
      }));
      await trx.insertInto('webhook_deliveries').values(rows).execute();
    }
    return { value: undefined };
  }, { emits: false });
  const ids = async () => (await app.koor.db.query.selectFrom('webhook_deliveries').select('id').orderBy('id').execute()).map((r) => Number(r.id));
  const all = await ids();

  assert.equal(await app.koor.webhooks.trimBacklogs(), 25);
  assert.deepEqual(await ids(), all.slice(25), 'the oldest went');
  assert.equal(await app.koor.webhooks.trimBacklogs(), 0);
});

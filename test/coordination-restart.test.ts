// Messages, their receipts, leases and durable consumers' cursors live in the database: a
// server that restarts (or a replica that takes over) answers with all of them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../src/server/app.js';
import { testEngines } from './support/app.js';
import { createTestDatabase } from './support/postgres.js';

for (const engine of testEngines()) {
  test(`nothing is lost across a server restart: messages, receipts, leases, consumer cursors on ${engine}`, async (t) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'koor-restart-'));
    const pg = engine === 'postgres' ? await createTestDatabase(process.env.KOOR_TEST_POSTGRES_URL!) : undefined;
    t.after(async () => {
      await pg?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    });
    const start = () => buildApp({ dataDir, dashboardBind: '', logLevel: 'silent', ...(pg ? { database: pg.url } : {}) });
    const call = async (app: FastifyInstance, method: 'GET' | 'POST', url: string, token?: string, payload?: unknown) => {
      const res = await app.inject({ method, url, payload: payload as object, headers: token ? { 'x-koor-instance-token': token } : {} });
      assert.ok(res.statusCode < 300, `${method} ${url}: ${res.body}`);
      return res.json();
    };

    let app = await start();
    const a = await call(app, 'POST', '/api/instances/register', undefined, { name: 'a' });
    const b = await call(app, 'POST', '/api/instances/register', undefined, { name: 'b' });
    const sent = [];
    for (let i = 0; i < 5; i++) sent.push(await call(app, 'POST', '/api/messages', a.token, { to: ['b'], body: `m${i}`, ack_required: i === 0 }));
    await call(app, 'POST', `/api/messages/${sent[0].id}/ack`, b.token);
    const lease = await call(app, 'POST', '/api/leases', a.token, { resources: ['src/**'], reason: 'before the restart' });
    await call(app, 'GET', '/api/events/next?consumer=feed', b.token);
    const published = await call(app, 'POST', '/api/events/publish', undefined, { topic: 'work.done' });
    await call(app, 'POST', '/api/events/consumers/feed/ack', b.token, { id: published.id });
    const before = await call(app, 'GET', '/api/messages/inbox', b.token);
    await app.close();

    app = await start();
    t.after(() => app.close());
    assert.deepEqual(await call(app, 'GET', '/api/messages/inbox', b.token), before);
    assert.equal((await call(app, 'GET', '/api/messages/inbox?unread=1', b.token)).length, 4);
    assert.deepEqual((await call(app, 'GET', '/api/leases')).map((l: { id: string; reason: string }) => [l.id, l.reason]), [[lease.id, 'before the restart']]);
    const refused = await app.inject({ method: 'POST', url: '/api/leases', payload: { resources: ['src/a.ts'] }, headers: { 'x-koor-instance-token': b.token } });
    assert.equal(refused.statusCode, 409, 'the lease still holds after the restart');
    const later = await call(app, 'POST', '/api/events/publish', undefined, { topic: 'work.more' });
    assert.deepEqual((await call(app, 'GET', '/api/events/next?consumer=feed', b.token)).map((e: { id: number }) => e.id), [later.id]);
  });
}

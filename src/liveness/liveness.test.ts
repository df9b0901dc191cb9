import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { startTestApp, testEngines } from '../../test/support/app.js';
import type { KoorEvent } from '../events/hub.js';

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function register(app: FastifyInstance, name: string) {
  const res = await app.inject({ method: 'POST', url: '/api/instances/register', payload: { name } });
  assert.equal(res.statusCode, 200);
  return res.json() as { id: string; token: string; last_seen: string };
}

for (const engine of testEngines()) {
  test(`the monitor marks silent instances stale and a heartbeat revives them on ${engine}`, async (t) => {
    const { app, close } = await startTestApp({ staleAfterMs: 300, livenessIntervalMs: 100 }, engine);
    t.after(close);
    const events: KoorEvent[] = [];
    app.koor.hub.subscribe((e) => events.push(e));

    const agent = await register(app, 'sleepy');
    const stale = await waitFor('agent.stale', async () => events.find((e) => e.topic === 'agent.stale'));
    assert.equal((stale.data as { id: string }).id, agent.id);
    assert.equal((stale.data as { status: string }).status, 'stale');

    const listed = await app.inject({ method: 'GET', url: '/api/instances/stale' });
    assert.deepEqual(listed.json().map((i: { id: string }) => i.id), [agent.id]);

    const beat = await app.inject({ method: 'POST', url: `/api/instances/${agent.id}/heartbeat` });
    assert.deepEqual(beat.json(), { id: agent.id, status: 'ok' });
    const revived = (await app.inject({ method: 'GET', url: `/api/instances/${agent.id}` })).json();
    assert.equal(revived.status, 'active');
    assert.ok(revived.last_seen > agent.last_seen);
    assert.ok(events.some((e) => e.topic === 'agent.activated'));

    // Silence again: stale once more, and each silence is announced exactly once.
    await waitFor('second agent.stale', async () => (events.filter((e) => e.topic === 'agent.stale').length === 2 ? true : undefined));
    const check = await app.inject({ method: 'POST', url: '/api/liveness/check' });
    assert.deepEqual(check.json(), { checked: true, newly_stale: [], count: 0 });
  });
}

test('POST /api/liveness/check reports the instances it just marked stale', async (t) => {
  // The monitor's own interval is long, so only the manual checks mark anything.
  const { app, close } = await startTestApp({ staleAfterMs: 300, livenessIntervalMs: 3_600_000 });
  t.after(close);
  const quiet = await register(app, 'quiet');
  const busy = await register(app, 'busy');

  const first = await app.inject({ method: 'POST', url: '/api/liveness/check' });
  assert.equal(first.statusCode, 200);

  const result = await waitFor('quiet to go stale', async () => {
    await app.inject({ method: 'POST', url: `/api/instances/${busy.id}/heartbeat` });
    const body = (await app.inject({ method: 'POST', url: '/api/liveness/check' })).json();
    return body.count > 0 ? body : undefined;
  });
  assert.deepEqual(result, { checked: true, newly_stale: [quiet.id], count: 1 });
  const busyNow = (await app.inject({ method: 'GET', url: `/api/instances/${busy.id}` })).json();
  assert.equal(busyNow.status, 'active', 'a heartbeat counts as being heard from');

  const audit = await app.koor.db.query.selectFrom('audit_log').selectAll().where('action', '=', 'liveness.check').execute();
  assert.ok(audit.some((row) => row.detail.includes(quiet.id)));
});

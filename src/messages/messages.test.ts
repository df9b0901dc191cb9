import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { startTestApp, testEngines } from '../../test/support/app.js';
import type { KoorEvent } from '../events/hub.js';

interface Agent {
  id: string;
  headers: Record<string, string>;
}

async function register(app: FastifyInstance, name: string, more: Record<string, unknown> = {}): Promise<Agent> {
  const res = await app.inject({ method: 'POST', url: '/api/instances/register', payload: { name, ...more } });
  assert.equal(res.statusCode, 200, res.body);
  const { id, token } = res.json() as { id: string; token: string };
  return { id, headers: { 'x-koor-instance-token': token } };
}

async function send(app: FastifyInstance, from: Agent | null, body: Record<string, unknown>) {
  return app.inject({ method: 'POST', url: '/api/messages', payload: body, headers: from?.headers ?? {} });
}

async function inbox(app: FastifyInstance, agent: Agent | null, query = '') {
  const res = await app.inject({ method: 'GET', url: `/api/messages/inbox${query}`, headers: agent?.headers ?? {} });
  assert.equal(res.statusCode, 200, res.body);
  return res.json() as Array<{ id: number; from: string; from_name: string; subject: string; body: unknown; read_at: string | null; acked_at: string | null; thread_id: string; created_at: string }>;
}

for (const engine of testEngines()) {
  test(`messages reach ids, names, capabilities, workspaces, everyone and the human on ${engine}`, async (t) => {
    const { app, close } = await startTestApp({}, engine);
    t.after(close);
    const events: KoorEvent[] = [];
    app.koor.hub.subscribe((e) => events.push(e));
    const lead = await register(app, 'lead', { workspace: 'shop', capabilities: ['api'] });
    const api = await register(app, 'api', { workspace: 'shop', capabilities: ['api', 'db'] });
    const web = await register(app, 'web', { workspace: 'shop-web', capabilities: ['ui'] });
    const web2 = await register(app, 'web', { workspace: 'shop-web' });

    const recipients = async (to: string[]) => {
      const res = await send(app, lead, { to, body: 'hello' });
      assert.equal(res.statusCode, 201, `${to}: ${res.body}`);
      return res.json().recipients as string[];
    };
    assert.deepEqual(await recipients([api.id]), [api.id]);
    assert.deepEqual(await recipients(['web']), [web.id, web2.id], 'a name reaches every instance of that name');
    assert.deepEqual(await recipients(['capability:api']), [api.id], 'group addresses leave out the sender');
    assert.deepEqual(await recipients(['workspace:shop-web', 'web']), [web.id, web2.id], 'each recipient once');
    assert.deepEqual(await recipients(['*']), [api.id, web.id, web2.id]);
    assert.deepEqual(await recipients(['human']), ['human']);

    for (const to of ['nobody', 'capability:cobol', 'workspace:nowhere']) {
      const res = await send(app, web, { to: [to], body: 'x' });
      assert.equal(res.statusCode, 400);
      assert.equal(res.json().error, `address "${to}" matches no instance`);
    }
    const onlySelf = await send(app, api, { to: ['capability:db'], body: 'x' });
    assert.equal(onlySelf.statusCode, 400);
    assert.match(onlySelf.json().error, /reaches nobody but the sender/);

    const sent = events.filter((e) => e.topic === 'message.sent');
    assert.deepEqual(Object.keys(sent[0]!.data as object).sort(), ['from', 'id', 'subject', 'to']);
    assert.ok(!JSON.stringify(sent).includes('hello'), 'events never carry the body');
    assert.equal(sent[0]!.source, lead.id);
  });

  test(`inbox: newest first, unread, after, limit; reading marks nothing; read and ack receipts on ${engine}`, async (t) => {
    const { app, close } = await startTestApp({}, engine);
    t.after(close);
    const a = await register(app, 'a');
    const b = await register(app, 'b');
    const ids: number[] = [];
    for (const [i, body] of ['first', { step: 2 }, 'third'].entries()) {
      const res = await send(app, a, { to: ['b'], body, subject: `s${i}`, ack_required: i === 2, importance: i === 1 ? 'high' : undefined });
      ids.push(res.json().id);
    }
    const fromHuman = (await send(app, null, { to: ['b'], body: 'from the person' })).json();

    const all = await inbox(app, b);
    assert.deepEqual(all.map((m) => m.id), [fromHuman.id, ...[...ids].reverse()]);
    assert.deepEqual([all[0]!.from, all[0]!.from_name], ['human', 'human']);
    assert.deepEqual(all[2], {
      id: ids[1], thread_id: String(ids[1]), from: a.id, from_name: 'a', subject: 's1', body: { step: 2 },
      importance: 'high', ack_required: false, created_at: all[2]!.created_at, read_at: null, acked_at: null,
    });
    assert.deepEqual((await inbox(app, b, '?unread=1')).length, 4, 'reading marked nothing read');
    assert.deepEqual((await inbox(app, b, `?after=${ids[1]}`)).map((m) => m.id), [fromHuman.id, ids[2]]);
    assert.deepEqual((await inbox(app, b, '?limit=1')).map((m) => m.id), [fromHuman.id]);
    assert.deepEqual(await inbox(app, a), []);

    const read = await app.inject({ method: 'POST', url: `/api/messages/${ids[0]}/read`, headers: b.headers });
    assert.equal(read.statusCode, 200, read.body);
    assert.deepEqual(Object.keys(read.json()), ['id', 'read_at']);
    const again = await app.inject({ method: 'POST', url: `/api/messages/${ids[0]}/read`, headers: b.headers });
    assert.equal(again.json().read_at, read.json().read_at, 'the first receipt stands');
    const acked = await app.inject({ method: 'POST', url: `/api/messages/${ids[2]}/ack`, headers: b.headers });
    assert.equal(acked.statusCode, 200);
    assert.deepEqual((await inbox(app, b, '?unread=1')).map((m) => m.id), [fromHuman.id, ids[1]], 'an ack also marks read');

    const notRecipient = await app.inject({ method: 'POST', url: `/api/messages/${ids[0]}/ack`, headers: a.headers });
    assert.equal(notRecipient.statusCode, 403);
    assert.match(notRecipient.json().error, /only a recipient/);
    assert.equal((await app.inject({ method: 'POST', url: '/api/messages/999999/read', headers: b.headers })).statusCode, 404);

    // The person reads any inbox; an agent only its own.
    assert.equal((await inbox(app, null, `?instance=${b.id}&unread=1`)).length, 2);
    const peek = await app.inject({ method: 'GET', url: `/api/messages/inbox?instance=${b.id}`, headers: a.headers });
    assert.equal(peek.statusCode, 403);

    const counts = (await app.inject({ method: 'GET', url: '/api/messages/unread' })).json();
    assert.deepEqual(counts, [{ instance: b.id, name: 'b', unread: 2 }]);
    const own = (await app.inject({ method: 'GET', url: '/api/messages/unread', headers: a.headers })).json();
    assert.deepEqual(own, [{ instance: a.id, name: 'a', unread: 0 }]);
  });

  test(`threads hold the replies, oldest first, with receipts, for those in them on ${engine}`, async (t) => {
    const { app, close } = await startTestApp({}, engine);
    t.after(close);
    const [a, b, c] = [await register(app, 'a'), await register(app, 'b'), await register(app, 'c')];
    const opening = (await send(app, a, { to: ['b'], subject: 'orders', body: 'who takes /orders?' })).json();
    assert.equal(opening.thread_id, String(opening.id));
    await send(app, b, { to: ['a'], body: 'me', thread_id: opening.thread_id });
    await send(app, a, { to: ['c'], body: 'fyi', thread_id: opening.thread_id });
    await app.inject({ method: 'POST', url: `/api/messages/${opening.id}/read`, headers: b.headers });

    const thread = async (agent: Agent | null) =>
      app.inject({ method: 'GET', url: `/api/messages/threads/${opening.thread_id}`, headers: agent?.headers ?? {} });
    const forA = (await thread(a)).json();
    assert.deepEqual(forA.messages.map((m: { body: string }) => m.body), ['who takes /orders?', 'me', 'fyi']);
    assert.equal(forA.messages[0].to[0].name, 'b');
    assert.ok(forA.messages[0].to[0].read_at, "the sender sees the recipient's read receipt");
    assert.deepEqual((await thread(c)).json().messages.map((m: { body: string }) => m.body), ['fyi'], 'c sees only what reached it');
    assert.equal((await thread(null)).json().messages.length, 3);
    assert.equal((await app.inject({ method: 'GET', url: '/api/messages/threads/nope' })).statusCode, 404);
  });

  test(`a waiting inbox answers with the message once it is sent, and bad input is refused on ${engine}`, async (t) => {
    const { app, close } = await startTestApp({}, engine);
    t.after(close);
    const [a, b] = [await register(app, 'a'), await register(app, 'b')];
    const waiting = inbox(app, b, '?unread=1&wait=20s');
    await new Promise((resolve) => setTimeout(resolve, 100));
    await send(app, a, { to: ['b'], body: 'ping', subject: 'wake up' });
    const answered = await waiting;
    assert.deepEqual(answered.map((m) => [m.subject, m.body]), [['wake up', 'ping']]);
    assert.deepEqual(await inbox(app, a, '?unread=1&wait=100ms'), [], 'nothing came: an empty answer after the wait');

    for (const [body, message] of [
      [{ to: ['b'] }, /body/],
      [{ to: ['b'], body: '' }, /body is required/],
      [{ to: [], body: 'x' }, /to/],
      [{ to: ['b'], body: 'x'.repeat(70_000) }, /the limit is 64 KB/],
      [{ to: ['b'], body: 'x', importance: 'urgent' }, /importance/],
    ] as const) {
      const res = await send(app, a, body);
      assert.equal(res.statusCode, 400, JSON.stringify(body).slice(0, 80));
      assert.match(res.json().error, message);
    }
  });

  test(`unread counts stay right while many send and read at once on ${engine}`, async (t) => {
    const { app, close } = await startTestApp({}, engine);
    t.after(close);
    const target = await register(app, 'target');
    const senders = await Promise.all(Array.from({ length: 10 }, (_, i) => register(app, `sender-${i}`)));
    const sent = await Promise.all(senders.flatMap((s) => Array.from({ length: 5 }, (_, k) => send(app, s, { to: ['target'], body: `m${k}` }))));
    assert.ok(sent.every((r) => r.statusCode === 201));
    const ids = sent.map((r) => r.json().id as number);
    // Half are marked read while more arrive, all at once.
    const marks = ids.filter((_, i) => i % 2 === 0).map((id) => app.inject({ method: 'POST', url: `/api/messages/${id}/read`, headers: target.headers }));
    const more = senders.map((s) => send(app, s, { to: ['target'], body: 'late' }));
    await Promise.all([...marks, ...more]);
    const counts = (await app.inject({ method: 'GET', url: '/api/messages/unread', headers: target.headers })).json();
    assert.deepEqual(counts, [{ instance: target.id, name: 'target', unread: 25 + 10 }]);
    assert.equal((await inbox(app, target, '?unread=1&limit=500')).length, 35);
  });

  test(`messages older than the retention period are pruned on ${engine}`, async (t) => {
    const { app, close } = await startTestApp({ messageRetentionMs: 200, pruneIntervalMs: 50 }, engine);
    t.after(close);
    const [a, b] = [await register(app, 'a'), await register(app, 'b')];
    await send(app, a, { to: ['b'], body: 'soon gone' });
    assert.equal((await inbox(app, b)).length, 1);
    const deadline = Date.now() + 10_000;
    while ((await inbox(app, b)).length > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepEqual(await inbox(app, b), []);
    const left = await app.koor.db.query.selectFrom('message_recipients').select('message_id').execute();
    assert.deepEqual(left, [], 'receipts go with their message');
  });
}

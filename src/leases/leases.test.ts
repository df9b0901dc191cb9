import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { startListeningApp, startTestApp, testEngines } from '../../test/support/app.js';
import type { KoorEvent } from '../events/hub.js';

interface Agent {
  id: string;
  name: string;
  headers: Record<string, string>;
}

async function register(app: FastifyInstance, name: string, intent = ''): Promise<Agent> {
  const res = await app.inject({ method: 'POST', url: '/api/instances/register', payload: { name, intent } });
  assert.equal(res.statusCode, 200, res.body);
  const { id, token } = res.json() as { id: string; token: string };
  return { id, name, headers: { 'x-koor-instance-token': token } };
}

async function acquire(app: FastifyInstance, agent: Agent | null, body: Record<string, unknown>, query = '') {
  return app.inject({ method: 'POST', url: `/api/leases${query}`, payload: body, headers: agent?.headers ?? {} });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until `check` holds; the deadline only bounds a failing test, it asserts no time. */
async function eventually<T>(read: () => Promise<T>, check: (value: T) => boolean, what: string, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (check(value)) return value;
    if (Date.now() > deadline) assert.fail(`${what}: still ${JSON.stringify(value)}`);
    await sleep(25);
  }
}

for (const engine of testEngines()) {
  test(`acquire is all or nothing, names the holder, and holders never conflict with themselves on ${engine}`, async (t) => {
    const { app, close } = await startTestApp({}, engine);
    t.after(close);
    const events: KoorEvent[] = [];
    app.koor.hub.subscribe((e) => events.push(e));
    const backend = await register(app, 'backend', 'building the orders API');
    const web = await register(app, 'web');

    const granted = await acquire(app, backend, { resources: ['src/api/**', 'task:42'], reason: 'splitting orders', ttl: '10m' });
    assert.equal(granted.statusCode, 201, granted.body);
    const lease = granted.json();
    assert.match(lease.id, /^[0-9a-f]{16}$/);
    assert.deepEqual(
      { resources: lease.resources, mode: lease.mode, holder: lease.holder, holder_name: lease.holder_name, project: lease.project, reason: lease.reason },
      { resources: ['src/api/**', 'task:42'], mode: 'exclusive', holder: backend.id, holder_name: 'backend', project: '', reason: 'splitting orders' },
    );
    assert.equal(Date.parse(lease.expires_at) - Date.parse(lease.acquired_at), 10 * 60_000);

    // A glob that shares a path with src/api/** is refused, and so is everything else asked
    // for with it: the free src/web/** is not granted alone.
    const refused = await acquire(app, web, { resources: ['src/web/**', 'src/*/orders.ts'] });
    assert.equal(refused.statusCode, 409);
    const body = refused.json();
    assert.equal(body.reason, 'lease_conflict');
    assert.match(body.error, /"src\/api\/\*\*" held by backend until .*Z \(splitting orders\)/);
    assert.deepEqual(body.conflicts, [{
      id: lease.id,
      holder: backend.id,
      holder_name: 'backend',
      intent: 'building the orders API',
      reason: 'splitting orders',
      mode: 'exclusive',
      resources: ['src/api/**'],
      expires_at: lease.expires_at,
    }]);
    const held = (await app.inject({ method: 'GET', url: '/api/leases' })).json();
    assert.deepEqual(held.map((l: { id: string }) => l.id), [lease.id], 'nothing granted to web');

    // What does not overlap is granted; names only meet the same name.
    assert.equal((await acquire(app, web, { resources: ['db/*.sql', 'src/web/**', 'task:43'] })).statusCode, 201);
    // A floating glob reaches into the held folder: src/api/x.sql would match both.
    assert.equal((await acquire(app, web, { resources: ['*.sql'] })).statusCode, 409);
    assert.equal((await acquire(app, web, { resources: ['task:42'] })).statusCode, 409);
    // The holder itself may claim overlapping things again.
    const again = await acquire(app, backend, { resources: ['src/api/orders.ts'] });
    assert.equal(again.statusCode, 201);
    assert.ok(again.json().fence > lease.fence, 'the fencing token rises with every grant');

    // A project is a scope of its own.
    assert.equal((await acquire(app, web, { resources: ['src/api/**'], project: 'other-repo' })).statusCode, 201);

    const acquired = events.filter((e) => e.topic === 'lease.acquired');
    assert.equal(acquired.length, 4);
    assert.equal(acquired[0]!.source, backend.id);
    assert.deepEqual(acquired[0]!.data, lease);
  });

  test(`shared leases conflict only with exclusive ones on ${engine}`, async (t) => {
    const { app, close } = await startTestApp({}, engine);
    t.after(close);
    const [a, b, c] = [await register(app, 'a'), await register(app, 'b'), await register(app, 'c')];
    assert.equal((await acquire(app, a, { resources: ['docs/**'], mode: 'shared' })).statusCode, 201);
    assert.equal((await acquire(app, b, { resources: ['docs/api.md'], mode: 'shared' })).statusCode, 201);
    const exclusive = await acquire(app, c, { resources: ['docs/*.md'] });
    assert.equal(exclusive.statusCode, 409);
    assert.deepEqual(exclusive.json().conflicts.map((x: { holder_name: string; mode: string }) => `${x.holder_name}:${x.mode}`), ['a:shared', 'b:shared']);

    // check answers what stops the caller from editing, leaving out its own leases.
    const check = async (agent: Agent, paths: string[], mode?: string) =>
      (await app.inject({ method: 'POST', url: '/api/leases/check', payload: { paths, mode }, headers: agent.headers })).json().conflicts.map((x: { holder_name: string }) => x.holder_name);
    assert.deepEqual(await check(c, ['docs/api.md']), ['a', 'b']);
    assert.deepEqual(await check(a, ['docs/api.md']), ['b']);
    assert.deepEqual(await check(c, ['docs/api.md'], 'shared'), []);
    assert.deepEqual(await check(c, ['src/main.ts', 'README.md']), []);
  });

  test(`renew, release (holder or admin), list filters and their refusals on ${engine}`, async (t) => {
    const { app, close } = await startTestApp({}, engine);
    t.after(close);
    const events: KoorEvent[] = [];
    app.koor.hub.subscribe((e) => events.push(e));
    const [a, b] = [await register(app, 'a'), await register(app, 'b')];
    const first = (await acquire(app, a, { resources: ['src/a.ts'], ttl: '1m', project: 'shop' })).json();
    const second = (await acquire(app, b, { resources: ['src/b/**'], project: 'shop' })).json();
    const human = (await acquire(app, null, { resources: ['task:release'] })).json();
    assert.deepEqual([human.holder, human.holder_name], ['anonymous', 'human']);

    const renewed = await app.inject({ method: 'POST', url: `/api/leases/${first.id}/renew`, payload: { ttl: '2h' }, headers: a.headers });
    assert.equal(renewed.statusCode, 200, renewed.body);
    assert.ok(Date.parse(renewed.json().expires_at) - Date.now() > 60 * 60_000);
    const plainRenew = await app.inject({ method: 'POST', url: `/api/leases/${second.id}/renew`, headers: b.headers });
    assert.equal(plainRenew.statusCode, 200, plainRenew.body);
    assert.ok(plainRenew.json().expires_at > second.expires_at, 'renewed by its own TTL');

    const list = async (query: string) => (await app.inject({ method: 'GET', url: `/api/leases?${query}` })).json().map((l: { id: string }) => l.id);
    assert.deepEqual(await list(`holder=${a.id}`), [first.id]);
    assert.deepEqual(await list('project=shop'), [first.id, second.id]);
    assert.deepEqual(await list('resource=src/b/deep/x.ts'), [second.id]);
    assert.deepEqual(await list('resource=src/*.ts'), [first.id]);
    assert.deepEqual(await list('project=shop&resource=task:release'), []);

    const byOther = await app.inject({ method: 'DELETE', url: `/api/leases/${first.id}`, headers: b.headers });
    assert.equal(byOther.statusCode, 403);
    assert.match(byOther.json().error, /held by a: only its holder or the admin may release it/);
    assert.equal((await app.inject({ method: 'POST', url: `/api/leases/${first.id}/renew`, headers: b.headers })).statusCode, 403);

    const released = await app.inject({ method: 'DELETE', url: `/api/leases/${first.id}`, headers: a.headers });
    assert.deepEqual(released.json(), { released: first.id });
    // The person steering the agents (here local mode) may release a stuck lease.
    assert.deepEqual((await app.inject({ method: 'DELETE', url: `/api/leases/${second.id}` })).json(), { released: second.id });

    const gone = await app.inject({ method: 'POST', url: `/api/leases/${first.id}/renew`, headers: a.headers });
    assert.equal(gone.statusCode, 404);
    assert.equal((await app.inject({ method: 'DELETE', url: `/api/leases/${first.id}`, headers: a.headers })).statusCode, 404);

    const releasedEvents = events.filter((e) => e.topic === 'lease.released').map((e) => e.data);
    assert.deepEqual(releasedEvents, [
      { id: first.id, holder: a.id, holder_name: 'a', project: 'shop', resources: ['src/a.ts'], reason: 'released' },
      { id: second.id, holder: b.id, holder_name: 'b', project: 'shop', resources: ['src/b/**'], reason: 'released' },
    ]);

    const audit = await app.koor.db.query.selectFrom('audit_log').select(['actor', 'action', 'outcome']).where('action', 'like', 'lease.%').orderBy('id').execute();
    assert.deepEqual(audit.map((r) => `${r.action}/${r.outcome}`), [
      'lease.acquire/success', 'lease.acquire/success', 'lease.acquire/success',
      'lease.renew/success', 'lease.renew/success',
      'lease.release/error', 'lease.renew/error',
      'lease.release/success', 'lease.release/success',
      'lease.renew/error', 'lease.release/error',
    ]);
  });

  test(`bad lease requests are 400s naming what is wrong on ${engine}`, async (t) => {
    const { app, close } = await startTestApp({}, engine);
    t.after(close);
    const cases: Array<[string, Record<string, unknown>, RegExp]> = [
      ['', { resources: [] }, /resources/],
      ['', { resources: ['../etc/passwd'] }, /leaves the repository/],
      ['', { resources: ['a.ts'], ttl: '25h' }, /at most 24h/],
      ['', { resources: ['a.ts'], ttl: 'soon' }, /invalid ttl "soon"/],
      ['', { resources: ['a.ts'], mode: 'sometimes' }, /mode/],
      ['', { resources: ['a.ts'], color: 'red' }, /additional properties|color/],
      ['?wait=10m', { resources: ['a.ts'] }, /invalid wait "10m": at most 5m/],
      ['?wait=later', { resources: ['a.ts'] }, /invalid wait "later"/],
    ];
    for (const [query, body, message] of cases) {
      const res = await acquire(app, null, body, query);
      assert.equal(res.statusCode, 400, `${JSON.stringify(body)}${query}: ${res.body}`);
      assert.match(res.json().error, message);
    }
    const check = await app.inject({ method: 'POST', url: '/api/leases/check', payload: { paths: ['/'] } });
    assert.equal(check.statusCode, 400);
    assert.match(check.json().error, /names no path/);
    assert.equal((await app.inject({ method: 'GET', url: '/api/leases' })).json().length, 0);
  });

  test(`a state or spec write naming a lease needs the caller to hold it, until it expires on ${engine}`, async (t) => {
    const { app, close } = await startTestApp({}, engine);
    t.after(close);
    const [a, b] = [await register(app, 'a'), await register(app, 'b')];
    const lease = (await acquire(app, a, { resources: ['config/**'], ttl: '1s' })).json();
    const put = (agent: Agent, url: string, leaseId: string, payload = '{"v":1}') =>
      app.inject({ method: 'PUT', url, payload, headers: { ...agent.headers, 'content-type': 'application/json', 'x-koor-lease': leaseId } });

    assert.equal((await put(a, '/api/state/config/db', lease.id)).statusCode, 200);
    assert.equal((await put(a, '/api/specs/shop/api', lease.id)).statusCode, 200);
    const notHolder = await put(b, '/api/state/config/db', lease.id);
    assert.equal(notHolder.statusCode, 412);
    assert.match(notHolder.json().error, /held by a, not by the caller/);
    assert.equal(notHolder.json().reason, 'lease_not_held');
    const unknown = await put(a, '/api/state/config/db', 'feedfacefeedface');
    assert.equal(unknown.statusCode, 412);

    // Once the TTL has run out the lease fences nothing, even before the job has deleted it.
    await sleep(1100);
    const late = await put(a, '/api/state/config/db', lease.id, '{"v":2}');
    assert.equal(late.statusCode, 412);
    assert.match(late.json().error, /no longer held/);
    const deleted = await app.inject({ method: 'DELETE', url: '/api/specs/shop/api', headers: { ...a.headers, 'x-koor-lease': lease.id } });
    assert.equal(deleted.statusCode, 412);
    const value = await app.inject({ method: 'GET', url: '/api/state/config/db' });
    assert.equal(value.body, '{"v":1}', 'the refused write changed nothing');
  });

  test(`leases end when their TTL runs out and when their holder goes stale on ${engine}`, async (t) => {
    const { app, close } = await startTestApp({ livenessIntervalMs: 100, staleAfterMs: 1500 }, engine);
    t.after(close);
    const [quick, silent, busy] = [await register(app, 'quick'), await register(app, 'silent'), await register(app, 'busy')];
    const short = (await acquire(app, quick, { resources: ['task:short'], ttl: '150ms' })).json();
    const ofSilent = (await acquire(app, silent, { resources: ['task:silent'] })).json();
    const ofBusy = (await acquire(app, busy, { resources: ['task:busy'] })).json();

    const released = async () =>
      (await app.inject({ method: 'GET', url: '/api/events/history?topic=lease.released&last=100' })).json() as KoorEvent[];
    // `busy` keeps calling, so it stays alive; the others' leases end, each with its reason.
    const ended = await eventually(async () => {
      await app.inject({ method: 'GET', url: '/api/leases', headers: busy.headers });
      return released();
    }, (list) => list.length >= 2, 'two leases released');
    const reasons = Object.fromEntries(ended.map((e) => [(e.data as { id: string }).id, (e.data as { reason: string }).reason]));
    assert.deepEqual(reasons, { [short.id]: 'expired', [ofSilent.id]: 'holder_stale' });
    const left = (await app.inject({ method: 'GET', url: '/api/leases' })).json();
    assert.deepEqual(left.map((l: { id: string }) => l.id), [ofBusy.id]);
  });

  test(`a deregistered holder's leases end on ${engine}`, async (t) => {
    const { app, close } = await startTestApp({}, engine);
    t.after(close);
    const [leaving, staying] = [await register(app, 'leaving'), await register(app, 'staying')];
    const ofLeaving = (await acquire(app, leaving, { resources: ['src/**', 'task:leaving'] })).json();
    const ofStaying = (await acquire(app, staying, { resources: ['docs/**'] })).json();
    assert.equal((await app.inject({ method: 'DELETE', url: `/api/instances/${leaving.id}` })).statusCode, 200);
    const ended = await eventually(
      async () => (await app.inject({ method: 'GET', url: '/api/events/history?topic=lease.released' })).json() as KoorEvent[],
      (list) => list.length >= 1,
      'the lease released',
    );
    assert.deepEqual(ended.map((e) => e.data), [
      { id: ofLeaving.id, holder: leaving.id, holder_name: 'leaving', project: '', resources: ['src/**', 'task:leaving'], reason: 'holder_deregistered' },
    ]);
    assert.deepEqual((await app.inject({ method: 'GET', url: '/api/leases' })).json().map((l: { id: string }) => l.id), [ofStaying.id]);
  });

  test(`?wait= grants as soon as the holder lets go, and gives up with the 409 when it does not on ${engine}`, async (t) => {
    const { app, close } = await startTestApp({}, engine);
    t.after(close);
    const [a, b] = [await register(app, 'a'), await register(app, 'b')];
    const held = (await acquire(app, a, { resources: ['src/**'], reason: 'big refactor' })).json();

    const waiting = acquire(app, b, { resources: ['src/x.ts'] }, '?wait=20s');
    let settled = false;
    void waiting.then(() => (settled = true));
    await sleep(150);
    assert.equal(settled, false, 'still waiting while the lease is held');
    await app.inject({ method: 'DELETE', url: `/api/leases/${held.id}`, headers: a.headers });
    const granted = await waiting;
    assert.equal(granted.statusCode, 201, granted.body);
    assert.equal(granted.json().holder, b.id);

    // Waiting on a lease that runs out by its TTL ends when it does.
    const brief = (await acquire(app, a, { resources: ['task:t'], ttl: '300ms' })).json();
    const afterExpiry = await acquire(app, b, { resources: ['task:t'] }, '?wait=20s');
    assert.equal(afterExpiry.statusCode, 201);
    assert.ok(afterExpiry.json().fence > brief.fence);

    const stillHeld = (await acquire(app, a, { resources: ['task:u'], reason: 'mine' })).json();
    const timedOut = await acquire(app, b, { resources: ['task:u'] }, '?wait=200ms');
    assert.equal(timedOut.statusCode, 409);
    assert.equal(timedOut.json().conflicts[0].id, stillHeld.id);
  });
}

for (const engine of testEngines()) {
  test(`a waiting acquire whose client goes away stops waiting and is not granted on ${engine}`, async (t) => {
    const server = await startListeningApp({}, engine);
    t.after(server.close);
    const app = server.app;
    const [a, b] = [await register(app, 'a'), await register(app, 'b')];
    const held = (await acquire(app, a, { resources: ['task:x'] })).json();

    const gone = new AbortController();
    const waiting = fetch(`${server.url}/api/leases?wait=1m`, {
      method: 'POST',
      headers: { ...b.headers, 'content-type': 'application/json' },
      body: JSON.stringify({ resources: ['task:x'] }),
      signal: gone.signal,
    }).catch((err: Error) => err.name);
    await sleep(200);
    gone.abort();
    assert.equal(await waiting, 'AbortError');
    await sleep(100);
    await app.inject({ method: 'DELETE', url: `/api/leases/${held.id}`, headers: a.headers });
    await sleep(300);
    assert.deepEqual((await app.inject({ method: 'GET', url: '/api/leases' })).json(), [], 'nobody holds it for a client that left');
    const acquired = (await app.inject({ method: 'GET', url: '/api/events/history?topic=lease.acquired' })).json();
    assert.deepEqual(acquired.map((e: KoorEvent) => (e.data as { holder: string }).holder), [a.id], 'the abandoned wait never acquired it');
  });
}

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { startTestApp, testEngines } from './support/app.js';
import { TopicPattern, TopicPatternError } from '../src/events/topics.js';

async function publish(app: FastifyInstance, body: Record<string, unknown>, headers: Record<string, string> = {}) {
  return app.inject({ method: 'POST', url: '/api/events/publish', payload: body, headers });
}

async function history(app: FastifyInstance, query: string) {
  return app.inject({ method: 'GET', url: `/api/events/history${query}` });
}

const topicsOf = (events: { topic: string }[]) => events.map((e) => e.topic);

test("topic patterns follow Go's path.Match: * any run (dots too), ? one character, [..] classes, ** = *", () => {
  const cases: [string, string, boolean][] = [
    ['*', 'anything.at.all', true],
    ['', 'anything.at.all', true],
    ['api.*', 'api.change', true],
    ['api.*', 'api.change.contract', true],
    ['api.*', 'api', false],
    ['api.ch*', 'api.change', true],
    ['api.ch*', 'api.check.done', true],
    ['api.ch*', 'api.cache', false],
    ['proj.*.request', 'proj.frontend.request', true],
    ['proj.*.request', 'proj.a.b.request', true],
    ['proj.*.request', 'proj.request', false],
    ['proj.*.request', 'proj.frontend.requests', false],
    ['*.failed', 'tests.unit.failed', true],
    ['*.failed', 'failed', false],
    ['a*b*c', 'aXbYc', true],
    ['a*b*c', 'abcabc', true],
    ['a*b*c', 'acb', false],
    ['build.?', 'build.1', true],
    ['build.?', 'build.12', false],
    ['build.??', 'build.12', true],
    ['deploy.[ps]*', 'deploy.prod', true],
    ['deploy.[ps]*', 'deploy.staging', true],
    ['deploy.[ps]*', 'deploy.dev', false],
    ['deploy.[^ps]*', 'deploy.dev', true],
    ['deploy.[^ps]*', 'deploy.prod', false],
    ['v[0-9]', 'v7', true],
    ['v[0-9]', 'vx', false],
    ['a\\*b', 'a*b', true],
    ['a\\*b', 'aXb', false],
    ['[\\]]', ']', true],
    ['api.**', 'api.change', true],
    ['api.**', 'api.change.contract', true],
    ['**.failed', 'tests.unit.failed', true],
    ['**', 'x', true],
    ['state.changed', 'state.changed', true],
    ['state.changed', 'state.changedx', false],
    // "*" and "?" stop at "/" as in Go (only imported topics can hold one); a class does not.
    ['a*', 'a/b', false],
    ['a?b', 'a/b', false],
    ['a[/]b', 'a/b', true],
  ];
  for (const [pattern, topic, expected] of cases) {
    assert.equal(TopicPattern.compile(pattern).matches(topic), expected, `${pattern} vs ${topic}`);
  }
  for (const bad of ['api.[x', 'a[]', 'a[^]', 'a[-z]', 'a[a-]', 'trailing\\', '[\\', 'x'.repeat(257)]) {
    assert.throws(() => TopicPattern.compile(bad), TopicPatternError, bad);
  }
});

test('topic patterns match in time bounded by their size, whatever the input', () => {
  // A backtracking matcher takes exponential time on this; Go's chunk matching is quadratic.
  const pattern = TopicPattern.compile(`${'*a'.repeat(60)}*b`);
  assert.equal(pattern.matches('a'.repeat(250)), false);
  assert.equal(pattern.matches(`${'a'.repeat(249)}b`), true);
});

for (const engine of testEngines()) {
  test(`publish stores events with increasing ids and millisecond times on ${engine}`, async (t) => {
    const { app, close } = await startTestApp({}, engine);
    t.after(close);

    const first = await publish(app, { topic: 'api.change.contract', data: { file: 'openapi.yaml' }, source: 'backend' });
    assert.equal(first.statusCode, 200);
    const event = first.json();
    assert.equal(event.topic, 'api.change.contract');
    assert.deepEqual(event.data, { file: 'openapi.yaml' });
    assert.equal(event.source, 'backend');
    assert.match(event.created_at, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);

    const second = (await publish(app, { topic: 'tests.failed' })).json();
    assert.ok(second.id > event.id, 'ids increase');
    assert.equal(second.data, null);
    assert.equal(second.source, '');
    assert.equal(app.koor.committer.eventsStored, 2);

    const audit = await app.inject({ method: 'GET', url: '/api/audit?action=event.publish' });
    assert.equal(audit.json().length, 2);
  });

  test(`publish rejects missing and malformed topics, naming them, on ${engine}`, async (t) => {
    const { app, close } = await startTestApp({}, engine);
    t.after(close);

    const missing = await publish(app, { data: 1 });
    assert.equal(missing.statusCode, 400);
    assert.match(missing.json().error, /topic/);

    for (const topic of ['', 'api..change', 'api.change.', 'has space', 'api.*', 'x'.repeat(257)]) {
      const bad = await publish(app, { topic });
      assert.equal(bad.statusCode, 400, `topic ${JSON.stringify(topic)}`);
      assert.match(bad.json().error, /topic/);
      assert.equal(bad.json().code, 400);
    }
    const history = await app.inject({ method: 'GET', url: '/api/events/history' });
    assert.deepEqual(history.json(), []);
  });

  test(`an instance publishing without a source is the source, and counts on ${engine}`, async (t) => {
    const { app, close } = await startTestApp({}, engine);
    t.after(close);
    const registered = await app.inject({ method: 'POST', url: '/api/instances/register', payload: { name: 'backend' } });
    assert.equal(registered.statusCode, 200);
    const { id, token } = registered.json();

    const event = (await publish(app, { topic: 'build.done' }, { 'x-koor-instance-token': token })).json();
    assert.equal(event.source, id);
    const explicit = (await publish(app, { topic: 'build.done', source: 'ci' }, { 'x-koor-instance-token': token })).json();
    assert.equal(explicit.source, 'ci');
    const counted = app.koor.counters.pending.get(id);
    const total = [...(counted?.values() ?? [])].reduce((sum, metrics) => sum + (metrics.get('events_published') ?? 0), 0);
    assert.equal(total, 2);
  });

  test(`history filters by last, topic pattern, source, time and cursor on ${engine}`, async (t) => {
    const { app, close } = await startTestApp({}, engine);
    t.after(close);
    const topics = ['api.change', 'api.change.contract', 'tests.failed', 'api_v2.change', 'tests.unit.failed', 'deploy'];
    const published: { id: number; created_at: string }[] = [];
    for (const [i, topic] of topics.entries()) {
      published.push((await publish(app, { topic, data: { i }, source: i % 2 ? 'odd' : 'even' })).json());
    }

    const all = (await history(app, '')).json();
    assert.deepEqual(topicsOf(all), [...topics].reverse());
    assert.deepEqual(topicsOf((await history(app, '?last=2')).json()), ['deploy', 'tests.unit.failed']);
    assert.deepEqual(topicsOf((await history(app, '?topic=*')).json()), [...topics].reverse());
    assert.deepEqual(topicsOf((await history(app, '?topic=api.*')).json()), ['api.change.contract', 'api.change']);
    assert.deepEqual(topicsOf((await history(app, '?topic=api.**')).json()), ['api.change.contract', 'api.change']);
    assert.deepEqual(topicsOf((await history(app, '?topic=api.ch*')).json()), ['api.change.contract', 'api.change']);
    assert.deepEqual(topicsOf((await history(app, '?topic=api*.change')).json()), ['api_v2.change', 'api.change']);
    assert.deepEqual(topicsOf((await history(app, '?topic=*.failed')).json()), ['tests.unit.failed', 'tests.failed']);
    assert.deepEqual(topicsOf((await history(app, '?topic=tests.[u]*')).json()), ['tests.unit.failed']);
    assert.deepEqual(topicsOf((await history(app, '?topic=deplo?')).json()), ['deploy']);
    assert.deepEqual(topicsOf((await history(app, '?topic=api_v2.change')).json()), ['api_v2.change']);
    assert.deepEqual(topicsOf((await history(app, '?topic=API.*')).json()), []);
    assert.deepEqual(topicsOf((await history(app, '?topic=api.**&last=1')).json()), ['api.change.contract']);
    assert.deepEqual(topicsOf((await history(app, '?source=odd')).json()), ['deploy', 'api_v2.change', 'api.change.contract']);

    const cursor = (await history(app, `?after=${published[1].id}&last=3`)).json();
    assert.deepEqual(topicsOf(cursor), ['tests.failed', 'api_v2.change', 'tests.unit.failed'], 'after= is oldest first');
    const cursorFiltered = (await history(app, `?after=${published[0].id}&topic=**.failed`)).json();
    assert.deepEqual(topicsOf(cursorFiltered), ['tests.failed', 'tests.unit.failed']);
    assert.deepEqual((await history(app, `?after=${published[5].id}`)).json(), []);

    const middle = published[2].created_at;
    const fromMiddle = (await history(app, `?from=${encodeURIComponent(middle)}`)).json();
    assert.ok(fromMiddle.every((e: { created_at: string }) => e.created_at >= middle), 'nothing before from');
    assert.ok(fromMiddle.some((e: { id: number }) => e.id === published[2].id), 'from is inclusive');
    const toMiddle = (await history(app, `?to=${encodeURIComponent(middle)}`)).json();
    assert.ok(toMiddle.every((e: { created_at: string }) => e.created_at <= middle), 'nothing after to');
    assert.ok(toMiddle.some((e: { id: number }) => e.id === published[0].id), 'older events are kept');
    assert.deepEqual((await history(app, '?from=2000-01-01T00:00:00Z&to=2000-01-02T00:00:00%2B02:00')).json(), []);
  });

  test(`history answers 400 naming the bad parameter on ${engine}`, async (t) => {
    const { app, close } = await startTestApp({}, engine);
    t.after(close);
    const cases: [string, RegExp][] = [
      ['?from=yesterday', /from/],
      ['?to=2026-13-45T00:00:00Z', /to/],
      ['?topic=api.[x', /pattern/],
      ['?topic=a[]', /pattern/],
      ['?topic=a%5C', /pattern/],
      ['?after=-1', /after/],
      ['?after=abc', /after/],
      ['?last=0', /last/],
      ['?last=many', /last/],
    ];
    for (const [query, named] of cases) {
      const response = await history(app, query);
      assert.equal(response.statusCode, 400, query);
      assert.match(response.json().error, named, query);
    }
  });

  test(`the pruning job keeps only the newest events on ${engine}`, async (t) => {
    const { app, close } = await startTestApp({ eventHistory: 3, pruneIntervalMs: 20 }, engine);
    t.after(close);
    const ids: number[] = [];
    for (let i = 0; i < 8; i++) ids.push((await publish(app, { topic: 'tick', data: i })).json().id);
    for (;;) {
      const left = (await history(app, '?last=100')).json();
      if (left.length === 3) {
        assert.deepEqual(left.map((e: { id: number }) => e.id), ids.slice(-3).reverse());
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    // Ids keep growing after pruning: a cursor never sees an old id again.
    const next = (await publish(app, { topic: 'tick' })).json();
    assert.ok(next.id > ids.at(-1)!, 'ids are never reused');
  });
}

// Events may carry 10 MB each; a history of 1000 of them was gigabytes built in one answer.
test('history and replay read at most 32 MB of event data at a time, and replay still loses nothing', async (t) => {
  const { app, close } = await startTestApp();
  t.after(close);
  const big = (n: number) => ({ n, blob: 'x'.repeat(9 * 1024 * 1024) });
  const ids: number[] = [];
  for (const body of [{ topic: 'small.first' }, ...[1, 2, 3, 4, 5].map((n) => ({ topic: `big.${n}`, data: big(n) })), { topic: 'small.last' }]) {
    const res = await publish(app, body);
    assert.equal(res.statusCode, 200);
    ids.push(res.json().id);
  }

  // Newest first: the newest that fit in 32 MB (three of the 9 MB ones), and a header saying so.
  const newest = await history(app, '?last=10');
  assert.deepEqual(topicsOf(newest.json()), ['small.last', 'big.5', 'big.4', 'big.3']);
  assert.equal(newest.headers['x-koor-truncated'], 'true');
  // After a cursor: the oldest that fit, and the last id listed goes on from there.
  const first = await history(app, '?after=0&last=10');
  assert.deepEqual(topicsOf(first.json()), ['small.first', 'big.1', 'big.2', 'big.3']);
  assert.equal(first.headers['x-koor-truncated'], 'true');
  const rest = await history(app, `?after=${ids[3]}&last=10`);
  assert.deepEqual(topicsOf(rest.json()), ['big.4', 'big.5', 'small.last']);
  assert.equal(rest.headers['x-koor-truncated'], undefined);
  // Small answers are untouched.
  assert.equal((await history(app, '?topic=small.*')).headers['x-koor-truncated'], undefined);

  // A replay reads page by page within the same budget and delivers every event, in order.
  const replay = await app.inject({ method: 'GET', url: '/api/events/subscribe?after=0', headers: { accept: 'text/event-stream' }, payloadAsStream: true });
  const seen: number[] = [];
  let text = '';
  for await (const chunk of replay.stream()) {
    text += String(chunk);
    for (let end = text.indexOf('\n\n'); end !== -1; end = text.indexOf('\n\n')) {
      const id = /^id: (\d+)$/m.exec(text.slice(0, end));
      if (id) seen.push(Number(id[1]));
      text = text.slice(end + 2);
    }
    if (seen.length === ids.length) break;
  }
  replay.stream().destroy();
  assert.deepEqual(seen, ids);
});

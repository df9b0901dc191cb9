import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import WebSocket from 'ws';
import { startListeningApp, testEngines } from './support/app.js';

interface Frame {
  id?: number;
  topic?: string;
  data?: unknown;
  dropped?: number;
  resume_after?: number;
}

/** A WebSocket subscriber that keeps every frame and lets a test wait for one. */
class Subscriber {
  readonly frames: Frame[] = [];
  private waiters: (() => void)[] = [];

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      this.frames.push(JSON.parse(String(data)) as Frame);
      for (const wake of this.waiters.splice(0)) wake();
    });
  }

  static async open(url: string, options: WebSocket.ClientOptions = {}): Promise<Subscriber> {
    const ws = new WebSocket(url.replace(/^http/, 'ws'), options);
    const subscriber = new Subscriber(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return subscriber;
  }

  get events(): Frame[] {
    return this.frames.filter((f) => f.id !== undefined);
  }

  async until(done: (frames: Frame[]) => boolean): Promise<void> {
    while (!done(this.frames)) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  close(): void {
    this.ws.terminate();
  }
}

/** The status and body an upgrade was refused with. */
function refusal(url: string, options: WebSocket.ClientOptions = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url.replace(/^http/, 'ws'), options);
    ws.once('open', () => {
      ws.terminate();
      reject(new Error('upgrade was accepted'));
    });
    ws.once('unexpected-response', (_request, response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    ws.once('error', () => undefined);
  });
}

async function publish(url: string, topic: string, data?: unknown, token?: string): Promise<{ id: number; topic: string }> {
  const response = await fetch(`${url}/api/events/publish`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ topic, data }),
  });
  assert.equal(response.status, 200);
  return (await response.json()) as { id: number; topic: string };
}

const subscribeUrl = (url: string, query = '') => `${url}/api/events/subscribe${query}`;

for (const engine of testEngines()) {
  test(`WebSocket subscribers receive only the topics their pattern matches on ${engine}`, async (t) => {
    const { url, app, close } = await startListeningApp({}, engine);
    t.after(close);
    const everything = await Subscriber.open(subscribeUrl(url));
    const classes = await Subscriber.open(subscribeUrl(url, '?pattern=api.%5Ba-e%5D%3F%5Ba-d%5D'));
    const anyDepth = await Subscriber.open(subscribeUrl(url, '?pattern=api.*'));
    t.after(() => [everything, classes, anyDepth].forEach((s) => s.close()));
    assert.equal(app.koor.streams.count('websocket'), 3);

    for (const topic of ['api.change', 'api.change.contract', 'tests.failed', 'api', 'api.end']) await publish(url, topic, { topic });
    const sawEnd = (frames: Frame[]) => frames.some((f) => f.topic === 'api.end');
    await Promise.all([everything, classes, anyDepth].map((s) => s.until(sawEnd)));

    assert.deepEqual(everything.events.map((f) => f.topic), ['api.change', 'api.change.contract', 'tests.failed', 'api', 'api.end']);
    assert.deepEqual(classes.events.map((f) => f.topic), ['api.end'], 'api.[a-e]?[a-d]: a class, one character, a class');
    assert.deepEqual(anyDepth.events.map((f) => f.topic), ['api.change', 'api.change.contract', 'api.end']);
    const first = everything.events[0]!;
    assert.deepEqual(Object.keys(first).sort(), ['created_at', 'data', 'id', 'source', 'topic']);
    assert.deepEqual(first.data, { topic: 'api.change' });

    const bad = await refusal(subscribeUrl(url, '?pattern=api.%5Bx'));
    assert.equal(bad.status, 400);
    assert.match(JSON.parse(bad.body).error, /pattern/);
  });

  test(`after=ID replays then continues live with no gap or duplicate while others publish on ${engine}`, async (t) => {
    const { url, close } = await startListeningApp({ eventHistory: 100_000 }, engine);
    t.after(close);
    const early = [];
    for (let i = 0; i < 40; i++) early.push(await publish(url, i % 3 ? 'work.step' : 'noise.step', { i }));
    const cursor = early[9]!.id;

    // Four publishers keep going while the subscriber replays and switches over to live.
    const publishers = Array.from({ length: 4 }, async (_, p) => {
      for (let i = 0; i < 40; i++) await publish(url, i % 2 ? 'work.step' : 'noise.step', { p, i });
    });
    const subscriber = await Subscriber.open(subscribeUrl(url, `?pattern=work.*&after=${cursor}`));
    t.after(() => subscriber.close());
    await Promise.all(publishers);
    const last = await publish(url, 'work.done');
    await subscriber.until((frames) => frames.some((f) => f.id === last.id));

    const history = await fetch(`${url}/api/events/history?after=${cursor}&topic=work.*&last=1000`);
    const expected = ((await history.json()) as Frame[]).map((e) => e.id);
    const received = subscriber.events.map((e) => e.id);
    assert.deepEqual(received, expected);
    assert.equal(received.length, 20 + 80 + 1, 'every matching event after the cursor, once');
    assert.equal(subscriber.frames.length, received.length, 'no dropped notice');
  });

  test(`state writes and publishes racing each other reach a subscriber once each, in id order, on ${engine}`, async (t) => {
    const { url, close } = await startListeningApp({ eventHistory: 100_000 }, engine);
    t.after(close);
    const subscriber = await Subscriber.open(subscribeUrl(url, ''));
    t.after(() => subscriber.close());
    const put = (key: string, headers: Record<string, string> = {}) =>
      fetch(`${url}/api/state/${key}`, { method: 'PUT', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ key }) });

    // State writes (some refused by a failed precondition) and plain publishes, all at once.
    const writes = Array.from({ length: 30 }, (_, i) => put(`race/${i % 5}`));
    const refused = Array.from({ length: 10 }, (_, i) => put(`race/${i % 5}`, { 'if-match': '999' }));
    const publishes = Array.from({ length: 30 }, (_, i) => publish(url, 'race.tick', { i }));
    const statuses = await Promise.all([...writes, ...refused].map(async (r) => (await r).status));
    await Promise.all(publishes);
    assert.deepEqual(statuses.filter((s) => s === 200).length, 30);
    assert.deepEqual(statuses.filter((s) => s === 412).length, 10);
    const last = await publish(url, 'race.done');
    await subscriber.until((frames) => frames.some((f) => f.id === last.id));

    const received = subscriber.events;
    const ids = received.map((e) => e.id!);
    assert.deepEqual(ids, [...ids].sort((a, b) => a - b), 'ids arrive in increasing order');
    assert.equal(new Set(ids).size, ids.length, 'no event arrives twice');
    const changed = received.filter((e) => e.topic === 'state.changed');
    assert.equal(changed.length, 30, 'one state.changed per accepted write, none for a refused one');
    assert.equal(received.filter((e) => e.topic === 'race.tick').length, 30);
    // Each key's versions are announced in the order they were given.
    for (let k = 0; k < 5; k++) {
      const versions = changed.map((e) => e.data as { key: string; version: number }).filter((d) => d.key === `race/${k}`).map((d) => d.version);
      assert.deepEqual(versions, [1, 2, 3, 4, 5, 6]);
    }
    const history = await fetch(`${url}/api/events/history?after=0&last=1000`);
    assert.deepEqual(((await history.json()) as Frame[]).map((e) => e.id), ids, 'what was streamed is what was stored');
  });

  test(`Server-Sent Events replay after Last-Event-ID and then stream live on ${engine}`, async (t) => {
    const { url, close } = await startListeningApp({}, engine);
    t.after(close);
    const [first, second, third] = [await publish(url, 'a.one'), await publish(url, 'b.two'), await publish(url, 'a.three')];

    const plain = await fetch(subscribeUrl(url));
    assert.equal(plain.status, 426);
    assert.match(((await plain.json()) as { error: string }).error, /WebSocket|event-stream/);

    const abort = new AbortController();
    t.after(() => abort.abort());
    const response = await fetch(subscribeUrl(url, '?pattern=a.*'), {
      headers: { accept: 'text/event-stream', 'last-event-id': String(first!.id) },
      signal: abort.signal,
    });
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);

    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    const frames = () =>
      text
        .split('\n\n')
        .slice(0, -1)
        .filter((block) => !block.startsWith(':'))
        .map((block) => {
          const lines = Object.fromEntries(block.split('\n').map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 2)]));
          return { id: Number(lines.id), event: JSON.parse(lines.data!) as Frame };
        });
    const readUntil = async (count: number) => {
      while (frames().length < count) {
        const { value, done } = await reader.read();
        if (done) throw new Error('stream ended');
        text += value;
      }
    };

    await readUntil(1);
    assert.deepEqual(frames().map((f) => f.id), [third!.id], 'replays only matching events after Last-Event-ID');
    const live = await publish(url, 'a.four', { live: true });
    await publish(url, 'b.five');
    await readUntil(2);
    assert.deepEqual(frames().map((f) => f.id), [third!.id, live.id]);
    assert.deepEqual(frames()[1]!.event.data, { live: true });
    assert.ok(second!.id > first!.id, 'ids increase');
  });

  test(`the upgrade needs the token (bearer or ?token=) when auth is on on ${engine}`, async (t) => {
    const { url, app, close } = await startListeningApp({ authToken: 's3cret' }, engine);
    t.after(close);

    const none = await refusal(subscribeUrl(url));
    assert.equal(none.status, 401);
    assert.deepEqual(JSON.parse(none.body), { error: 'invalid or missing bearer token', code: 401, reason: 'unauthorized' });
    assert.equal((await refusal(subscribeUrl(url, '?token=wrong'))).status, 401);
    assert.equal((await refusal(subscribeUrl(url), { headers: { authorization: 'Bearer wrong' } })).status, 401);

    const byQuery = await Subscriber.open(subscribeUrl(url, '?token=s3cret'));
    const byHeader = await Subscriber.open(subscribeUrl(url), { headers: { authorization: 'Bearer s3cret' } });
    t.after(() => [byQuery, byHeader].forEach((s) => s.close()));

    const registered = await app.inject({
      method: 'POST',
      url: '/api/instances/register',
      headers: { authorization: 'Bearer s3cret' },
      payload: { name: 'watcher' },
    });
    assert.equal(registered.statusCode, 200);
    const byInstance = await Subscriber.open(subscribeUrl(url, `?token=${registered.json().token}`));
    t.after(() => byInstance.close());

    const event = await publish(url, 'secured', undefined, 's3cret');
    for (const s of [byQuery, byHeader, byInstance]) await s.until((frames) => frames.some((f) => f.id === event.id));
  });

  test(`closing the app sends subscribers a close frame on ${engine}`, async (t) => {
    const { url, app, close } = await startListeningApp({}, engine);
    let closed = false;
    t.after(async () => {
      if (!closed) await close();
    });
    const subscriber = await Subscriber.open(subscribeUrl(url));
    const goodbye = new Promise<number>((resolve) => subscriber.ws.once('close', (code) => resolve(code)));
    await close();
    closed = true;
    assert.equal(await goodbye, 1001);
    assert.equal(app.koor.streams.count('websocket'), 0);
  });
}

// Fan-out does not depend on the storage engine, and this test moves a lot of bytes: run it once.
test(`a subscriber that never reads does not hold up a fast one, and is told what it lost`, async (t) => {
  const { url, app, close } = await startListeningApp({ eventHistory: 100_000 });
  t.after(close);
  const fast = await Subscriber.open(subscribeUrl(url));
  const slow = await Subscriber.open(subscribeUrl(url));
  t.after(() => [fast, slow].forEach((s) => s.close()));
  slow.ws.pause();

  // Enough bytes to fill both kernels' socket buffers and then the 64-event buffer.
  const kernelBytes = (path: string, fallback: number) => {
    try {
      return Number(readFileSync(path, 'utf8').trim().split(/\s+/).at(-1));
    } catch {
      return fallback;
    }
  };
  const size = 128 * 1024;
  const buffered = kernelBytes('/proc/sys/net/ipv4/tcp_rmem', 8 << 20) + kernelBytes('/proc/sys/net/ipv4/tcp_wmem', 8 << 20);
  const count = Math.ceil(buffered / size) + 64 + 40;
  const pad = 'x'.repeat(size);
  const ids: number[] = [];
  for (let i = 0; i < count; i++) {
    const response = await app.inject({ method: 'POST', url: '/api/events/publish', payload: { topic: 'bulk', data: { i, pad } } });
    ids.push(response.json().id);
  }

  // The fast subscriber has everything while the slow one still has not read a byte.
  await fast.until((frames) => frames.length === count);
  assert.deepEqual(fast.events.map((f) => f.id), ids);
  assert.equal(slow.frames.length, 0);

  slow.ws.resume();
  await slow.until((frames) => frames.some((f) => f.id === ids.at(-1)));
  const noticeAt = slow.frames.findIndex((f) => f.dropped !== undefined);
  assert.ok(noticeAt > 0, 'a dropped notice arrives');
  const notice = slow.frames[noticeAt]!;
  const before = slow.frames[noticeAt - 1]!;
  const after = slow.frames[noticeAt + 1]!;
  assert.equal(notice.resume_after, before.id, 'resume_after is the last event delivered before the gap');
  assert.equal(ids.indexOf(after.id!) - ids.indexOf(before.id!) - 1, notice.dropped);
  const delivered = slow.events.length;
  assert.equal(delivered + slow.frames.filter((f) => f.dropped).reduce((n, f) => n + f.dropped!, 0), count);
  // Whatever was dropped is still in history for the slow subscriber to fetch: from
  // resume_after, a page at a time while answers say they were cut (32 MB of data each).
  const fetched: number[] = [];
  for (let cursor = notice.resume_after!; fetched.length < notice.dropped!; ) {
    const page = await fetch(`${url}/api/events/history?after=${cursor}&last=${notice.dropped! - fetched.length}`);
    const events = (await page.json()) as Frame[];
    fetched.push(...events.map((e) => e.id!));
    cursor = events.at(-1)!.id!;
    if (page.headers.get('x-koor-truncated') !== 'true') break;
  }
  assert.deepEqual(fetched, ids.slice(ids.indexOf(before.id!) + 1, ids.indexOf(after.id!)));
});

test('a WebSocket upgrade is routed like any request: schema, preHandler and error handler answer refusals', async (t) => {
  const { url, close } = await startListeningApp({ authToken: 's3cret' });
  t.after(close);
  const bearer = { headers: { authorization: 'Bearer s3cret' } };

  const badCursor = await refusal(subscribeUrl(url, '?after=yesterday'), bearer);
  assert.equal(badCursor.status, 400);
  assert.match(JSON.parse(badCursor.body).error, /invalid after "yesterday"/);
  assert.equal(JSON.parse(badCursor.body).reason, 'bad_request');

  // Only the event stream takes upgrades; other routes (and unknown paths) refuse them.
  for (const path of ['/api/state', '/api/nope', '/health']) {
    const refused = await refusal(`${url}${path}`, bearer);
    assert.equal(refused.status, 404, path);
    assert.deepEqual(JSON.parse(refused.body), { error: `no WebSocket endpoint at ${path}`, code: 404, reason: 'no_route' });
  }
  // Auth comes first, as for every request.
  assert.equal((await refusal(`${url}/api/state`)).status, 401);
});

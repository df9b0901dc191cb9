// koor-cli lease, send, inbox, ack, thread and durable subscriptions, as real processes
// against a real server (SPEC §16–18).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startListeningApp, testEngines } from './support/app.js';
import { CliWorkspace } from './support/cli.js';

/** The ids of the events a subscriber prints, as they come. */
function printedIds(child: ChildProcess) {
  const ids: number[] = [];
  let buffered = '';
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk) => (stderr += chunk));
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    const lines = buffered.split('\n');
    buffered = lines.pop()!;
    for (const line of lines) if (line.trim() !== '') ids.push((JSON.parse(line) as { id: number }).id);
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { ids, exited, stderr: () => stderr };
}

async function until(what: string, check: () => boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

for (const engine of testEngines()) {
  test(`two agents split a task with koor-cli lease and messages on ${engine}`, async (t) => {
    const server = await startListeningApp({}, engine);
    t.after(server.close);
    const api = new CliWorkspace(server.url);
    const web = new CliWorkspace(server.url);
    t.after(() => {
      api.remove();
      web.remove();
    });
    const apiAgent = await api.json(['register', 'api', '--intent', 'orders endpoint', '--capabilities', 'api']);
    const webAgent = await web.json(['register', 'web', '--capabilities', 'ui']);

    const lease = await api.json(['lease', 'acquire', 'src/api/**', 'task:orders', '--ttl', '30m', '--reason', 'POST /orders']);
    assert.deepEqual([lease.holder_name, lease.resources, lease.reason], ['api', ['src/api/**', 'task:orders'], 'POST /orders']);

    const check = await web.run(['lease', 'check', 'src/api/client.ts', 'src/web/page.tsx']);
    assert.equal(check.code, 4, 'a conflict exits 4');
    assert.match(check.stderr, /src\/api\/\*\* held by api until \S+Z \(POST \/orders\)/);
    assert.equal(JSON.parse(check.stdout).conflicts[0].intent, 'orders endpoint');
    const free = await web.run(['lease', 'check', 'src/web/page.tsx']);
    assert.deepEqual([free.code, JSON.parse(free.stdout)], [0, { conflicts: [] }]);

    const refused = await web.run(['lease', 'acquire', 'src/*/client.ts']);
    assert.equal(refused.code, 4);
    assert.equal(refused.stdout, '');
    assert.match(refused.stderr, /^koor-cli: lease conflict: "src\/api\/\*\*" held by api until \S+Z \(POST \/orders\)\n$/);
    const own = await web.json(['lease', 'acquire', 'src/web/**', '--shared']);
    assert.equal(own.mode, 'shared');

    assert.deepEqual((await api.json(['lease', 'list', '--mine'])).map((l: { id: string }) => l.id), [lease.id]);
    assert.deepEqual((await web.json(['lease', 'list', '--resource', 'src/api/x.ts'])).map((l: { id: string }) => l.id), [lease.id]);
    const renewed = await api.json(['lease', 'renew', lease.id, '--ttl', '1h']);
    assert.ok(renewed.expires_at > lease.expires_at);

    // Messages: web asks, api answers in the thread.
    const sent = await web.json(['send', 'api', 'Which fields does POST /orders return?', '--subject', 'orders contract', '--ack']);
    assert.deepEqual(sent.recipients, [apiAgent.id]);
    const unread = await api.json(['inbox', '--unread', '--mark-read']);
    assert.deepEqual(unread.map((m: { body: string; from_name: string; ack_required: boolean }) => [m.from_name, m.body, m.ack_required]), [['web', 'Which fields does POST /orders return?', true]]);
    assert.deepEqual(await api.json(['inbox', '--unread']), [], '--mark-read marked what it listed');
    assert.ok((await api.json(['ack', String(sent.id)])).acked_at);
    await api.json(['send', 'web', 'capability:ui', '{id, total, items[]}', '--thread', sent.thread_id]);
    const thread = await web.json(['thread', sent.thread_id]);
    assert.deepEqual(thread.messages.map((m: { from_name: string }) => m.from_name), ['web', 'api']);
    assert.ok(thread.messages[0].to[0].acked_at, 'web sees that api acknowledged');
    const waited = await web.json(['inbox', '--unread', '--wait', '100ms']);
    assert.deepEqual(waited.map((m: { body: string }) => m.body), ['{id, total, items[]}']);
    assert.equal((await web.run(['send', 'nobody-here', 'hi'])).code, 2);

    const released = await api.json(['lease', 'release', '--all']);
    assert.deepEqual(released, { released: [lease.id] });
    assert.deepEqual(await api.json(['lease', 'list', '--mine']), []);
    assert.deepEqual(webAgent.name, 'web');
  });

  test(`a durable subscriber stopped while 100 events are published resumes with all of them, none twice, on ${engine}`, async (t) => {
    const server = await startListeningApp({}, engine);
    t.after(server.close);
    const cli = new CliWorkspace(server.url);
    t.after(() => cli.remove());
    await cli.json(['register', 'listener']);
    const publish = async (i: number) => {
      const response = await fetch(`${server.url}/api/events/publish`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ topic: 'job.step', data: { i } }),
      });
      return ((await response.json()) as { id: number }).id;
    };
    const start = await publish(-1);

    const first = await cli.spawn(['events', 'subscribe', 'job.*', '--durable', 'worker', '--after', String(start)]);
    const firstRun = printedIds(first);
    const published: number[] = [];
    for (let i = 0; i < 100; i++) {
      published.push(await publish(i));
      if (i === 30) {
        await until('the subscriber has printed some events', () => firstRun.ids.length > 5);
        first.kill('SIGTERM');
      }
    }
    assert.equal(await firstRun.exited, 0, firstRun.stderr());
    assert.ok(firstRun.ids.length < 100, 'it stopped while events were being published');

    const second = await cli.spawn(['events', 'subscribe', 'job.*', '--durable', 'worker']);
    t.after(() => second.kill('SIGKILL'));
    const secondRun = printedIds(second);
    await until('every event was printed', () => firstRun.ids.length + secondRun.ids.length >= 100);
    // Killed outright while idle, once everything printed was acknowledged (the consumer,
    // asked as the same instance, has nothing left), with more published meanwhile.
    // `register` keeps the instance's token in the workspace's identity file.
    const token = /^KOOR_TOKEN=(.+)$/m.exec(readFileSync(join(cli.cwd, '.koor', 'token.env'), 'utf8'))![1]!;
    const unacknowledged = async () =>
      (await (await fetch(`${server.url}/api/events/next?consumer=worker`, { headers: { 'x-koor-instance-token': token } })).json()) as unknown[];
    const deadline = Date.now() + 20_000;
    while ((await unacknowledged()).length > 0) {
      assert.ok(Date.now() < deadline, 'the subscriber acknowledges what it printed');
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    second.kill('SIGKILL');
    await secondRun.exited;
    const later = [await publish(100), await publish(101)];
    const third = await cli.spawn(['events', 'subscribe', 'job.*', '--durable', 'worker', '--max', '2']);
    const thirdRun = printedIds(third);
    assert.equal(await thirdRun.exited, 0, thirdRun.stderr());

    const all = [...firstRun.ids, ...secondRun.ids, ...thirdRun.ids];
    assert.deepEqual(all, [...published, ...later], 'every event once, in order');
  });
}

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import type { ChildProcess } from 'node:child_process';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../src/server/app.js';
import { CliWorkspace } from './support/cli.js';

interface Printed {
  id: number;
  topic: string;
  data: unknown;
}

/** Collects the JSON lines a subscriber prints and lets a test wait until enough have arrived. */
function collectLines(child: ChildProcess) {
  const lines: Printed[] = [];
  let buffered = '';
  let waiter: { count: number; resolve: () => void } | undefined;
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk) => (stderr += chunk));
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    const parts = buffered.split('\n');
    buffered = parts.pop()!;
    for (const part of parts) if (part.trim() !== '') lines.push(JSON.parse(part));
    if (waiter && lines.length >= waiter.count) waiter.resolve();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    lines,
    stderr: () => stderr,
    exited,
    waitFor(count: number): Promise<void> {
      if (lines.length >= count) return Promise.resolve();
      return new Promise((resolve, reject) => {
        waiter = { count, resolve };
        exited.then(() => reject(new Error(`subscriber exited after ${lines.length} lines: ${stderr}`)));
      });
    },
  };
}

async function startOn(dataDir: string, port: number): Promise<{ app: FastifyInstance; port: number; url: string }> {
  const app = await buildApp({ dataDir, dashboardBind: '', logLevel: 'silent' });
  await app.listen({ host: '127.0.0.1', port });
  const address = app.server.address();
  const bound = typeof address === 'object' && address ? address.port : 0;
  return { app, port: bound, url: `http://127.0.0.1:${bound}` };
}

/** Publishes over a fresh connection (a pooled one could still point at the closed server). */
function publish(url: string, topic: string, data: unknown): Promise<number> {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify({ topic, data });
    const req = request(`${url}/api/events/publish`, { method: 'POST', agent: false, headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (chunk) => (text += chunk));
      res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(text).id) : reject(new Error(`publish: ${res.statusCode} ${text}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('koor-cli events subscribe survives a server restart without losing or repeating events', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'koor-cli-sub-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  let server = await startOn(dataDir, 0);
  t.after(() => server.app.close());
  const cli = new CliWorkspace(server.url);
  t.after(() => cli.remove());

  // An event outside the pattern, then the subscriber starts from the beginning of history.
  await publish(server.url, 'other.topic', 0);
  const child = await cli.spawn(['events', 'subscribe', 'work.*', '--after', '0']);
  t.after(() => child.kill());
  const out = collectLines(child);

  const published: number[] = [];
  for (let i = 1; i <= 3; i++) published.push(await publish(server.url, 'work.step', i));
  await out.waitFor(3);

  // Down, and back up on the same data and port; publish at once (before the subscriber is
  // back: replayed from ?after=) and again once it is back (live).
  await server.app.close();
  server = await startOn(dataDir, server.port);
  for (let i = 4; i <= 6; i++) published.push(await publish(server.url, 'work.step', i));
  await out.waitFor(6);
  await publish(server.url, 'other.topic', 0);
  for (let i = 7; i <= 9; i++) published.push(await publish(server.url, 'work.step', i));
  await out.waitFor(9);

  assert.deepEqual(out.lines.map((e) => e.id), published);
  assert.deepEqual(out.lines.map((e) => e.data), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.ok(out.lines.every((e) => e.topic === 'work.step'));
  assert.match(out.stderr(), /reconnecting/);

  child.kill('SIGTERM');
  assert.equal(await out.exited, 0);
  assert.equal(out.lines.length, 9, 'nothing printed twice after the last wait');
});

test('koor-cli events subscribe --max stops after N events; a fresh subscribe starts at "now"', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'koor-cli-sub-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const server = await startOn(dataDir, 0);
  t.after(() => server.app.close());
  const cli = new CliWorkspace(server.url);
  t.after(() => cli.remove());

  const before = await publish(server.url, 'build.done', 'old');
  const child = await cli.spawn(['events', 'subscribe', '--max', '2']);
  const out = collectLines(child);
  // Publish until the subscriber has seen two events: it may have started after any of them.
  let published = 0;
  while (out.lines.length < 2 && published < 200) {
    await publish(server.url, 'build.done', `new-${++published}`);
    await new Promise((resolve) => setImmediate(resolve));
    if (out.lines.length === 0) await Promise.race([out.waitFor(1), new Promise((r) => setTimeout(r, 100))]);
  }
  assert.equal(await out.exited, 0);
  assert.equal(out.lines.length, 2);
  assert.ok(out.lines[0]!.id > before, 'history from before the start is not replayed');
  assert.equal(out.lines[1]!.id, out.lines[0]!.id + 1);
});

test('koor-cli events subscribe fills the gap from history when a slow reader makes the server drop events', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'koor-cli-sub-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const server = await startOn(dataDir, 0);
  t.after(() => server.app.close());
  let historyReads = 0;
  server.app.server.on('request', (request) => {
    if (request.url?.startsWith('/api/events/history')) historyReads++;
  });
  const cli = new CliWorkspace(server.url);
  t.after(() => cli.remove());

  const child = await cli.spawn(['events', 'subscribe', 'bulk.*', '--after', '0']);
  t.after(() => {
    child.kill('SIGCONT'); // a stopped process would not act on SIGTERM
    child.kill();
  });
  const out = collectLines(child);
  const first = await publish(server.url, 'bulk.first', 0);
  await out.waitFor(1);

  // Freeze the CLI: its socket fills up and the server has to drop events for it.
  // 800 × 16 KB is well over what the socket buffers of a connection nobody reads will hold.
  child.kill('SIGSTOP');
  const padding = 'x'.repeat(16 * 1024);
  const published = [first];
  for (let i = 1; i <= 800; i++) published.push(await publish(server.url, 'bulk.item', { i, padding }));
  child.kill('SIGCONT');
  await out.waitFor(published.length);

  assert.ok(historyReads > 0, 'the server dropped events and the CLI read them back from history');
  assert.deepEqual(out.lines.map((e) => e.id), published);
});

test("koor-cli events subscribe takes Go's globs and exits with the server's message on a malformed pattern", async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'koor-cli-sub-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const server = await startOn(dataDir, 0);
  t.after(() => server.app.close());
  const cli = new CliWorkspace(server.url);
  t.after(() => cli.remove());

  // `api.ch*` (a wildcard inside a segment, matching across dots) is what Go Koor users write.
  const child = await cli.spawn(['events', 'subscribe', 'api.ch*', '--after', '0', '--max', '2']);
  const out = collectLines(child);
  await publish(server.url, 'api.change', 1);
  await publish(server.url, 'api.other', 2);
  await publish(server.url, 'api.check.done', 3);
  assert.equal(await out.exited, 0);
  assert.deepEqual(out.lines.map((e) => e.topic), ['api.change', 'api.check.done']);

  // A refused pattern is not retried: the command ends with the reason and exit code 2.
  const refused = await cli.run(['events', 'subscribe', 'api.[x']);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /invalid pattern.*api\.\[x/);
  assert.doesNotMatch(refused.stderr, /reconnecting/);
});

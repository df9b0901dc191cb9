import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { startListeningApp } from './support/app.js';

function open(url: string): Promise<Socket> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  return once(socket, 'connect').then(() => socket);
}

/** Everything the server sends until it closes the connection. */
function readToEnd(socket: Socket): Promise<string> {
  let text = '';
  socket.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
  return new Promise((resolve) => socket.on('close', () => resolve(text)));
}

test('a request body that stops arriving is answered 408 and its connection closed; other requests go on', async (t) => {
  const { url, close } = await startListeningApp({ bodyIdleTimeoutMs: 300 });
  t.after(close);
  const socket = await open(url);
  const answer = readToEnd(socket);
  socket.write('PUT /api/state/trickled HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"a":');

  assert.equal((await fetch(`${url}/health`)).status, 200);
  const text = await answer;
  assert.match(text, /^HTTP\/1\.1 408 /);
  assert.match(text, /"error":"request body stalled: no data for 300 ms","code":408/);
  assert.equal((await fetch(`${url}/api/state/trickled`)).status, 404, 'nothing was stored');
});

test('a slow but steady body, and a long-lived stream without a body, are not cut', async (t) => {
  const { url, close } = await startListeningApp({ bodyIdleTimeoutMs: 300 });
  t.after(close);
  const socket = await open(url);
  const answer = readToEnd(socket);
  const body = '{"steady":true}';
  socket.write(`PUT /api/state/steady HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`);
  for (const char of body) {
    socket.write(char);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.match(await answer, /^HTTP\/1\.1 200 /);

  // An SSE stream sends nothing until there is news; it outlives the body timeout.
  const stream = await fetch(`${url}/api/events/subscribe`, { headers: { accept: 'text/event-stream' } });
  const reader = stream.body!.getReader();
  await new Promise((resolve) => setTimeout(resolve, 900));
  await fetch(`${url}/api/events/publish`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"topic":"late.news"}' });
  let received = '';
  while (!received.includes('late.news')) received += new TextDecoder().decode((await reader.read()).value);
  await reader.cancel();
});

test('connections past --max-connections are closed as they arrive; the server keeps serving the others', async (t) => {
  const { url, close } = await startListeningApp({ maxConnections: 3 });
  t.after(close);
  const held = await Promise.all([open(url), open(url), open(url)]);
  t.after(() => held.forEach((s) => s.destroy()));
  await new Promise((resolve) => setTimeout(resolve, 100));

  const extra = await open(url);
  assert.equal(await readToEnd(extra), '', 'closed without an answer');

  // One held connection still works, and once one goes a new one is accepted.
  held[0]!.write('GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
  assert.match(await readToEnd(held[0]!), /^HTTP\/1\.1 200 /);
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal((await fetch(`${url}/health`)).status, 200);
});

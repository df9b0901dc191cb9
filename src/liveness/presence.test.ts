import { test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { startListeningApp, testEngines } from '../../test/support/app.js';
import { callJson } from '../../test/support/http.js';

const call = async (url: string, method: string, path: string, body?: unknown, token?: string): Promise<any> => (await callJson(url, method, path, body, token)).json;

const status = async (url: string, id: string) => ((await call(url, 'GET', `/api/instances/${id}`)) as { status: string }).status;

async function until(what: string, check: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

for (const engine of testEngines()) {
  test(`an agent waiting on a held request stays alive while a silent one goes stale on ${engine}`, async (t) => {
    const server = await startListeningApp({ staleAfterMs: 400, livenessIntervalMs: 50 }, engine);
    t.after(server.close);
    const listening = await call(server.url, 'POST', '/api/instances/register', { name: 'listening' });
    const silent = await call(server.url, 'POST', '/api/instances/register', { name: 'silent' });

    // The listening agent waits for a message for far longer than the stale threshold.
    const waiting = call(server.url, 'GET', '/api/messages/inbox?unread=1&wait=1m', undefined, listening.token);
    await until('the silent agent is stale', async () => (await status(server.url, silent.id)) === 'stale');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.equal(await status(server.url, listening.id), 'active', 'held requests count as signs of life');

    await call(server.url, 'POST', '/api/messages', { to: ['listening'], body: 'done waiting' });
    assert.equal((await waiting)[0].body, 'done waiting');
    // Once it stops listening, it is silent like any other.
    await until('the agent that stopped listening is stale', async () => (await status(server.url, listening.id)) === 'stale');
  });
}

for (const engine of testEngines()) {
  test(`an agent listening on an event stream stays alive while it says nothing on ${engine}`, async (t) => {
    const server = await startListeningApp({ staleAfterMs: 400, livenessIntervalMs: 50 }, engine);
    t.after(server.close);
    const listening = await call(server.url, 'POST', '/api/instances/register', { name: 'listening' });
    const silent = await call(server.url, 'POST', '/api/instances/register', { name: 'silent' });
    const ws = new WebSocket(`${server.url.replace(/^http/, 'ws')}/api/events/subscribe?pattern=build.*`, { headers: { 'x-koor-instance-token': listening.token } });
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    t.after(() => ws.terminate());

    await until('the silent agent is stale', async () => (await status(server.url, silent.id)) === 'stale');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.equal(await status(server.url, listening.id), 'active', 'an open stream is a sign of life');
    ws.close();
    await until('the agent that closed its stream is stale', async () => (await status(server.url, listening.id)) === 'stale');
  });
}

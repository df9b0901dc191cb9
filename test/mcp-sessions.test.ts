import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startListeningApp } from './support/app.js';
import { MAX_SESSIONS, MAX_SESSIONS_PER_CLIENT } from '../src/mcp/routes.js';

const ADMIN = { authorization: 'Bearer server-secret' };

async function initialize(url: string, headers: Record<string, string>): Promise<{ status: number; session: string | null; body: string }> {
  const res = await fetch(`${url}/mcp`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-03-26', capabilities: {}, clientInfo: { name: 't', version: '1' } } }),
  });
  return { status: res.status, session: res.headers.get('mcp-session-id'), body: await res.text() };
}

/** The status of a tools/list in a session: 200 while it is open, 404 once it is not (or not the caller's). */
async function listIn(url: string, session: string, headers: Record<string, string>): Promise<number> {
  const res = await fetch(`${url}/mcp`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': session, 'mcp-protocol-version': '2025-03-26', ...headers },
    body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }),
  });
  await res.arrayBuffer();
  return res.status;
}

async function register(url: string, name: string): Promise<{ id: string; headers: Record<string, string> }> {
  const res = await fetch(`${url}/api/instances/register`, { method: 'POST', headers: { 'content-type': 'application/json', ...ADMIN }, body: JSON.stringify({ name }) });
  const { id, token } = (await res.json()) as { id: string; token: string };
  return { id, headers: { authorization: `Bearer ${token}` } };
}

test('MCP sessions belong to who opened them, and one client opening many closes only its own', async (t) => {
  const { url, close } = await startListeningApp({ authToken: 'server-secret' });
  t.after(close);
  const agent = await register(url, 'agent');
  const agentSession = (await initialize(url, agent.headers)).session!;

  const mine: string[] = [];
  for (let i = 0; i <= MAX_SESSIONS_PER_CLIENT; i++) mine.push((await initialize(url, ADMIN)).session!);
  assert.equal(await listIn(url, mine[0]!, ADMIN), 404, 'the client\'s least recently used session made room');
  assert.equal(await listIn(url, mine.at(-1)!, ADMIN), 200);
  assert.equal(await listIn(url, agentSession, agent.headers), 200, 'another client\'s session is untouched');

  // A session id is no key: the agent cannot use the admin's session.
  assert.equal(await listIn(url, mine.at(-1)!, agent.headers), 404);

  // Deregistering the agent ends its sessions at once.
  await fetch(`${url}/api/instances/${agent.id}`, { method: 'DELETE', headers: ADMIN });
  const again = await register(url, 'agent-2');
  assert.equal(await listIn(url, agentSession, again.headers), 404);
});

test(`past ${MAX_SESSIONS} sessions in all, a new one is refused and no one else's is closed`, async (t) => {
  const { url, close } = await startListeningApp({ authToken: 'server-secret' });
  t.after(close);
  const clients = await Promise.all(Array.from({ length: Math.ceil(MAX_SESSIONS / MAX_SESSIONS_PER_CLIENT) }, (_, i) => register(url, `a${i}`)));
  const first: string[] = [];
  let opened = 0;
  for (const client of clients) {
    for (let i = 0; i < MAX_SESSIONS_PER_CLIENT && opened < MAX_SESSIONS; i++, opened++) {
      const session = (await initialize(url, client.headers)).session!;
      if (i === 0) first.push(session);
    }
  }
  const refused = await initialize(url, ADMIN);
  assert.equal(refused.status, 503);
  assert.match(refused.body, /holds 1000 MCP sessions, its limit/);
  assert.equal(await listIn(url, first[0]!, clients[0]!.headers), 200);
});

test('a session that registered an instance ends when that instance is deregistered', async (t) => {
  const { url, close } = await startListeningApp();
  t.after(close);
  const session = (await initialize(url, {})).session!;
  const res = await fetch(`${url}/mcp`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': session, 'mcp-protocol-version': '2025-03-26' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'register_instance', arguments: { name: 'via-mcp' } } }),
  });
  const text = ((await res.json()) as { result: { content: Array<{ text: string }> } }).result.content[0]!.text;
  const id = /id=(\S+)/.exec(text)![1]!;
  assert.equal(await listIn(url, session, {}), 200);

  assert.equal((await fetch(`${url}/api/instances/${id}`, { method: 'DELETE' })).status, 200);
  assert.equal(await listIn(url, session, {}), 404);
});

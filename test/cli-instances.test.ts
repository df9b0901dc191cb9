import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { startListeningApp } from './support/app.js';
import { CliWorkspace } from './support/cli.js';

test('koor-cli register saves the identity; later commands act as that instance', async (t) => {
  const server = await startListeningApp({ authToken: 'admin-token' });
  t.after(server.close);
  const agent = new CliWorkspace(server.url);
  t.after(() => agent.remove());

  // Registering needs the server token.
  assert.equal((await agent.run(['register', 'backend'])).code, 5);
  const registered = await agent.json(
    ['register', 'backend', '--workspace', 'repo-api', '--intent', 'orders API', '--stack', 'go-api', '--capabilities', 'api, db', '--base-url', 'http://127.0.0.1:1'],
    { env: { KOOR_TOKEN: 'admin-token' } },
  );
  assert.equal(registered.name, 'backend');
  assert.deepEqual(registered.capabilities, ['api', 'db']);
  assert.equal(typeof registered.token, 'string');
  // The identity goes to the workspace's one identity file (dotenv lines, owner-only), nowhere else.
  const identityFile = join(agent.cwd, '.koor', 'token.env');
  const identity = readFileSync(identityFile, 'utf8');
  assert.match(identity, new RegExp(`^KOOR_INSTANCE_ID=${registered.id}$`, 'm'));
  assert.match(identity, new RegExp(`^KOOR_TOKEN=${registered.token}$`, 'm'));
  assert.equal(statSync(identityFile).mode & 0o077, 0);
  assert.equal(existsSync(join(agent.cwd, 'settings.json')), false);

  // From now on the saved instance token is the credential, and the instance is the actor.
  const published = await agent.json(['events', 'publish', 'agent.note']);
  assert.equal(published.source, registered.id);
  assert.deepEqual(await agent.json(['heartbeat']), { id: registered.id, status: 'ok' });
  assert.deepEqual(await agent.json(['activate']), { id: registered.id, status: 'active' });

  const admin = new CliWorkspace(server.url, { KOOR_TOKEN: 'admin-token' });
  t.after(() => admin.remove());
  await admin.json(['register', 'frontend', '--stack', 'react']);
  const all = await admin.json(['instances', 'list']);
  assert.deepEqual(all.map((i: { name: string }) => i.name).sort(), ['backend', 'frontend']);
  assert.ok(all.every((i: { token?: string }) => i.token === undefined));
  const filtered = await admin.json(['instances', 'list', '--stack', 'go-api', '--capability', 'db', '--status', 'active']);
  assert.deepEqual(filtered.map((i: { name: string }) => i.name), ['backend']);
  const one = await admin.json(['instances', 'get', registered.id]);
  assert.equal(one.workspace, 'repo-api');
  assert.deepEqual(await admin.json(['instances', 'stale']), []);
  assert.equal((await admin.run(['instances', 'get', 'no-such-instance'])).code, 3);
  assert.equal((await admin.run(['heartbeat', 'no-such-instance'])).code, 3);
  const noId = await new CliWorkspace(server.url, { KOOR_TOKEN: 'admin-token' }).run(['heartbeat']);
  assert.equal(noId.code, 2);
  assert.match(noId.stderr, /register/);

  const audit = await admin.json(['audit', '--action', 'event.publish']);
  assert.ok(audit.some((entry: { actor: string }) => entry.actor === registered.id));

  // Deregistering forgets the identity locally and the old token stops working at once.
  assert.deepEqual(await agent.json(['deregister']), { deleted: registered.id });
  assert.doesNotMatch(readFileSync(identityFile, 'utf8'), /KOOR_TOKEN=/);
  const oldToken = await agent.run(['state', 'list'], { env: { KOOR_TOKEN: registered.token } });
  assert.equal(oldToken.code, 5);
});

test('intent over REST and koor-cli: an agent says what it works on, as MCP set_intent does', async (t) => {
  const server = await startListeningApp();
  t.after(server.close);
  const agent = new CliWorkspace(server.url);
  t.after(() => agent.remove());
  const registered = await agent.json(['register', 'api', '--workspace', 'shop']);
  assert.deepEqual(await agent.json(['intent', 'orders endpoint']), { id: registered.id, intent: 'orders endpoint', status: 'active' });
  const one = await agent.json(['instances', 'get', registered.id]);
  assert.equal(one.intent, 'orders endpoint');
  const audit = await agent.json(['audit', '--action', 'instance.intent']);
  assert.equal(audit[0].actor, registered.id);

  const res = await fetch(`${server.url}/api/instances/${registered.id}/intent`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ intent: 'x'.repeat(5000) }) });
  assert.equal(res.status, 400);
  assert.match(((await res.json()) as { error: string }).error, /intent/);
  assert.equal((await fetch(`${server.url}/api/instances/nope/intent`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"intent":"x"}' })).status, 404);
  // An agent names only its own instance (SPEC §15): another is refused (exit 5), whether it exists or not.
  const others = await agent.run(['intent', 'x', '--instance', 'nope']);
  assert.equal(others.code, 5);
  assert.match(others.stderr, /an agent acts only on its own instance/);
});

test('in local mode, --as-admin lets the person run admin commands from an agent workspace', async (t) => {
  const server = await startListeningApp({});
  t.after(server.close);
  const workspace = new CliWorkspace(server.url);
  t.after(() => workspace.remove());
  const registered = await workspace.json(['register', 'backend']);

  // The workspace's identity makes every call the agent's, and an agent may not add webhooks.
  const asAgent = await workspace.run(['webhooks', 'add', 'hook1', 'http://127.0.0.1:1/hook', '--patterns', 'api.*']);
  assert.equal(asAgent.code, 5);
  assert.match(asAgent.stderr, /agent token may not create webhooks/);

  // --as-admin leaves the identity out: the person at the keyboard is the admin in local mode.
  const added = await workspace.json(['--as-admin', 'webhooks', 'add', 'hook1', 'http://127.0.0.1:1/hook', '--patterns', 'api.*']);
  assert.equal(added.url, 'http://127.0.0.1:1/hook');
  const audit = await workspace.json(['--as-admin', 'audit', '--action', 'webhook.create']);
  // The refusal is on record as the agent's, the webhook as the person's.
  const byOutcome = (outcome: string) => audit.filter((entry: { outcome: string }) => entry.outcome === outcome);
  assert.deepEqual(byOutcome('error').map((entry: { actor: string }) => entry.actor), [registered.id]);
  assert.equal(byOutcome('success').length, 1);
  assert.notEqual(byOutcome('success')[0].actor, registered.id);
  // Without the flag the workspace still acts as its agent.
  assert.equal((await workspace.json(['events', 'publish', 'agent.note'])).source, registered.id);
});

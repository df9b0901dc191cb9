import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startListeningApp } from './support/app.js';
import { CliWorkspace } from './support/cli.js';

test('koor-cli state: set, get, list, history, diff, rollback, delete', async (t) => {
  const server = await startListeningApp();
  t.after(server.close);
  const cli = new CliWorkspace(server.url);
  t.after(() => cli.remove());

  const first = await cli.json(['state', 'set', 'proj/task', '--data', '{"step":1,"owner":{"name":"ada"}}']);
  assert.equal(first.key, 'proj/task');
  assert.equal(first.version, 1);

  // Value from stdin, and from a file.
  const second = await cli.json(['state', 'set', 'proj/task'], { input: '{"step":2,"owner":{"name":"bob"}}' });
  assert.equal(second.version, 2);
  writeFileSync(join(cli.cwd, 'notes.txt'), 'plain text\n');
  const note = await cli.json(['state', 'set', 'proj/notes', '--file', 'notes.txt', '--content-type', 'text/plain']);
  assert.equal(note.version, 1);

  // Raw value, exactly as stored.
  const raw = await cli.run(['state', 'get', 'proj/notes']);
  assert.equal(raw.code, 0);
  assert.equal(raw.stdout, 'plain text\n');
  const value = await cli.run(['state', 'get', 'proj/task']);
  assert.deepEqual(JSON.parse(value.stdout), { step: 2, owner: { name: 'bob' } });
  const old = await cli.run(['state', 'get', 'proj/task', '--version', '1']);
  assert.deepEqual(JSON.parse(old.stdout), { step: 1, owner: { name: 'ada' } });

  // --field: strings unquoted, other values as JSON.
  assert.equal((await cli.run(['state', 'get', 'proj/task', '--field', 'owner.name'])).stdout, 'bob\n');
  assert.equal((await cli.run(['state', 'get', 'proj/task', '--field', 'owner'])).stdout, '{"name":"bob"}\n');
  assert.equal((await cli.run(['state', 'get', 'proj/task', '--field', 'step'])).stdout, '2\n');
  const missingField = await cli.run(['state', 'get', 'proj/task', '--field', 'owner.age']);
  assert.equal(missingField.code, 3);
  assert.match(missingField.stderr, /field owner.age not found/);

  const list = await cli.json(['state', 'list', '--prefix', 'proj/']);
  assert.equal(list.length, 2);
  assert.deepEqual(list.map((row: { key: string }) => row.key), ['proj/notes', 'proj/task']);

  const history = await cli.json(['state', 'history', 'proj/task', '--limit', '1']);
  assert.equal(history.key, 'proj/task');
  assert.deepEqual(history.versions.map((v: { version: number }) => v.version), [2]);

  const diff = await cli.json(['state', 'diff', 'proj/task', '--v1', '1', '--v2', '2']);
  assert.equal(diff.v1, 1);
  assert.ok(diff.diffs.some((d: { path: string; new_value: unknown }) => d.path === '/step' && d.new_value === 2));

  const rolled = await cli.json(['state', 'rollback', 'proj/task', '1']);
  assert.equal(rolled.version, 3);
  assert.equal((await cli.run(['state', 'get', 'proj/task', '--field', 'step'])).stdout, '1\n');

  // --pretty indents.
  const pretty = await cli.run(['state', 'list', '--pretty']);
  assert.match(pretty.stdout, /^\[\n  \{/);

  // Keys are sent exactly as typed: spaces, non-ASCII, ?, #, % and dot segments included.
  for (const key of ['odd key/ü?x#1%', 'a/../b', 'c/./d']) {
    assert.equal((await cli.json(['state', 'set', key, '--data', JSON.stringify(key)])).key, key);
    assert.equal((await cli.run(['state', 'get', key])).stdout, JSON.stringify(key));
  }
  assert.equal((await cli.run(['state', 'get', 'b'])).code, 3);

  assert.deepEqual(await cli.json(['state', 'delete', 'proj/notes']), { deleted: 'proj/notes' });
  const gone = await cli.run(['state', 'get', 'proj/notes']);
  assert.equal(gone.code, 3);
  assert.match(gone.stderr, /^koor-cli: .*proj\/notes/);
});

test('koor-cli state: --if-changed prints "unchanged (vN)" until the value changes; --if-match guards writes', async (t) => {
  const server = await startListeningApp();
  t.after(server.close);
  const cli = new CliWorkspace(server.url);
  t.after(() => cli.remove());

  await cli.json(['state', 'set', 'plan', '--data', '{"phase":"design"}']);
  const firstRead = await cli.run(['state', 'get', 'plan', '--if-changed']);
  assert.deepEqual(JSON.parse(firstRead.stdout), { phase: 'design' });
  const again = await cli.run(['state', 'get', 'plan', '--if-changed']);
  assert.equal(again.code, 0);
  assert.equal(again.stdout, 'unchanged (v1)\n');
  const field = await cli.run(['state', 'get', 'plan', '--if-changed', '--field', 'phase']);
  assert.equal(field.stdout, 'unchanged (v1)\n');

  // Another workspace (another agent) has its own memory of what it saw.
  const other = new CliWorkspace(server.url);
  t.after(() => other.remove());
  assert.deepEqual(JSON.parse((await other.run(['state', 'get', 'plan', '--if-changed'])).stdout), { phase: 'design' });

  // Compare-and-swap: the right version wins, a stale one exits 4 with the server's message.
  const updated = await other.json(['state', 'set', 'plan', '--data', '{"phase":"build"}', '--if-match', '1']);
  assert.equal(updated.version, 2);
  const stale = await cli.run(['state', 'set', 'plan', '--data', '{"phase":"oops"}', '--if-match', '1']);
  assert.equal(stale.code, 4);
  assert.match(stale.stderr, /^koor-cli: .+/);
  assert.match(stale.stderr, /"current_version":2/);
  const createOnly = await cli.run(['state', 'set', 'plan', '--data', '{}', '--create-only']);
  assert.equal(createOnly.code, 4);
  const staleDelete = await cli.run(['state', 'delete', 'plan', '--if-match', '1']);
  assert.equal(staleDelete.code, 4);

  const changed = await cli.run(['state', 'get', 'plan', '--if-changed', '--field', 'phase']);
  assert.equal(changed.stdout, 'build\n');
  assert.equal((await cli.run(['state', 'get', 'plan', '--if-changed'])).stdout, 'unchanged (v2)\n');
  const cache = JSON.parse(readFileSync(join(cli.cwd, '.koor-cli-cache', 'etags.json'), 'utf8'));
  assert.equal(Object.keys(cache).length, 1);
});

test('koor-cli exit codes: bad input, not found, auth, unreachable; config set and status', async (t) => {
  const server = await startListeningApp({ authToken: 's3cret' });
  t.after(server.close);
  const cli = new CliWorkspace(server.url);
  t.after(() => cli.remove());

  // No token: 401 → exit 5 with the server's message.
  const denied = await cli.run(['state', 'list']);
  assert.equal(denied.code, 5);
  assert.equal(denied.stderr, 'koor-cli: invalid or missing bearer token\n');

  // config set writes ./settings.json, keeping keys it does not own.
  writeFileSync(join(cli.cwd, 'settings.json'), JSON.stringify({ bind: 'localhost:9800', project: 'x' }));
  const set = await cli.json(['config', 'set', 'token', 's3cret']);
  assert.equal(set.token, '(set)');
  const settings = JSON.parse(readFileSync(join(cli.cwd, 'settings.json'), 'utf8'));
  assert.deepEqual(settings, { bind: 'localhost:9800', project: 'x', token: 's3cret' });
  assert.deepEqual(await cli.json(['state', 'list']), []);
  // The environment wins over the file.
  assert.equal((await cli.run(['state', 'list'], { env: { KOOR_TOKEN: 'wrong' } })).code, 5);

  const status = await cli.json(['status']);
  assert.equal(status.status, 'ok');
  assert.equal(status.server, server.url);
  assert.equal(typeof status.uptime, 'string');

  // Bad input: exit 2, caught locally or by the server.
  const badVersion = await cli.run(['state', 'get', 'k', '--version', 'x']);
  assert.equal(badVersion.code, 2);
  assert.match(badVersion.stderr, /--version must be a whole number/);
  const empty = await cli.run(['state', 'set', 'k', '--data', '']);
  assert.equal(empty.code, 2);
  assert.match(empty.stderr, /^koor-cli: /);
  assert.equal((await cli.run(['state', 'frobnicate'])).code, 2);
  assert.equal((await cli.run(['config', 'set', 'colour', 'blue'])).code, 2);
  const noFile = await cli.run(['state', 'set', 'k', '--file', 'missing.json']);
  assert.equal(noFile.code, 2);
  assert.equal(noFile.stderr, 'koor-cli: cannot read --file missing.json: no such file\n');

  // Not found: exit 3.
  const missing = await cli.run(['state', 'get', 'nope']);
  assert.equal(missing.code, 3);
  assert.match(missing.stderr, /^koor-cli: .*nope.*\n$/);

  // Server down: exit 6 and one clear line.
  const url = server.url;
  await server.close();
  const down = await cli.run(['state', 'get', 'k']);
  assert.equal(down.code, 6);
  assert.equal(down.stderr, `koor-cli: cannot reach ${url}: connection refused\n`);
  assert.equal(down.stdout, '');
  assert.equal((await cli.run(['status'])).code, 6);
  const subscribe = await cli.run(['events', 'subscribe', '--after', '1']);
  assert.equal(subscribe.code, 6);
  assert.equal(subscribe.stderr, `koor-cli: cannot reach ${url}: connection refused\n`);
});

test('state set and specs set refuse a value that is not the JSON its content type says, and store it as text when told to', async (t) => {
  const server = await startListeningApp();
  t.after(server.close);
  const cli = new CliWorkspace(server.url);
  t.after(() => cli.remove());
  const bad = await cli.run(['state', 'set', 'k', '--data', '{bad']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^koor-cli: --data is not valid JSON .*cannot be stored as application\/json; give --content-type text\/plain/);
  assert.equal((await cli.run(['state', 'get', 'k'])).code, 3, 'nothing was stored');
  assert.equal((await cli.run(['specs', 'set', 'p', 'n', '--data', '{bad'])).code, 2);
  assert.equal((await cli.run(['state', 'set', 'k', '--data', '{bad', '--content-type', 'text/plain'])).code, 0);
  assert.equal((await cli.run(['state', 'get', 'k'])).stdout, '{bad');
  assert.equal((await cli.run(['state', 'set', 'k', '--content-type', 'application/vnd.koor+json'], { input: '[1,' })).code, 2);
});

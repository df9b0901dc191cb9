import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { startListeningApp } from './support/app.js';
import { CliWorkspace } from './support/cli.js';

test('koor-cli audit, metrics and llm', async (t) => {
  const server = await startListeningApp();
  t.after(server.close);
  const cli = new CliWorkspace(server.url);
  t.after(() => cli.remove());

  const agent = await cli.json(['register', 'backend']);
  await cli.json(['state', 'set', 'k', '--data', '1']);
  await cli.run(['state', 'set', 'k', '--data', '2', '--if-match', '9']); // fails: audited as a failure

  const entries = await cli.json(['audit', '--action', 'state.put', '--limit', '10']);
  assert.deepEqual(entries.map((e: { outcome: string }) => e.outcome).sort(), ['error', 'success']);
  assert.ok(entries.every((e: { actor: string; resource: string }) => e.actor === agent.id && e.resource === 'k'));
  assert.equal((await cli.json(['audit', '--actor', 'nobody'])).length, 0);
  const summary = await cli.json(['audit', 'summary']);
  assert.ok(summary.total_entries >= 3);
  assert.ok(summary.action_counts['instance.register'] >= 1);
  assert.equal((await cli.run(['audit', '--from', 'yesterday'])).code, 2);

  const metrics = await cli.json(['metrics']);
  assert.equal(metrics.state_keys, 1);
  assert.ok(metrics.token_tax.rest_calls >= 1);
  assert.ok(Array.isArray(await cli.json(['metrics', 'agents'])));
  assert.ok(Array.isArray(await cli.json(['metrics', 'agents', '--instance', agent.id])));

  const recorded = await fetch(`${server.url}/api/llm/usage`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ provider: 'anthropic', model: 'claude', project: 'shop', tokens_in: 100, tokens_out: 20, cost_usd: 0.5, session_tag: 's1' }),
  });
  assert.equal(recorded.status, 200);
  const usage = await cli.json(['llm', 'usage', '--project', 'shop', '--session-tag', 's1', '--limit', '5']);
  assert.equal(usage.length, 1);
  assert.equal(usage[0].model, 'claude');
  assert.equal((await cli.json(['llm', 'usage', '--project', 'other'])).length, 0);
  const byModel = await cli.json(['llm', 'summary', '--group-by', 'model']);
  assert.equal(byModel.group_by, 'model');
  assert.equal(byModel.groups.claude.total_tokens_in, 100);
  assert.equal((await cli.run(['llm', 'summary', '--group-by', 'colour'])).code, 2);
});

test('koor-cli backup and restore', async (t) => {
  const source = await startListeningApp();
  t.after(source.close);
  const cli = new CliWorkspace(source.url);
  t.after(() => cli.remove());

  await cli.json(['state', 'set', 'config/db', '--data', '{"host":"db1"}']);
  await cli.json(['specs', 'set', 'shop', 'readme', '--data', '{"title":"Shop"}']);
  await cli.json(['events', 'publish', 'deploy.done']);
  const backup = await cli.json(['backup', '--output', 'koor.jsonl']);
  assert.equal(backup.output, 'koor.jsonl');
  assert.ok(backup.bytes > 0);
  assert.equal(readFileSync(join(cli.cwd, 'koor.jsonl')).length, backup.bytes);
  assert.ok(!existsSync(join(cli.cwd, 'koor.jsonl.partial')));

  const target = await startListeningApp();
  t.after(target.close);
  cli.server = target.url;
  const restored = await cli.json(['restore', '--file', 'koor.jsonl']);
  assert.ok(restored.total > 0);
  assert.equal((await cli.run(['state', 'get', 'config/db', '--field', 'host'])).stdout, 'db1\n');
  assert.equal((await cli.run(['specs', 'get', 'shop', 'readme', '--field', 'title'])).stdout, 'Shop\n');

  // Into a server that already has data: refused, unless merging.
  const again = await cli.run(['restore', '--file', 'koor.jsonl']);
  assert.equal(again.code, 4);
  assert.match(again.stderr, /^koor-cli: this server already holds data .*; or run koor-cli restore --file koor\.jsonl --merge to skip rows that exist\n$/);
  assert.doesNotMatch(again.stderr, /\?merge=1/, 'a CLI user is told the CLI flag');
  assert.equal((await cli.run(['restore', '--file', 'koor.jsonl', '--merge'])).code, 0);
  const missing = await cli.run(['restore', '--file', 'nope.jsonl']);
  assert.equal(missing.code, 2);
  assert.equal(missing.stderr, 'koor-cli: cannot read --file nope.jsonl: no such file\n');
});

test('koor-cli completion scripts come from the command tree and load in their shells', async (t) => {
  const cli = new CliWorkspace('http://127.0.0.1:1');
  t.after(() => cli.remove());

  const bash = await cli.run(['completion', 'bash']);
  assert.equal(bash.code, 0);
  assert.match(bash.stdout, /complete -o default -F _koor_cli koor-cli/);
  const hasBash = spawnSync('bash', ['-c', 'true']).status === 0;
  if (hasBash) {
    // Ask the loaded function what it offers after `koor-cli state ` and `koor-cli state get `.
    const complete = (line: string) => {
      const words = line.split(' ');
      const script = `${bash.stdout}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _koor_cli; echo "\${COMPREPLY[*]}"`;
      return spawnSync('bash', ['-c', script], { encoding: 'utf8' }).stdout.trim().split(' ');
    };
    assert.deepEqual(complete('koor-cli st').sort(), ['state', 'status']);
    assert.ok(complete('koor-cli state ').includes('history'));
    assert.ok(complete('koor-cli state get --').includes('--if-changed'));
    assert.ok(complete('koor-cli --pretty events ').includes('subscribe'));
  }

  const zsh = await cli.run(['completion', 'zsh']);
  assert.equal(zsh.code, 0);
  assert.match(zsh.stdout, /^#compdef koor-cli/);
  assert.match(zsh.stdout, /'subscribe:stream events/);
  if (spawnSync('zsh', ['-c', 'true']).status === 0) {
    const parsed = spawnSync('zsh', ['-n', '-c', zsh.stdout], { encoding: 'utf8' });
    assert.equal(parsed.status, 0, parsed.stderr);
  }

  const unknown = await cli.run(['completion', 'fish']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /expected bash or zsh/);
});

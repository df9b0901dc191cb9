import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startListeningApp } from './support/app.js';
import { CliWorkspace } from './support/cli.js';
import { packageRoot } from './support/paths.js';

/** A live service for `contract test`: /ping answers as the contract says, /orders does not. */
async function startService(t: { after(fn: () => unknown): void }) {
  const service = createServer((request, response) => {
    response.setHeader('content-type', 'application/json');
    response.end(request.url === '/ping' ? '{"pong":true}' : '{"orders":"none"}');
  });
  await new Promise<void>((resolve) => service.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => service.close(resolve)));
  const address = service.address();
  return `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
}

const CONTRACT = {
  kind: 'contract',
  version: '1',
  endpoints: {
    'GET /ping': { response: { pong: { type: 'boolean', required: true } } },
    'GET /orders': { response_array: { id: { type: 'string', required: true } } },
    'POST /orders': { request: { item: { type: 'string', required: true } } },
  },
};

test("Go Koor's CLI forms run beside today's, and help shows only today's", async (t) => {
  const server = await startListeningApp();
  t.after(server.close);
  const cli = new CliWorkspace(server.url);
  t.after(() => cli.remove());

  // state rollback K --version N
  await cli.json(['state', 'set', 'Truck-Wash/status', '--data', '{"step":1}']);
  await cli.json(['state', 'set', 'Truck-Wash/status', '--data', '{"step":2}']);
  const rolled = await cli.json(['state', 'rollback', 'Truck-Wash/status', '--version', '1']);
  assert.deepEqual([rolled.version, rolled.rolled_back], [3, 1]);
  assert.equal((await cli.run(['state', 'get', 'Truck-Wash/status'])).stdout, '{"step":1}');
  assert.equal((await cli.run(['state', 'rollback', 'Truck-Wash/status', '--version', 'x'])).code, 2);

  // specs get|set|delete P/NAME, contract set|get|validate|test P/NAME
  await cli.json(['specs', 'set', 'w2c-forms/button-schema', '--data', '{"states":["idle","hover"]}']);
  assert.equal((await cli.run(['specs', 'get', 'w2c-forms/button-schema'])).stdout, '{"states":["idle","hover"]}');
  assert.equal((await cli.run(['specs', 'get', 'w2c-forms', 'button-schema'])).stdout, '{"states":["idle","hover"]}', "today's form still works");
  assert.deepEqual(await cli.json(['specs', 'delete', 'w2c-forms/button-schema']), { deleted: 'w2c-forms/button-schema' });

  writeFileSync(join(cli.cwd, 'contract.json'), JSON.stringify(CONTRACT));
  assert.equal((await cli.json(['contract', 'set', 'shop/api-contract', '--file', 'contract.json'])).name, 'api-contract');
  assert.deepEqual(JSON.parse((await cli.run(['contract', 'get', 'shop/api-contract'])).stdout), CONTRACT);

  // contract validate … --payload '{...}'
  const valid = await cli.json(['contract', 'validate', 'shop/api-contract', '--endpoint', 'POST /orders', '--direction', 'request', '--payload', '{"item":"pen"}']);
  assert.equal(valid.valid, true);
  const invalid = await cli.run(['contract', 'validate', 'shop/api-contract', '--endpoint', 'POST /orders', '--direction', 'request', '--payload', '{"qty":2}']);
  assert.equal(invalid.code, 7);
  assert.equal(JSON.parse(invalid.stdout).valid, false);

  // contract test … --target URL: every endpoint of the contract
  const service = await startService(t);
  const everything = await cli.run(['contract', 'test', 'shop/api-contract', '--target', service]);
  assert.equal(everything.code, 7, everything.stderr);
  const report = JSON.parse(everything.stdout);
  assert.deepEqual([report.valid, report.passed, report.failed], [false, 1, 2]);
  assert.deepEqual(report.results.map((r: { endpoint: string; valid: boolean }) => [r.endpoint, r.valid]), [
    ['GET /orders', false],
    ['GET /ping', true],
    ['POST /orders', false],
  ]);
  const one = await cli.json(['contract', 'test', 'shop/api-contract', '--endpoint', 'GET /ping', '--target', service]);
  assert.deepEqual([one.valid, one.status_code], [true, 200]);

  // webhooks add --id --url
  const hook = await cli.json(['webhooks', 'add', '--id', 'slack-notify', '--url', 'http://127.0.0.1:9/koor', '--patterns', 'agent.*,compliance.*', '--secret', 's']);
  assert.deepEqual([hook.id, hook.url, hook.patterns], ['slack-notify', 'http://127.0.0.1:9/koor', ['agent.*', 'compliance.*']]);
  assert.equal((await cli.run(['webhooks', 'add', '--id', 'half'])).code, 2, 'a missing --url is bad input');

  // --instance_id, metrics agents ID
  const agent = await cli.json(['register', 'claude-frontend']);
  await cli.json(['state', 'list']); // a counted call by the instance
  assert.ok(Array.isArray(await cli.json(['compliance', 'history', '--instance_id', agent.id, '--limit', '5'])));
  const byFlag = await cli.json(['metrics', 'agents', '--instance_id', agent.id]);
  const byPositional = await cli.json(['metrics', 'agents', agent.id]);
  assert.ok(byFlag.length > 0 && byFlag.every((row: { instance_id: string }) => row.instance_id === agent.id), JSON.stringify(byFlag));
  assert.deepEqual(byPositional.map((r: { metric_name: string }) => r.metric_name).sort(), byFlag.map((r: { metric_name: string }) => r.metric_name).sort());

  // templates create --id --name --kind --file (the file holds only the data)
  // (Creating templates and importing rules is the admin's: in local mode, a person's CLI with no agent identity.)
  const person = new CliWorkspace(server.url);
  t.after(() => person.remove());
  writeFileSync(join(person.cwd, 'rules.json'), JSON.stringify([{ rule_id: 'no-console-log', pattern: 'console\\.log' }]));
  const template = await person.json(['templates', 'create', '--id', 'strict-api-rules', '--name', 'Strict API Rules', '--kind', 'rules', '--file', 'rules.json', '--tags', 'api, strict']);
  assert.deepEqual([template.id, template.name, template.kind, template.tags], ['strict-api-rules', 'Strict API Rules', 'rules', ['api', 'strict']]);
  assert.deepEqual((await cli.json(['templates', 'get', 'strict-api-rules'])).data, [{ rule_id: 'no-console-log', pattern: 'console\\.log' }]);

  // llm usage --session, llm summary --by
  const recorded = await fetch(`${server.url}/api/llm/usage`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ provider: 'anthropic', model: 'claude-sonnet-4', project: 'Truck-Wash', tokens_in: 1500, tokens_out: 800, cost_usd: 0.012, session_tag: 'refactor-auth' }),
  });
  assert.equal(recorded.status, 200);
  assert.equal((await cli.json(['llm', 'usage', '--session', 'refactor-auth'])).length, 1);
  assert.equal((await cli.json(['llm', 'usage', '--session', 'other'])).length, 0);
  const summary = await cli.json(['llm', 'summary', '--by', 'model']);
  assert.equal(summary.group_by, 'model');
  assert.equal(summary.groups['claude-sonnet-4'].total_tokens_in, 1500);

  // rules export --output PATH
  await person.json(['rules', 'import', '--project', 'shop'], { input: JSON.stringify([{ rule_id: 'no-todo', pattern: 'TODO', source: 'local' }]) });
  const exported = await cli.json(['rules', 'export', '--source', 'local', '--output', 'my-org-rules.json']);
  assert.deepEqual(exported, { output: 'my-org-rules.json', rules: 1 });
  const file = readFileSync(join(cli.cwd, 'my-org-rules.json'), 'utf8');
  assert.ok(file.endsWith('\n') && file.includes('\n  '), 'indented JSON, as Go writes it');
  assert.deepEqual(JSON.parse(file).map((r: { rule_id: string }) => r.rule_id), ['no-todo']);

  // `--pretty` anywhere, as in Go.
  assert.match((await cli.run(['--pretty', 'specs', 'get', 'shop/api-contract'])).stdout, /^\{\n {2}"kind"/);

  // Help shows today's forms only.
  const help = [
    await cli.run(['state', 'rollback', '--help']),
    await cli.run(['templates', 'create', '--help']),
    await cli.run(['rules', 'export', '--help']),
  ].map((r) => r.stdout).join('\n');
  for (const goOnly of ['--version', '--id', '--kind', '--tags', '--output']) assert.ok(!help.includes(goOnly), `${goOnly} is not in the help`);

  // docs/cli.md lists every alias in its one table.
  const docs = readFileSync(join(packageRoot(), 'docs', 'cli.md'), 'utf8');
  for (const form of ['state rollback KEY --version N', 'specs get PROJECT/NAME', 'contract validate', '--payload', '--target URL', 'webhooks add --id ID --url URL', '--instance_id', 'metrics agents ID', 'templates create --id', 'llm usage --session', 'llm summary --by', 'rules export [--source S] --output PATH']) {
    assert.ok(docs.includes(form), `docs/cli.md names ${form}`);
  }
});

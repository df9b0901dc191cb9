import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startListeningApp } from './support/app.js';
import { CliWorkspace } from './support/cli.js';

const RULES = [
  { rule_id: 'no-console', severity: 'error', match_type: 'regex', pattern: String.raw`console\.log`, message: 'use the logger', applies_to: ['*.ts'], source: 'local' },
  { rule_id: 'no-todo', severity: 'warning', match_type: 'regex', pattern: 'TODO', message: 'file an issue instead' },
];

test('koor-cli rules, validate, compliance and templates', async (t) => {
  const server = await startListeningApp();
  t.after(server.close);
  const cli = new CliWorkspace(server.url);
  t.after(() => cli.remove());

  writeFileSync(join(cli.cwd, 'rules.json'), JSON.stringify(RULES));
  assert.deepEqual(await cli.json(['rules', 'import', '--file', 'rules.json', '--project', 'shop']), { imported: 2 });
  assert.equal((await cli.run(['rules', 'import'], { input: '[]' })).code, 2);
  assert.equal((await cli.run(['rules', 'import'], { input: '{"not":"an array"}' })).code, 2);
  const listed = await cli.json(['rules', 'list', 'shop']);
  assert.deepEqual(listed.rules.map((r: { rule_id: string }) => r.rule_id).sort(), ['no-console', 'no-todo']);

  // validate sends the file's path and content; error-level violations exit 7.
  writeFileSync(join(cli.cwd, 'app.ts'), 'const a = 1;\nconsole.log(a); // TODO\n');
  const failing = await cli.run(['validate', 'shop', '--file', 'app.ts']);
  assert.equal(failing.code, 7);
  const report = JSON.parse(failing.stdout);
  assert.equal(report.count, 2);
  assert.deepEqual(report.violations.map((v: { rule_id: string; line: number }) => [v.rule_id, v.line]).sort(), [['no-console', 2], ['no-todo', 2]]);
  writeFileSync(join(cli.cwd, 'notes.md'), 'console.log here is prose; TODO later\n');
  const warningsOnly = await cli.run(['validate', 'shop', '--file', 'notes.md']);
  assert.equal(warningsOnly.code, 0, 'no-console only applies to *.ts');
  assert.deepEqual(JSON.parse(warningsOnly.stdout).violations.map((v: { rule_id: string }) => v.rule_id), ['no-todo']);
  const fromStdin = await cli.json(['validate', 'shop', '--filename', 'x.md'], { input: 'all good\n' });
  assert.equal(fromStdin.count, 0);

  // Learned rules: proposed, then accepted or rejected.
  const proposed = await cli.json(['rules', 'propose', 'shop', 'no-eval', '--pattern', String.raw`\beval\(`, '--message', 'never eval', '--severity', 'error', '--context', 'seen in review']);
  assert.deepEqual(proposed, { project: 'shop', rule_id: 'no-eval', status: 'proposed' });
  await cli.json(['rules', 'propose', 'shop', 'no-var', '--pattern', String.raw`\bvar\b`, '--message', 'use let']);
  assert.equal((await cli.run(['rules', 'propose', 'shop', 'x', '--pattern', '('])).code, 2, 'missing --message');
  assert.equal((await cli.json(['rules', 'accept', 'shop', 'no-eval'])).status, 'accepted');
  assert.equal((await cli.json(['rules', 'reject', 'shop', 'no-var'])).status, 'rejected');
  assert.equal((await cli.run(['rules', 'accept', 'shop', 'no-var'])).code, 3, 'only proposed rules can be accepted');

  const exported = await cli.run(['rules', 'export']);
  assert.equal(exported.code, 0);
  const ids = JSON.parse(exported.stdout).map((r: { rule_id: string }) => r.rule_id).sort();
  assert.deepEqual(ids, ['no-console', 'no-eval'], 'local and learned by default');
  const external = await cli.json(['rules', 'export', '--source', 'external']);
  assert.deepEqual(external.map((r: { rule_id: string }) => r.rule_id), ['no-todo']);

  // Compliance: run now, then read the history.
  const run = await cli.json(['compliance', 'run']);
  assert.equal(run.checked, true);
  assert.ok(Array.isArray(await cli.json(['compliance', 'history', '--limit', '5'])));

  // Templates.
  const template = { id: 'ts-basics', name: 'TypeScript basics', kind: 'rules', tags: ['ts'], data: [{ rule_id: 'no-any', pattern: ': any\\b', message: 'type it' }] };
  writeFileSync(join(cli.cwd, 'template.json'), JSON.stringify(template));
  const created = await cli.json(['templates', 'create', '--file', 'template.json']);
  assert.equal(created.id, 'ts-basics');
  assert.equal((await cli.run(['templates', 'create'], { input: readFileSync(join(cli.cwd, 'template.json'), 'utf8') })).code, 4, 'duplicate id');
  const templates = await cli.json(['templates', 'list', '--kind', 'rules', '--tag', 'ts']);
  assert.deepEqual(templates.map((x: { id: string }) => x.id), ['ts-basics']);
  assert.deepEqual((await cli.json(['templates', 'get', 'ts-basics'])).data, template.data);
  const applied = await cli.json(['templates', 'apply', 'ts-basics', '--project', 'web']);
  assert.equal(applied.applied, 'ts-basics');
  assert.equal(applied.project, 'web');
  assert.deepEqual((await cli.json(['rules', 'list', 'web'])).rules.map((r: { rule_id: string }) => r.rule_id), ['no-any']);
  assert.equal((await cli.run(['templates', 'apply', 'ts-basics'])).code, 2, '--project is required');
  assert.deepEqual(await cli.json(['templates', 'delete', 'ts-basics']), { deleted: 'ts-basics' });
  assert.equal((await cli.run(['templates', 'get', 'ts-basics'])).code, 3);
});

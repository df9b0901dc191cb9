import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestApp } from '../../test/support/app.js';
import { packageRoot } from '../../test/support/paths.js';

const curated = JSON.parse(readFileSync(join(packageRoot(), 'rules', 'common.json'), 'utf8')) as { rule_id: string; project: string; source: string }[];

// For every curated rule: a file it must flag and clean code of the same kind it must leave alone.
const samples: Record<string, { filename: string; bad: string; clean: string }> = {
  'no-debugger': { filename: 'src/app.ts', bad: 'function f() {\n  debugger;\n}', clean: 'const debuggerEnabled = false;\n// the debugger panel' },
  'no-python-breakpoint': { filename: 'tool.py', bad: 'x = 1\nimport pdb; pdb.set_trace()', clean: 'def set_breakpoint_count(n):\n    return n' },
  'no-eval': { filename: 'lib/run.js', bad: 'const out = eval(userInput);', clean: 'const out = evaluate(input);\nmodel.eval();' },
  'no-aws-access-key': { filename: 'config/settings.yaml', bad: 'aws_key: AKIAIOSFODNN7EXAMPLE', clean: 'aws_key: ${AWS_ACCESS_KEY_ID}' },
  'no-private-key': { filename: 'deploy/id_rsa', bad: '-----BEGIN RSA PRIVATE KEY-----\nMIIEow...', clean: '-----BEGIN PUBLIC KEY-----\nMIIBIj...' },
  'no-hardcoded-password': { filename: 'src/db.py', bad: 'PASSWORD = "hunter2hunter2"', clean: 'password = os.environ["DB_PASSWORD"]\npassword = ""' },
  'no-localhost-url': { filename: 'src/client.ts', bad: "const api = 'http://localhost:8080/api';", clean: 'const api = process.env.API_URL;' },
  'no-todo-fixme': { filename: 'README.md', bad: 'Ship it.\nTODO: write the docs', clean: 'Ship it.\nAll done.' },
  'no-console-log': { filename: 'src/app.tsx', bad: 'console.log("state", state);', clean: 'logger.info("state");\n// console.log("old debugging")' },
};

test('the curated rules import cleanly and each fires on its sample only', async (t) => {
  const { app, close } = await startTestApp();
  t.after(close);
  assert.ok(curated.length >= 9);
  for (const rule of curated) {
    assert.equal(rule.project, '_global', rule.rule_id);
    assert.equal(rule.source, 'external', rule.rule_id);
    assert.ok(samples[rule.rule_id], `no sample for ${rule.rule_id}`);
  }
  const imported = await app.inject({ method: 'POST', url: '/api/rules/import', payload: curated });
  assert.equal(imported.statusCode, 200, imported.body);
  assert.deepEqual(imported.json(), { imported: curated.length });

  for (const [ruleId, sample] of Object.entries(samples)) {
    const bad = await app.inject({ method: 'POST', url: '/api/validate/any-project', payload: { filename: sample.filename, content: sample.bad } });
    const flagged = bad.json().violations.map((v: { rule_id: string }) => v.rule_id);
    assert.ok(flagged.includes(ruleId), `${ruleId} did not fire on its sample: ${JSON.stringify(bad.json())}`);
    const clean = await app.inject({ method: 'POST', url: '/api/validate/any-project', payload: { filename: sample.filename, content: sample.clean } });
    assert.deepEqual(clean.json().violations, [], `${ruleId} sample: clean code was flagged`);
  }

  // applies_to keeps language-specific rules to their files.
  const markdown = await app.inject({ method: 'POST', url: '/api/validate/any-project', payload: { filename: 'notes.md', content: 'console.log(x); debugger;' } });
  assert.deepEqual(markdown.json().violations, []);
});

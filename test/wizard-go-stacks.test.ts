import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { binCommand } from './support/bin.js';

/** Runs the real koor-wizard with no terminal (stdin closed), in `cwd`. */
function wizard(args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const { command, args: pre } = binCommand('koor-wizard');
  return new Promise((resolve) => {
    const child = execFile(command, [...pre, ...args], { cwd, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
    child.stdin?.end();
  });
}

test("Go Koor's stacks goth, flutter and c, and go-api's database choice", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'koor-wizard-go-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const agents = 'web:goth,app:flutter,fw:c,api:go-api:postgres,cache:go-api:memory,db:go-api:sqlite,plain:go-api';
  const run = await wizard(['--project', 'Truck-Wash', '--dir', dir, '--agents', agents, '--yes'], dir);
  assert.equal(run.code, 0, run.stderr);
  assert.doesNotMatch(run.stdout, /no preset/);

  const instructions = (agent: string) => readFileSync(join(dir, 'Truck-Wash', agent, 'AGENTS.md'), 'utf8');
  const expected: Record<string, string[]> = {
    web: ['templ generate && go build ./...', 'go test ./... -count=1', 'go run ./cmd/server', 'Go + templ + HTMX', 'views/index.templ'],
    app: ['flutter test', 'flutter run', 'flutter analyze', 'lib/main.dart'],
    fw: ['make test', 'make run', 'src/main.c'],
    api: ['go build ./...', 'PostgreSQL'],
    cache: ['data in memory'],
    db: ['SQLite'],
  };
  for (const [agent, parts] of Object.entries(expected)) {
    const text = instructions(agent);
    for (const part of parts) assert.ok(text.includes(part), `${agent}: AGENTS.md should contain ${part}`);
  }
  assert.ok(!instructions('plain').includes('data in'), 'without a choice, go-api names no database');

  for (const [bad, named] of [['x:react:postgres', /no database choice/], ['x:go-api:oracle', /oracle.*sqlite, postgres, memory/]] as const) {
    const refused = await wizard(['--project', 'p', '--dir', dir, '--agents', bad, '--yes'], dir);
    assert.notEqual(refused.code, 0, bad);
    assert.match(refused.stderr + refused.stdout, named, bad);
  }
});

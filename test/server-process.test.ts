import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runServerToExit, startServerProcess } from './support/server-process.js';

test('the koor-server bin serves over a socket, stops on SIGTERM with 0 and keeps its data', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'koor-process-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));

  const first = await startServerProcess(dataDir);
  t.after(() => first.child.kill('SIGKILL'));
  assert.equal((await fetch(`${first.url}/health`)).status, 200);
  const put = await fetch(`${first.url}/api/state/team/plan`, { method: 'PUT', headers: { 'content-type': 'text/plain' }, body: 'ship it' });
  assert.equal(put.status, 200);
  await fetch(`${first.url}/api/state/team/plan`, { method: 'PUT', headers: { 'content-type': 'text/plain' }, body: 'ship it today' });
  assert.equal((await fetch(`${first.url}/api/specs/app/api`, { method: 'PUT', body: '{"openapi":"3.1.0"}' })).status, 200);

  first.child.kill('SIGTERM');
  assert.deepEqual(await first.exited, { code: 0, signal: null });

  const second = await startServerProcess(dataDir);
  t.after(() => second.child.kill('SIGKILL'));
  const value = await fetch(`${second.url}/api/state/team/plan`);
  assert.equal(value.status, 200);
  assert.equal(await value.text(), 'ship it today');
  assert.equal(value.headers.get('content-type'), 'text/plain');
  assert.equal(value.headers.get('x-koor-version'), '2');
  assert.equal(await (await fetch(`${second.url}/api/state/team/plan?version=1`)).text(), 'ship it');
  assert.equal(await (await fetch(`${second.url}/api/specs/app/api`)).text(), '{"openapi":"3.1.0"}');
  // Version numbers continue where they stopped.
  const next = (await (await fetch(`${second.url}/api/state/team/plan`, { method: 'PUT', body: '"3"' })).json()) as { version: number };
  assert.equal(next.version, 3);

  second.child.kill('SIGTERM');
  assert.equal((await second.exited).code, 0);
});

test('the koor-server bin refuses bad settings with one line naming the setting', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'koor-badcfg-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const cases: Array<[string[], RegExp]> = [
    [['--bind', 'localhost:99999'], /--bind.*99999/],
    [['--log-level', 'loud'], /--log-level.*loud/],
    [['--config', '/nonexistent.json'], /config file \/nonexistent\.json/],
  ];
  for (const [args, named] of cases) {
    const result = await runServerToExit([...args, '--data-dir', dataDir, '--dashboard-bind', ''], dataDir);
    assert.notEqual(result.code, 0, args.join(' '));
    const lines = result.stderr.trim().split('\n');
    assert.equal(lines.length, 1, `one line for ${args.join(' ')}: ${result.stderr}`);
    assert.match(lines[0]!, named);
  }
});

test('koor-server --help and --version answer and exit 0; by default the start-up line is readable and gives both URLs', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'koor-help-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const help = await runServerToExit(['--help'], dataDir);
  assert.equal(help.code, 0, help.stderr);
  for (const flag of ['--bind', '--dashboard-bind', '--data-dir', '--auth-token', '--log-format', 'KOOR_AUTH_TOKEN', 'dashboard_bind']) assert.ok(help.stdout.includes(flag), flag);
  const version = await runServerToExit(['--version'], dataDir);
  assert.equal(version.code, 0);
  assert.match(version.stdout, /^\d+\.\d+\.\d+\n$/);

  // The default format: one readable line naming the API and dashboard URLs, no JSON.
  const { binCommand } = await import('./support/bin.js');
  const { spawn } = await import('node:child_process');
  const { command, args } = binCommand('koor-server');
  const child = spawn(command, [...args, '--bind', '127.0.0.1:0', '--dashboard-bind', '127.0.0.1:0', '--data-dir', dataDir], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: Object.fromEntries(Object.entries({ ...process.env, KOOR_AUTH_TOKEN: '' }).filter(([k]) => k !== 'KOOR_LOG_FORMAT')),
  });
  t.after(() => child.kill('SIGKILL'));
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const found = out.split('\n').find((l) => l.includes('is up'));
      if (found) resolve(found);
    });
    child.on('exit', () => reject(new Error(`exited early: ${out}`)));
  });
  assert.match(line, /Koor \d+\.\d+\.\d+ is up: API http:\/\/127\.0\.0\.1:\d+ \(MCP at \/mcp\), dashboard http:\/\/127\.0\.0\.1:\d+, SQLite in /);
  assert.doesNotMatch(line, /^\{/, 'not a JSON line');
});

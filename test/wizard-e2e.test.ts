import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { startListeningApp } from './support/app.js';
import { binCommand } from './support/bin.js';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(command, args, { cwd, env, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
    child.stdin?.end();
  });
}

/** The koor-cli lines of every fenced block that follows a `<!-- koor:commands -->` marker, in order. */
function markedCommands(markdown: string): string[] {
  const blocks = [...markdown.matchAll(/<!-- koor:commands -->\n```sh\n([\s\S]*?)\n```/g)];
  return blocks.flatMap((m) => m[1].split('\n')).filter((line) => line.trim() !== '');
}

/** A `koor-cli` on PATH that runs this checkout's CLI, so the lines run exactly as an agent's shell would. */
function installCliShim(binDir: string): void {
  const { command, args } = binCommand('koor-cli');
  const quoted = [command, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  mkdirSync(binDir, { recursive: true });
  const shim = join(binDir, 'koor-cli');
  writeFileSync(shim, `#!/bin/sh\nexec ${quoted} "$@"\n`);
  chmodSync(shim, 0o755);
}

test('the koor-cli commands in the generated instructions work as written against a real server', async (t) => {
  const token = 'e2e-server-token';
  const server = await startListeningApp({ authToken: token });
  t.after(server.close);
  const dir = mkdtempSync(join(tmpdir(), 'koor-wizard-e2e-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));

  const wizard = binCommand('koor-wizard');
  const scaffold = await run(
    wizard.command,
    [...wizard.args, '--project', 'shop', '--server', server.url, '--token', token, '--dir', dir, '--agents', 'web:react', '--yes'],
    dir,
  );
  assert.equal(scaffold.code, 0, scaffold.stderr);

  const binDir = join(dir, 'bin');
  installCliShim(binDir);
  // Only what the workspace's settings.json says may reach the CLI.
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${binDir}:${process.env.PATH}` };
  delete env.KOOR_SERVER;
  delete env.KOOR_TOKEN;

  const controllerDir = join(dir, 'shop', 'controller');
  const webDir = join(dir, 'shop', 'web');
  const shell = async (line: string, cwd: string): Promise<Run> => {
    const result = await run('/bin/sh', ['-c', line], cwd, env);
    assert.equal(result.code, 0, `\`${line}\` in ${cwd} exited ${result.code}: ${result.stderr}`);
    return result;
  };

  // The web agent first registers over MCP exactly as its instructions say, with the URL and
  // headers of the generated Claude Code config.
  const mcpEntry = JSON.parse(readFileSync(join(webDir, '.mcp.json'), 'utf8')).mcpServers.koor;
  const client = new Client({ name: 'wizard-e2e', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(mcpEntry.url), { requestInit: { headers: mcpEntry.headers } }));
  t.after(() => client.close());
  const registered = await client.callTool({ name: 'register_instance', arguments: { name: 'web', workspace: 'shop', stack: 'react' } });
  assert.notEqual(registered.isError, true, JSON.stringify(registered));

  // The controller: register, publish the plan, assign the task, look at reports.
  const controllerCommands = markedCommands(readFileSync(join(controllerDir, 'AGENTS.md'), 'utf8'));
  assert.ok(controllerCommands.some((c) => c.startsWith('koor-cli state set shop/web-task')));
  for (const line of controllerCommands) {
    assert.match(line, /^koor-cli /);
    await shell(line, controllerDir);
  }

  // The agent: every marked command, from its own folder, after writing the file it validates.
  const webInstructions = readFileSync(join(webDir, 'AGENTS.md'), 'utf8');
  const webCommands = markedCommands(webInstructions);
  assert.ok(webCommands.length >= 8, `expected the agent's command blocks, found ${webCommands.length}`);
  mkdirSync(join(webDir, 'src'), { recursive: true });
  writeFileSync(join(webDir, 'src', 'App.tsx'), 'export const App = () => null;\n');
  const outputs = new Map<string, string>();
  for (const line of webCommands) {
    assert.match(line, /^koor-cli /);
    outputs.set(line, (await shell(line, webDir)).stdout);
  }
  assert.equal(JSON.parse(outputs.get('koor-cli state get shop/web-task')!).title, 'First task for web', 'the agent reads the task the controller set');
  assert.match(outputs.get('koor-cli specs get shop overview')!, /^# shop: overview/);

  // The controller accepts the rule the agent proposed, with the command its instructions give.
  const accept = readFileSync(join(controllerDir, 'AGENTS.md'), 'utf8').match(/^koor-cli rules accept shop RULE_ID$/m);
  assert.ok(accept, 'the controller is told how to accept a rule');
  await shell(accept[0].replace('RULE_ID', 'no-console-log'), controllerDir);

  // What the server saw: the registrations (web twice: over MCP above and by the CLI fallback
  // line its instructions also carry), the reports, and the accepted rule at work.
  const auth = { authorization: `Bearer ${token}` };
  const instances = (await server.app.inject({ method: 'GET', url: '/api/instances?workspace=shop', headers: auth })).json();
  assert.deepEqual(instances.map((i: { name: string }) => i.name).sort(), ['controller', 'web', 'web']);
  const events = (await server.app.inject({ method: 'GET', url: '/api/events/history?topic=shop.web.*', headers: auth })).json();
  assert.deepEqual(events.map((e: { topic: string }) => e.topic).sort(), ['shop.web.blocked', 'shop.web.done']);
  writeFileSync(join(webDir, 'src', 'App.tsx'), 'console.log("debug");\n');
  const validate = await run('/bin/sh', ['-c', 'koor-cli validate shop --file src/App.tsx'], webDir, env);
  assert.equal(validate.code, 7, 'the accepted rule now flags console.log');
  assert.match(validate.stdout, /no-console-log/);
});

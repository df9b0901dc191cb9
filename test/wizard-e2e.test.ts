import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { startListeningApp } from './support/app.js';
import { binCommand } from './support/bin.js';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Only what the workspace holds may reach the CLI: no KOOR_* from the test's own environment. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) if (!name.startsWith('KOOR_') && !name.startsWith('CURSOR_')) env[name] = value;
  return { ...env, XDG_CACHE_HOME: join(tmpdir(), 'koor-e2e-cache'), ...extra };
}

function run(command: string, args: string[], cwd: string, options: { env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(command, args, { cwd, env: options.env ?? cleanEnv(), timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
    child.stdin?.end(options.input);
  });
}

/** The lines of every fenced block that follows a `<!-- koor:commands -->` marker, in order. */
function markedCommands(markdown: string): string[] {
  const blocks = [...markdown.matchAll(/<!-- koor:commands -->\n```sh\n([\s\S]*?)\n```/g)];
  return blocks.flatMap((m) => m[1].split('\n')).filter((line) => line.trim() !== '');
}

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(relative(dir, p));
    }
  };
  walk(dir);
  return out;
}

/** The `KEY=value` lines of a workspace's identity file. */
function identity(ws: string): { KOOR_TOKEN: string; KOOR_INSTANCE_ID: string } {
  const values: Record<string, string> = {};
  for (const line of readFileSync(join(ws, '.koor', 'token.env'), 'utf8').split('\n')) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line);
    if (m) values[m[1]] = m[2];
  }
  return values as { KOOR_TOKEN: string; KOOR_INSTANCE_ID: string };
}

test('the wizard gives each agent its own identity, and the instructions and hooks work as written against a real server', async (t) => {
  const adminToken = 'e2e-server-token';
  const server = await startListeningApp({ authToken: adminToken });
  let closed = false;
  const closeServer = async () => {
    if (!closed) await server.close();
    closed = true;
  };
  t.after(closeServer);
  const dir = mkdtempSync(join(tmpdir(), 'koor-wizard-e2e-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const admin = { authorization: `Bearer ${adminToken}` };

  const wizard = binCommand('koor-wizard');
  const scaffold = await run(
    wizard.command,
    [...wizard.args, '--project', 'shop', '--server', server.url, '--token', adminToken, '--dir', dir, '--agents', 'web:react,api:node', '--yes'],
    dir,
  );
  assert.equal(scaffold.code, 0, scaffold.stderr);
  assert.match(scaffold.stdout, /registered {3}shop\/web \(its token is in shop\/web\/\.koor\/token\.env\)/);

  const project = join(dir, 'shop');
  const controllerDir = join(project, 'controller');
  const webDir = join(project, 'web');
  const apiDir = join(project, 'api');

  // One identity per workspace: its own instance and token, never the server's, written only
  // in the git-ignored identity file (owner-only), and named by variable everywhere else.
  const ids = new Map<string, { KOOR_TOKEN: string; KOOR_INSTANCE_ID: string }>();
  for (const ws of [controllerDir, webDir, apiDir]) {
    const id = identity(ws);
    assert.match(id.KOOR_TOKEN, /^[0-9a-f]{32,}$/);
    assert.notEqual(id.KOOR_TOKEN, adminToken);
    assert.equal(statSync(join(ws, '.koor', 'token.env')).mode & 0o077, 0, 'only its owner may read the identity file');
    assert.match(readFileSync(join(ws, '.gitignore'), 'utf8'), /^\.koor\/$/m);
    for (const file of filesUnder(ws).filter((f) => !f.startsWith('.koor/'))) {
      const text = readFileSync(join(ws, file), 'utf8');
      assert.ok(!text.includes(id.KOOR_TOKEN) && !text.includes(adminToken), `${file} holds no token`);
    }
    ids.set(ws, id);
  }
  assert.equal(new Set([...ids.values()].map((i) => i.KOOR_TOKEN)).size, 3, 'every agent has a token of its own');
  const instances = (await server.app.inject({ method: 'GET', url: '/api/instances?workspace=shop', headers: admin })).json();
  assert.deepEqual(instances.map((i: { name: string }) => i.name).sort(), ['api', 'controller', 'web']);
  const webId = ids.get(webDir)!.KOOR_INSTANCE_ID;
  assert.equal(instances.find((i: { name: string }) => i.name === 'web').id, webId);

  // The MCP config, with KOOR_TOKEN expanded as Claude Code would, connects as that agent.
  const mcpEntry = JSON.parse(readFileSync(join(webDir, '.mcp.json'), 'utf8')).mcpServers.koor;
  const headers = { Authorization: mcpEntry.headers.Authorization.replace('${KOOR_TOKEN}', ids.get(webDir)!.KOOR_TOKEN) };
  const client = new Client({ name: 'wizard-e2e', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(mcpEntry.url), { requestInit: { headers } }));
  t.after(() => client.close());
  const found = await client.callTool({ name: 'discover_instances', arguments: { workspace: 'shop' } });
  assert.notEqual(found.isError, true, JSON.stringify(found));

  const shell = async (line: string, cwd: string, env?: NodeJS.ProcessEnv): Promise<Run> => {
    const result = await run('/bin/sh', ['-c', line], cwd, { env });
    assert.equal(result.code, 0, `\`${line}\` in ${cwd} exited ${result.code}: ${result.stderr}`);
    return result;
  };
  const hook = (ws: string, tool: string, act: string, input: unknown, env?: NodeJS.ProcessEnv) =>
    run('/bin/sh', ['-c', `./koor-cli hook ${tool} ${act}`], ws, { input: JSON.stringify(input), env });

  // The agent's first session: its digest starts now and says nothing.
  const start = await hook(webDir, 'claude', 'digest', { session_id: 's1', hook_event_name: 'SessionStart', source: 'startup' });
  assert.equal(start.code, 0, start.stderr);
  assert.equal(start.stdout, '', 'nothing changed yet');

  // The controller: publish the plan, assign the tasks, look at reports, with the launcher in
  // its folder (koor-cli need not be on PATH).
  const controllerCommands = markedCommands(readFileSync(join(controllerDir, 'AGENTS.md'), 'utf8'));
  assert.ok(controllerCommands.some((c) => c.startsWith('./koor-cli state set shop/web-task')));
  for (const line of controllerCommands) {
    assert.match(line, /^\.\/koor-cli /);
    await shell(line, controllerDir);
  }

  // The web agent's next prompt: the digest tells it its task changed, in Claude Code's format.
  const prompt = { session_id: 's1', hook_event_name: 'UserPromptSubmit', prompt: 'go on', cwd: webDir };
  const digest = await hook(webDir, 'claude', 'digest', prompt);
  assert.equal(digest.code, 0, digest.stderr);
  const context = JSON.parse(digest.stdout).hookSpecificOutput;
  assert.equal(context.hookEventName, 'UserPromptSubmit');
  assert.match(context.additionalContext, /state shop\/web-task is now v1 \(by controller\): \.\/koor-cli state get shop\/web-task --if-changed/);
  assert.match(context.additionalContext, /spec shop\/overview is now v1/);
  assert.doesNotMatch(context.additionalContext, /api-task/, 'another agent\'s task is not this agent\'s news');
  // Nothing new since: empty output, no tokens spent.
  const quiet = await hook(webDir, 'claude', 'digest', prompt);
  assert.equal(quiet.code, 0);
  assert.equal(quiet.stdout, '');

  // The agent: every marked command of its instructions, from its own folder.
  const webCommands = markedCommands(readFileSync(join(webDir, 'AGENTS.md'), 'utf8'));
  assert.ok(webCommands.length >= 6, `expected the agent's command blocks, found ${webCommands.length}`);
  mkdirSync(join(webDir, 'src'), { recursive: true });
  writeFileSync(join(webDir, 'src', 'App.tsx'), 'export const App = () => null;\n');
  const outputs = new Map<string, string>();
  for (const line of webCommands) {
    assert.match(line, /^\.\/koor-cli /);
    outputs.set(line, (await shell(line, webDir)).stdout);
  }
  assert.equal(JSON.parse(outputs.get('./koor-cli state get shop/web-task --if-changed')!).title, 'First task for web', 'the agent reads the task the controller set');
  assert.equal((await shell('./koor-cli state get shop/web-task --if-changed', webDir)).stdout, 'unchanged (v1)\n');

  // What the agent did is the agent's, not the admin's or anonymous.
  const audit = (await server.app.inject({ method: 'GET', url: '/api/audit?action=rule.propose', headers: admin })).json();
  assert.equal(audit[0]?.actor, webId);
  const reports = (await server.app.inject({ method: 'GET', url: '/api/events/history?topic=shop.web.*', headers: admin })).json();
  assert.deepEqual(reports.map((e: { source: string }) => e.source), [webId, webId]);

  // The controller hears of the reports and the proposed rule, here through Cursor's and
  // Gemini CLI's hooks (each in its own format), and accepts the rule with the server token.
  await hook(controllerDir, 'cursor', 'digest', { hook_event_name: 'sessionStart', session_id: 'c1' });
  await shell(`./koor-cli events publish shop.api.blocked --data '{"need":"the API contract"}'`, apiDir);
  const cursorDigest = JSON.parse((await hook(controllerDir, 'cursor', 'digest', { hook_event_name: 'postToolUse', tool_name: 'Shell' })).stdout);
  assert.match(cursorDigest.additional_context, /shop\.api\.blocked from api: \{"need":"the API contract"\}/);
  assert.deepEqual(JSON.parse((await hook(controllerDir, 'gemini', 'digest', { hook_event_name: 'BeforeAgent', prompt: 'x' })).stdout), {});
  const accept = readFileSync(join(controllerDir, 'AGENTS.md'), 'utf8').match(/^\.\/koor-cli rules accept shop RULE_ID$/m);
  assert.ok(accept, 'the controller is told how to accept a rule');
  await shell(accept[0].replace('RULE_ID', 'no-console-log'), controllerDir, cleanEnv({ KOOR_TOKEN: adminToken }));
  writeFileSync(join(webDir, 'src', 'App.tsx'), 'console.log("debug");\n');
  const validate = await run('/bin/sh', ['-c', './koor-cli validate shop --file src/App.tsx'], webDir);
  assert.equal(validate.code, 7, 'the accepted rule now flags console.log');

  // Hooks are run by the tools from wherever; the launcher makes them act as their workspace:
  // web hears of api's report, in Gemini CLI's format.
  const fromElsewhere = await run(join(webDir, 'koor-cli'), ['hook', 'gemini', 'digest'], tmpdir(), { input: '{"hook_event_name":"BeforeAgent"}' });
  assert.equal(fromElsewhere.code, 0, fromElsewhere.stderr);
  const gemini = JSON.parse(fromElsewhere.stdout).hookSpecificOutput;
  assert.equal(gemini.hookEventName, 'BeforeAgent');
  assert.match(gemini.additionalContext, /shop\.api\.blocked from api/);
  assert.doesNotMatch(gemini.additionalContext, /shop\.web\./, "an agent's own reports are not news to it");

  // A message to web reaches its next turn through the digest, once.
  await shell(`./koor-cli send web 'Please also add a footer with the shop hours'`, controllerDir);
  const withMessage = JSON.parse((await hook(webDir, 'claude', 'digest', prompt)).stdout).hookSpecificOutput.additionalContext;
  assert.match(withMessage, /- message \d+ from controller: Please also add a footer with the shop hours \(done with it: \.\/koor-cli ack \d+\)/);
  assert.equal((await hook(webDir, 'claude', 'digest', prompt)).stdout, '', 'a message is told once');

  // api leases a file; web's edit of it is refused before it happens, with the holder's name
  // and reason, in each tool's format; a file nobody leases is allowed.
  await shell(`./koor-cli lease acquire src/App.tsx --reason 'moving the app shell to the new router'`, apiDir);
  const target = join(webDir, 'src', 'App.tsx');
  const claudeEdit = await hook(webDir, 'claude', 'pre-edit', { hook_event_name: 'PreToolUse', tool_name: 'Edit', tool_input: { file_path: target, old_string: 'a', new_string: 'b' }, cwd: webDir });
  const decision = JSON.parse(claudeEdit.stdout).hookSpecificOutput;
  assert.equal(decision.permissionDecision, 'deny');
  assert.match(decision.permissionDecisionReason, /src\/App\.tsx is leased by api for \d+ more minutes \(reason: moving the app shell to the new router\)/);
  const cursorEdit = JSON.parse((await hook(webDir, 'cursor', 'pre-edit', { hook_event_name: 'preToolUse', tool_name: 'Write', tool_input: { file_path: target }, cwd: webDir })).stdout);
  assert.equal(cursorEdit.permission, 'deny');
  assert.match(cursorEdit.agent_message, /leased by api/);
  const geminiEdit = JSON.parse((await hook(webDir, 'gemini', 'pre-edit', { hook_event_name: 'BeforeTool', tool_name: 'write_file', tool_input: { file_path: 'src/App.tsx', content: 'x' }, cwd: webDir })).stdout);
  assert.equal(geminiEdit.decision, 'deny');
  assert.match(geminiEdit.reason, /leased by api/);
  assert.equal((await hook(webDir, 'claude', 'pre-edit', { hook_event_name: 'PreToolUse', tool_name: 'Write', tool_input: { file_path: join(webDir, 'src', 'Footer.tsx') } })).stdout, '');

  // The git guard refuses a commit that touches the leased file, and lets others through.
  const git = (args: string) => run('/bin/sh', ['-c', `git ${args}`], webDir, { env: cleanEnv({ GIT_AUTHOR_NAME: 'web', GIT_AUTHOR_EMAIL: 'web@example.invalid', GIT_COMMITTER_NAME: 'web', GIT_COMMITTER_EMAIL: 'web@example.invalid' }) });
  assert.equal((await git('init -q')).code, 0);
  await shell('./koor-cli guard install', webDir);
  writeFileSync(join(webDir, 'src', 'Footer.tsx'), 'export const Footer = () => null;\n');
  assert.equal((await git('add src/Footer.tsx && git commit -qm footer')).code, 0, 'a commit of unleased files goes through');
  await git('add src/App.tsx');
  const refusedCommit = await git('commit -qm app');
  assert.notEqual(refusedCommit.code, 0, 'the commit touching the leased file is refused');
  assert.match(refusedCommit.stderr, /commit refused: src\/App\.tsx is leased by api .*moving the app shell/);

  // At the end of api's session its leases are released, and web may commit.
  assert.equal((await hook(apiDir, 'claude', 'session-end', { hook_event_name: 'SessionEnd', reason: 'other' })).code, 0);
  assert.equal((await git('commit -qm app')).code, 0);

  // With the server gone, hooks warn and never block: the edit goes ahead.
  await closeServer();
  const down = await hook(webDir, 'claude', 'pre-edit', { hook_event_name: 'PreToolUse', tool_name: 'Write', tool_input: { file_path: join(webDir, 'src', 'App.tsx') } });
  assert.equal(down.code, 0);
  assert.match(JSON.parse(down.stdout).systemMessage, /cannot reach/);
  assert.doesNotMatch(down.stdout, /deny/);
  const again = await hook(webDir, 'claude', 'pre-edit', { hook_event_name: 'PreToolUse', tool_name: 'Write', tool_input: { file_path: join(webDir, 'x.ts') } });
  assert.equal(again.stdout, '', 'one warning every few minutes, not one per tool call');
});

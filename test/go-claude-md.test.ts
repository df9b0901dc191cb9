// The CLAUDE.md files Go Koor's wizard writes for a project (here Truck-Wash, with a goth
// frontend agent), run line by line against Koor: every `./koor-cli` line as a shell would run
// it, from the workspace Go's wizard lays out (with its own koor-cli copied in, and for a goth
// agent the application's settings.json), and the MCP steps through the MCP SDK. The commands
// are exactly those Go's wizard generates (its templates are the facts); the prose around them
// is ours, shortened.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { startListeningApp } from './support/app.js';
import { binCommand } from './support/bin.js';

const CONTROLLER_MD = `# Truck-Wash Controller

## Koor
- Server: http://localhost:9800
- Project: Truck-Wash
- Role: Controller

## On Startup
1. MCP: \`register_instance\` with name=truck-wash-controller, stack=controller
2. \`./koor-cli activate <your-instance-id>\`
3. Read plan/overview.md
4. \`./koor-cli events history --last 20 --topic "truck-wash.*"\`
5. Look for \`truck-wash.*.request\` events

## Assigning Tasks
   \`\`\`
   ./koor-cli state set Truck-Wash/{agent-name}-task --data '{"task":"description","priority":"high"}'
   \`\`\`
   \`\`\`
   ./koor-cli events publish truck-wash.controller.assigned --data '{"agent":"{agent-name}","task":"description"}'
   \`\`\`

## Checking Requests
1. \`./koor-cli events history --last 20 --topic "truck-wash.*.request"\`
2. Approve: \`./koor-cli events publish truck-wash.controller.approved --data '{...}'\`

## Giving Status
1. MCP: \`discover_instances\`
2. \`./koor-cli state get Truck-Wash/{agent}-task\`
3. \`./koor-cli events history --last 20 --topic "truck-wash.*"\`

## Communication Patterns
- Assign task: \`./koor-cli state set Truck-Wash/{agent}-task\`, then publish event
- Approve request: \`./koor-cli events publish truck-wash.controller.approved\` event
- Reject request: \`./koor-cli events publish truck-wash.controller.rejected\` event with reason
`;

const OVERVIEW_MD = `# Truck-Wash — Master Plan

## API Contract
<!-- ./koor-cli contract set Truck-Wash/api-contract --file contract.json -->
`;

const AGENT_MD = `# Truck-Wash — frontend Agent

## Koor
- Server: http://localhost:9800
- Project: Truck-Wash
- Role: frontend
- Stack: goth

## On Startup
1. MCP: \`register_instance\` with name=truck-wash-frontend, stack=goth
2. \`./koor-cli activate <your-instance-id>\`
3. \`./koor-cli state get Truck-Wash/frontend-task\`
4. \`./koor-cli events history --last 10 --topic "truck-wash.controller.*"\`

## When you finish a feature
   \`\`\`
   ./koor-cli events publish truck-wash.frontend.done --data '{"feature":"what-you-completed","summary":"brief description"}'
   \`\`\`
2. MCP: \`set_intent\` with your next planned action

## When you need something from another agent
   \`\`\`
   ./koor-cli events publish truck-wash.frontend.request --data '{"need":"what-you-need","reason":"why","from":"target-agent"}'
   \`\`\`

## Communication Patterns
- Report completion: \`./koor-cli events publish truck-wash.frontend.done --data '{"feature":"..."}'\`
- Request something: \`./koor-cli events publish truck-wash.frontend.request --data '{"need":"...","from":"..."}'\`
- Read your task: \`./koor-cli state get Truck-Wash/frontend-task\`
- Read shared state: \`./koor-cli state get Truck-Wash/{key}\`
- Check events: \`./koor-cli events history --last 10 --topic "truck-wash.*"\`
`;

/** Every `./koor-cli …` line of a markdown file, in order (inline code, code blocks and comments). */
function koorCliLines(markdown: string): string[] {
  return [...markdown.matchAll(/\.\/koor-cli [^`\n]*?(?=`|\s*-->|\n|$)/g)].map((m) => m[0].trim());
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function shell(line: string, cwd: string, env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile('/bin/sh', ['-c', line], { cwd, env, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
    child.stdin?.end();
  });
}

/** A workspace as Go's wizard lays it out, with `./koor-cli` (here: a launcher for this checkout's CLI). */
function workspace(dir: string, files: Record<string, string>): string {
  mkdirSync(dir, { recursive: true });
  const { command, args } = binCommand('koor-cli');
  const quoted = [command, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  writeFileSync(join(dir, 'koor-cli'), `#!/bin/sh\nexec ${quoted} "$@"\n`);
  chmodSync(join(dir, 'koor-cli'), 0o755);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

async function mcpCall(client: Client, name: string, args: Record<string, unknown>): Promise<string> {
  const result = (await client.callTool({ name, arguments: args })) as { content: { text?: string }[]; isError?: boolean };
  const text = result.content.map((c) => c.text ?? '').join('');
  assert.notEqual(result.isError, true, `${name}: ${text}`);
  return text;
}

test("a CLAUDE.md written by Go Koor's wizard works line by line against Koor", async (t) => {
  const server = await startListeningApp();
  t.after(server.close);
  const dir = mkdtempSync(join(tmpdir(), 'koor-go-claude-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // Go's CLAUDE.md files name no server for koor-cli (it defaults to localhost:9800); the agents'
  // environment points it here.
  const env: NodeJS.ProcessEnv = { ...process.env, KOOR_SERVER: server.url, XDG_CACHE_HOME: join(dir, '.cache') };
  delete env.KOOR_TOKEN;

  const controllerDir = workspace(join(dir, 'truck-wash-controller'), { 'CLAUDE.md': CONTROLLER_MD });
  mkdirSync(join(controllerDir, 'plan'));
  writeFileSync(join(controllerDir, 'plan', 'overview.md'), OVERVIEW_MD);
  writeFileSync(join(controllerDir, 'contract.json'), JSON.stringify({
    kind: 'contract', version: '1', endpoints: { 'GET /api/trucks': { response_array: { plate: { type: 'string', required: true } } } },
  }));
  // For a goth agent Go's wizard also writes the application's settings.json, whose `server` is
  // an object: koor-cli must read past it.
  const frontendDir = workspace(join(dir, 'truck-wash-frontend'), {
    'CLAUDE.md': AGENT_MD,
    '.cursorrules': AGENT_MD,
    'settings.json': JSON.stringify({ database: { type: 'sqlite', dsn: './data.db' }, server: { bind: 'localhost:3000' } }, null, 2),
  });

  const connect = async () => {
    const client = new Client({ name: 'claude-code', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`)));
    t.after(() => client.close());
    return client;
  };

  const outputs = new Map<string, string>();
  // Lines Go's wizard leaves for the agent to complete; Go's own CLI refuses them as written
  // (its `state set` needs --data). The agent adds the value.
  const completions: Record<string, string> = { './koor-cli state set Truck-Wash/{agent}-task': ` --data '{"task":"next","priority":"low"}'` };
  /** Runs one line from a CLAUDE.md, with the placeholders an agent fills in filled in. */
  const runLine = async (line: string, cwd: string, fill: Record<string, string>) => {
    let command = line + (completions[line] ?? '');
    for (const [placeholder, value] of Object.entries(fill)) command = command.split(placeholder).join(value);
    const result = await shell(command, cwd, env);
    assert.equal(result.code, 0, `${command}\nexited ${result.code}: ${result.stderr}`);
    outputs.set(line, result.stdout);
    return result.stdout;
  };

  // The controller starts: registers over MCP (Go's string arguments), activates over the CLI.
  const controller = await connect();
  const controllerId = (await mcpCall(controller, 'register_instance', { name: 'truck-wash-controller', stack: 'controller', capabilities: 'planning,review' })).match(/^id=(\S+)/)![1]!;
  const controllerLines = koorCliLines(CONTROLLER_MD).concat(koorCliLines(OVERVIEW_MD));
  assert.equal(controllerLines.length, 12, controllerLines.join('\n'));
  const controllerFill = { '<your-instance-id>': controllerId, '{agent-name}': 'frontend', '{agent}': 'frontend', "'{...}'": `'{"request":"r1","approved":true}'` };
  for (const line of controllerLines) await runLine(line, controllerDir, controllerFill);
  assert.equal(JSON.parse(outputs.get(controllerLines[0]!)!).status, 'active', 'activate');

  // The agent starts, reads the task the controller wrote and the controller's events.
  const agent = await connect();
  const agentId = (await mcpCall(agent, 'register_instance', { name: 'truck-wash-frontend', stack: 'goth' })).match(/^id=(\S+)/)![1]!;
  const agentLines = koorCliLines(AGENT_MD);
  assert.equal(agentLines.length, 10, agentLines.join('\n'));
  const agentFill = { '<your-instance-id>': agentId, '{key}': 'frontend-task' };
  for (const line of agentLines) await runLine(line, frontendDir, agentFill);
  assert.deepEqual(JSON.parse(outputs.get('./koor-cli state get Truck-Wash/frontend-task')!), { task: 'next', priority: 'low' }, 'the task the controller wrote last');
  const seen = JSON.parse(outputs.get('./koor-cli events history --last 10 --topic "truck-wash.controller.*"')!) as { topic: string }[];
  assert.deepEqual([...new Set(seen.map((e) => e.topic))].sort(), ['truck-wash.controller.approved', 'truck-wash.controller.assigned', 'truck-wash.controller.rejected']);
  await mcpCall(agent, 'set_intent', { instance_id: agentId, intent: 'building the truck list page' });

  // Back at the controller: "check requests" finds the agent's requests, "status" sees everyone.
  const requests = JSON.parse(await runLine('./koor-cli events history --last 20 --topic "truck-wash.*.request"', controllerDir, controllerFill)) as { topic: string; data: { need: string } }[];
  assert.deepEqual(requests.map((e) => [e.topic, e.data.need]), [['truck-wash.frontend.request', '...'], ['truck-wash.frontend.request', 'what-you-need']]);
  const everything = JSON.parse(await runLine('./koor-cli events history --last 20 --topic "truck-wash.*"', controllerDir, controllerFill)) as { topic: string }[];
  assert.ok(everything.some((e) => e.topic === 'truck-wash.frontend.done'), 'truck-wash.* reaches two segments down, as in Go');
  const discovered = await mcpCall(controller, 'discover_instances', {});
  assert.match(discovered, /^count=2\n/);
  assert.match(discovered, /name=truck-wash-frontend status=active stack=goth intent="building the truck list page"/);
  assert.match(discovered, /caps=planning,review/);
  assert.equal(JSON.parse((await shell('./koor-cli contract get Truck-Wash/api-contract', controllerDir, env)).stdout).kind, 'contract');
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { binCommand } from './support/bin.js';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the real koor-wizard with no terminal (stdin closed), in `cwd`. `--offline`: these tests
 * are about files; registering with a server is tested in wizard-e2e.test.ts.
 */
function wizard(args: string[], cwd: string): Promise<Run> {
  const { command, args: pre } = binCommand('koor-wizard');
  return new Promise((resolve) => {
    const child = execFile(command, [...pre, ...args, '--offline'], { cwd, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
    child.stdin?.end();
  });
}

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'koor-wizard-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(relative(dir, p));
    }
  };
  walk(dir);
  return out.sort();
}

const read = (...p: string[]) => readFileSync(join(...p), 'utf8');
const readJson = (...p: string[]) => JSON.parse(read(...p));

const WORKSPACE_FILES = [
  '.claude/settings.json',
  '.codex/config.toml',
  '.cursor/hooks.json',
  '.cursor/mcp.json',
  '.gemini/settings.json',
  '.gitignore',
  '.mcp.json',
  '.vscode/mcp.json',
  'AGENTS.md',
  'CLAUDE.md',
  'koor-cli',
  'settings.json',
];

/**
 * Every MCP config of a workspace points at {server}/mcp and names the agent's token by
 * reference, in each tool's own syntax; no file holds a token.
 */
function assertConnection(ws: string, server: string): void {
  const url = `${server}/mcp`;
  assert.deepEqual(readJson(ws, '.mcp.json'), { mcpServers: { koor: { type: 'http', url, headers: { Authorization: 'Bearer ${KOOR_TOKEN}' } } } });
  assert.deepEqual(readJson(ws, '.cursor/mcp.json'), { mcpServers: { koor: { url, headers: { Authorization: 'Bearer ${env:KOOR_TOKEN}' } } } });
  const vscode = readJson(ws, '.vscode/mcp.json');
  assert.deepEqual(vscode.servers, { koor: { type: 'http', url, headers: { Authorization: 'Bearer ${input:koor-token}' } } });
  assert.deepEqual(vscode.inputs.map((i: { id: string; type: string; password: boolean }) => [i.id, i.type, i.password]), [['koor-token', 'promptString', true]]);
  const gemini = readJson(ws, '.gemini/settings.json');
  assert.deepEqual(gemini.mcpServers, { koor: { httpUrl: url, headers: { Authorization: 'Bearer ${KOOR_TOKEN}' } } });
  assert.deepEqual(gemini.context, { fileName: 'AGENTS.md' }, 'Gemini CLI reads AGENTS.md, not GEMINI.md');
  // smol-toml builds null-prototype objects; a JSON round trip makes them plain for deepEqual.
  const codex = JSON.parse(JSON.stringify(parseToml(read(ws, '.codex/config.toml'))));
  assert.deepEqual(codex, { mcp_servers: { koor: { url, bearer_token_env_var: 'KOOR_TOKEN' } } });
  assert.equal(readJson(ws, 'settings.json').server, server);
  assert.equal(readJson(ws, 'settings.json').token, undefined, 'koor-cli settings hold no token');
  assert.match(read(ws, '.gitignore'), /^\.koor\/$/m, 'the identity folder is git-ignored');
}

test('a new project: every workspace, config and instruction file is right, and no file holds a token', async (t) => {
  const dir = tempDir(t);
  const run = await wizard(
    ['--project', 'shop', '--server', 'http://koor.example:9800/', '--token', 's3cret', '--dir', dir, '--agents', 'frontend:react,backend:go-api', '--yes'],
    dir,
  );
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stderr, '');
  assert.match(run.stdout, /created {6}shop\/frontend\/AGENTS\.md/);

  const project = join(dir, 'shop');
  assert.deepEqual(readdirSync(project).sort(), ['backend', 'controller', 'frontend']);
  assert.deepEqual(filesUnder(join(project, 'frontend')), WORKSPACE_FILES);
  assert.deepEqual(filesUnder(join(project, 'backend')), WORKSPACE_FILES);
  assert.deepEqual(
    filesUnder(join(project, 'controller')),
    [
      ...WORKSPACE_FILES,
      'koor-project.json',
      'plan/decisions/0001-coordinate-through-koor.md',
      'plan/decisions/README.md',
      'plan/overview.md',
      'status/backend.md',
      'status/frontend.md',
    ].sort(),
  );

  for (const ws of ['controller', 'frontend', 'backend']) {
    assertConnection(join(project, ws), 'http://koor.example:9800');
    assert.equal(read(project, ws, 'CLAUDE.md'), '@AGENTS.md\n', 'CLAUDE.md imports AGENTS.md instead of copying it');
    assert.ok(statSync(join(project, ws, 'koor-cli')).mode & 0o100, 'the launcher is executable');
    for (const file of filesUnder(join(project, ws))) {
      assert.doesNotMatch(read(project, ws, file), /s3cret/, `${ws}/${file} must not hold the server token`);
    }
    // AGENTS.md is the one instruction file, and it stays small (about 1k tokens at most).
    assert.ok(read(project, ws, 'AGENTS.md').length < 4400, `${ws}/AGENTS.md is ${read(project, ws, 'AGENTS.md').length} characters`);
  }

  const frontend = read(project, 'frontend', 'AGENTS.md');
  assert.match(frontend, /^# frontend: the react agent of project shop/);
  for (const expected of [
    './koor-cli state get shop/frontend-task --if-changed',
    "./koor-cli events publish shop.frontend.done --data '{",
    "./koor-cli events publish shop.frontend.blocked --data '{",
    "./koor-cli rules propose shop no-console-log --pattern 'console\\.log\\(' --message",
    './koor-cli validate shop --file src/App.tsx',
    'npm run build',
    'npm test',
    'Stay in this folder',
    'set_intent',
    'http://koor.example:9800',
  ]) {
    assert.ok(frontend.includes(expected), `frontend AGENTS.md should contain ${expected}`);
  }
  assert.doesNotMatch(frontend, /backend-task|go test/, 'the frontend agent is told only about its own task and stack');
  assert.doesNotMatch(frontend, /--last 20|read it again after every/, 'no expensive polling habits');

  const backend = read(project, 'backend', 'AGENTS.md');
  for (const expected of ['./koor-cli state get shop/backend-task', 'shop.backend.done', 'go build ./...', 'go test ./...', 'go run .']) {
    assert.ok(backend.includes(expected), `backend AGENTS.md should contain ${expected}`);
  }

  const controller = read(project, 'controller', 'AGENTS.md');
  for (const expected of [
    "./koor-cli state set shop/frontend-task --data '{",
    "./koor-cli state set shop/backend-task --data '{",
    "./koor-cli events history --topic 'shop.*.blocked' --last 5",
    './koor-cli rules accept shop RULE_ID',
    './koor-cli specs set shop overview --file plan/overview.md --content-type text/markdown',
    '| frontend | react |',
    '| backend | go-api |',
  ]) {
    assert.ok(controller.includes(expected), `controller AGENTS.md should contain ${expected}`);
  }

  // What each workspace's hooks follow.
  assert.deepEqual(readJson(project, 'frontend', 'settings.json'), {
    server: 'http://koor.example:9800',
    project: 'shop',
    agent: 'frontend',
    stack: 'react',
    follow: ['shop.**'],
    follow_state: ['shop/frontend-task'],
    follow_specs: ['shop'],
  });
  assert.deepEqual(readJson(project, 'controller', 'settings.json').follow, ['shop.**', 'rule.proposed']);

  assert.match(read(project, 'controller', 'plan', 'overview.md'), /^# shop: overview/);
  assert.match(read(project, 'controller', 'status', 'backend.md'), /shop\/backend-task/);
  assert.deepEqual(readJson(project, 'controller', 'koor-project.json'), {
    project: 'shop',
    server: 'http://koor.example:9800',
    agents: [
      { name: 'frontend', stack: 'react' },
      { name: 'backend', stack: 'go-api' },
    ],
    created_by: 'koor-wizard',
  });
});

test('the hook configs run the workspace launcher in each tool\'s documented format', async (t) => {
  const dir = tempDir(t);
  assert.equal((await wizard(['--project', 'solo', '--dir', dir, '--agents', 'web:react', '--yes'], dir)).code, 0);
  const ws = join(dir, 'solo', 'web');

  const claude = readJson(ws, '.claude/settings.json').hooks;
  assert.deepEqual(Object.keys(claude).sort(), ['PreToolUse', 'SessionEnd', 'SessionStart', 'UserPromptSubmit']);
  assert.equal(claude.PreToolUse[0].matcher, 'Edit|Write');
  assert.deepEqual(claude.SessionStart[0].hooks[0], { type: 'command', command: '"${CLAUDE_PROJECT_DIR}/koor-cli" hook claude digest', timeout: 10 });
  assert.equal(claude.PreToolUse[0].hooks[0].command, '"${CLAUDE_PROJECT_DIR}/koor-cli" hook claude pre-edit');

  const cursor = readJson(ws, '.cursor/hooks.json');
  assert.equal(cursor.version, 1);
  assert.deepEqual(Object.keys(cursor.hooks).sort(), ['postToolUse', 'preToolUse', 'sessionEnd', 'sessionStart']);
  assert.deepEqual(cursor.hooks.preToolUse, [{ command: './koor-cli hook cursor pre-edit', timeout: 10, matcher: 'Write' }]);

  const gemini = readJson(ws, '.gemini/settings.json').hooks;
  assert.deepEqual(Object.keys(gemini).sort(), ['BeforeAgent', 'BeforeTool', 'SessionEnd', 'SessionStart']);
  assert.equal(gemini.BeforeTool[0].matcher, 'write_file|replace');
  assert.equal(gemini.BeforeAgent[0].hooks[0].command, '"$GEMINI_PROJECT_DIR/koor-cli" hook gemini digest');
  assert.equal(gemini.BeforeAgent[0].hooks[0].timeout, 10000);
});

test('an existing .gitignore is added to, never replaced', async (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, 'shop', 'web'), { recursive: true });
  writeFileSync(join(dir, 'shop', 'web', '.gitignore'), 'node_modules/\ndist');
  const run = await wizard(['--project', 'shop', '--dir', dir, '--agents', 'web:react', '--yes'], dir);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /updated {6}shop\/web\/\.gitignore/);
  assert.equal(read(dir, 'shop', 'web', '.gitignore'), "node_modules/\ndist\n# Koor: the agent's identity (token) and koor-cli's caches\n.koor/\n.koor-cli-cache/\n");
  const again = await wizard(['--project', 'shop', '--dir', dir, '--agents', 'web:react', '--yes'], dir);
  assert.match(again.stdout, /kept {9}shop\/web\/\.gitignore\n/);
});

test('every stack preset fills in its commands; an unknown stack falls back to generic with a notice', async (t) => {
  const dir = tempDir(t);
  const run = await wizard(
    ['--project', 'many', '--dir', dir, '--agents', 'a:generic,b:node,c:react,d:python,e:go-api,f:rust,g:elixir', '--yes'],
    dir,
  );
  assert.equal(run.code, 0, run.stderr);
  const expected: Record<string, string[]> = {
    a: ['make build', 'make test'],
    b: ['npm run build', 'npm start'],
    c: ['npm run dev'],
    d: ['python3 -m pytest', 'python3 main.py'],
    e: ['go test ./...'],
    f: ['cargo build', 'cargo test', 'cargo run'],
    g: ['make build', 'no preset for the stack `elixir`', './koor-cli state get many/g-task'],
  };
  for (const [agent, parts] of Object.entries(expected)) {
    const text = read(dir, 'many', agent, 'AGENTS.md');
    for (const part of parts) assert.ok(text.includes(part), `${agent} AGENTS.md should contain ${part}`);
  }
  assert.match(run.stdout, /notice: stack "elixir" of agent g has no preset/);
});

test('add an agent to an existing project: detected from the controller, every agent and the server kept', async (t) => {
  const dir = tempDir(t);
  assert.equal((await wizard(['--project', 'shop', '--dir', dir, '--server', 'http://10.0.0.5:9911', '--agents', 'web:react', '--yes'], dir)).code, 0);
  // A person lists an agent by hand; adding another must keep it.
  const record = readJson(dir, 'shop', 'controller', 'koor-project.json');
  record.agents.push({ name: 'ops', stack: 'generic' });
  writeFileSync(join(dir, 'shop', 'controller', 'koor-project.json'), JSON.stringify(record, null, 2));
  const controllerBefore = read(dir, 'shop', 'controller', 'AGENTS.md');

  // Run from inside the controller folder, no --dir: the project is found from there.
  const run = await wizard(['--mode', 'add', '--agent', 'api:rust', '--yes'], join(dir, 'shop', 'controller'));
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /created {6}shop\/api\/AGENTS\.md/);

  const api = join(dir, 'shop', 'api');
  assert.deepEqual(filesUnder(api), WORKSPACE_FILES);
  assertConnection(api, 'http://10.0.0.5:9911');
  const text = read(api, 'AGENTS.md');
  assert.ok(text.includes('./koor-cli state get shop/api-task'));
  assert.ok(text.includes('cargo test'));
  assert.match(read(dir, 'shop', 'controller', 'status', 'api.md'), /shop\/api-task/);
  assert.deepEqual(readJson(dir, 'shop', 'controller', 'koor-project.json').agents, [
    { name: 'web', stack: 'react' },
    { name: 'ops', stack: 'generic' },
    { name: 'api', stack: 'rust' },
  ]);
  assert.equal(readJson(dir, 'shop', 'controller', 'koor-project.json').server, 'http://10.0.0.5:9911');
  assert.equal(read(dir, 'shop', 'controller', 'AGENTS.md'), controllerBefore, "the controller's instructions are left alone");

  // From the parent folder with --project, too.
  const second = await wizard(['--mode', 'add', '--dir', dir, '--project', 'shop', '--agent', 'docs', '--yes'], dir);
  assert.equal(second.code, 0, second.stderr);
  assert.ok(read(dir, 'shop', 'docs', 'AGENTS.md').includes('make build'));

  const nowhere = await wizard(['--mode', 'add', '--dir', dir, '--agent', 'x:node', '--yes'], dir);
  assert.equal(nowhere.code, 1);
  assert.match(nowhere.stderr, /no Koor project found at .*: expected .*controller\/koor-project\.json/);
});

test('existing files are kept without --force and reported; --force overwrites them', async (t) => {
  const dir = tempDir(t);
  const agentsMd = join(dir, 'shop', 'frontend', 'AGENTS.md');
  mkdirSync(join(dir, 'shop', 'frontend'), { recursive: true });
  writeFileSync(agentsMd, 'my own notes\n');

  const kept = await wizard(['--project', 'shop', '--dir', dir, '--agents', 'frontend:react', '--yes'], dir);
  assert.equal(kept.code, 0, kept.stderr);
  assert.equal(read(agentsMd), 'my own notes\n');
  assert.match(kept.stdout, /kept {9}shop\/frontend\/AGENTS\.md \(exists; --force overwrites\)/);
  assert.equal(read(dir, 'shop', 'frontend', 'CLAUDE.md'), '@AGENTS.md\n', 'missing files are still written');

  // The project record is a file like any other: a second run with other answers keeps it.
  const recordBefore = read(dir, 'shop', 'controller', 'koor-project.json');

  // A second run changes nothing and says so for every file.
  const again = await wizard(['--project', 'shop', '--dir', dir, '--agents', 'frontend:react', '--yes'], dir);
  assert.equal(again.code, 0);
  assert.doesNotMatch(again.stdout, /^created/m);
  const other = await wizard(['--project', 'shop', '--dir', dir, '--agents', 'web:node', '--yes'], dir);
  assert.equal(other.code, 0, other.stderr);
  assert.equal(read(dir, 'shop', 'controller', 'koor-project.json'), recordBefore, 'agents never disappear from the record, the server never reverts');
  assert.match(other.stdout, /kept {9}shop\/controller\/koor-project\.json/);

  const forced = await wizard(['--project', 'shop', '--dir', dir, '--agents', 'frontend:react', '--yes', '--force'], dir);
  assert.equal(forced.code, 0, forced.stderr);
  assert.match(forced.stdout, /overwritten {2}shop\/frontend\/AGENTS\.md/);
  assert.ok(read(agentsMd).includes('./koor-cli state get shop/frontend-task'));
});

test('bad names, flags and folders fail with a clear error before anything is written', async (t) => {
  const dir = tempDir(t);
  const cases: Array<{ args: string[]; error: RegExp }> = [
    { args: ['--project', 'bad name!', '--dir', dir, '--yes'], error: /project name "bad name!" is not valid/ },
    { args: ['--project', '-x', '--dir', dir, '--yes'], error: /project name "-x" is not valid|argument missing|--project/ },
    { args: ['--project', 'ok', '--dir', dir, '--agents', 'controller:node', '--yes'], error: /agent name "controller" is reserved/ },
    { args: ['--project', 'ok', '--dir', dir, '--agents', 'a.b:node', '--yes'], error: /agent name "a\.b" is not valid/ },
    { args: ['--project', 'ok', '--dir', dir, '--agents', 'web:react,web:node', '--yes'], error: /agent "web" is listed twice/ },
    { args: ['--project', 'ok', '--dir', dir, '--server', 'ftp://x', '--yes'], error: /--server "ftp:\/\/x" must be an http/ },
    { args: ['--project', 'ok', '--dir', dir, '--mode', 'other', '--yes'], error: /--mode "other" is not valid/ },
    { args: ['--project', 'ok', '--dir', dir, '--bogus', '--yes'], error: /bogus/ },
  ];
  for (const c of cases) {
    const run = await wizard(c.args, dir);
    assert.notEqual(run.code, 0, `${c.args.join(' ')} should fail`);
    assert.match(run.stderr, c.error);
    assert.match(run.stderr, /^koor-wizard: /);
  }
  assert.deepEqual(readdirSync(dir), [], 'nothing was written');

  // A parent "folder" that is a file: no folder can be made there.
  const file = join(dir, 'not-a-folder');
  writeFileSync(file, 'x');
  const underFile = await wizard(['--project', 'shop', '--dir', join(file, 'sub'), '--yes'], dir);
  assert.equal(underFile.code, 1);
  assert.match(underFile.stderr, /cannot create folder .*not-a-folder\/sub: .*not-a-folder is a file, not a folder/);
  assert.deepEqual(readdirSync(dir), ['not-a-folder']);

  // A read-only folder (root ignores permission bits, so only when not root).
  if (process.getuid?.() !== 0) {
    const locked = join(dir, 'locked');
    mkdirSync(locked);
    chmodSync(locked, 0o555);
    t.after(() => chmodSync(locked, 0o755));
    const run = await wizard(['--project', 'shop', '--dir', locked, '--yes'], dir);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /folder .*locked is not writable/);
    assert.deepEqual(readdirSync(locked), []);
  }

  // A planned file whose path is taken by a folder: refused before the other files are written.
  mkdirSync(join(dir, 'p', 'shop', 'backend', 'AGENTS.md'), { recursive: true });
  const clash = await wizard(['--project', 'shop', '--dir', join(dir, 'p'), '--yes'], dir);
  assert.equal(clash.code, 1);
  assert.match(clash.stderr, /cannot write .*backend\/AGENTS\.md: a folder with that name exists/);
  assert.deepEqual(filesUnder(join(dir, 'p')), []);
});

test('without a terminal and without enough flags it lists the missing flags instead of waiting', async (t) => {
  const dir = tempDir(t);
  const bare = await wizard([], dir);
  assert.equal(bare.code, 2);
  assert.match(bare.stderr, /no terminal to ask in, so these flags are needed: --project NAME, --server URL .*--dir FOLDER .*--agents LIST/);
  assert.match(bare.stderr, /--yes/);

  const yesOnly = await wizard(['--yes'], dir);
  assert.equal(yesOnly.code, 2);
  assert.match(yesOnly.stderr, /needed: --project NAME\./);

  const add = await wizard(['--mode', 'add'], dir);
  assert.equal(add.code, 2);
  assert.match(add.stderr, /--agent NAME:STACK, --dir PROJECT_FOLDER/);

  // All flags given: no --yes needed.
  const full = await wizard(['--project', 'p', '--server', 'http://127.0.0.1:9800', '--dir', dir, '--agents', 'w:node'], dir);
  assert.equal(full.code, 0, full.stderr);
  assert.deepEqual(readdirSync(join(dir, 'p')).sort(), ['controller', 'w']);

  const help = await wizard(['--help'], dir);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--agents LIST/);

  // Piped into a reader that stops early: no EPIPE stack trace.
  const { command, args: pre } = binCommand('koor-wizard');
  const piped = await new Promise<Run>((resolve) => {
    execFile('/bin/sh', ['-c', `'${command}' ${pre.map((a) => `'${a}'`).join(' ')} --help | head -1`], { cwd: dir }, (err, stdout, stderr) =>
      resolve({ code: err ? 1 : 0, stdout, stderr }),
    );
  });
  assert.equal(piped.stdout, 'koor-wizard: scaffold a Koor multi-agent project\n');
  assert.equal(piped.stderr, '');
});

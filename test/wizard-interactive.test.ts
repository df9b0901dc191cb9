import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { binCommand } from './support/bin.js';

/**
 * A pseudo-terminal bridge: runs a command on a pty (so it sees a real terminal), copies our
 * stdin to it and its output to our stdout, and exits with the command's exit code.
 */
const PTY_BRIDGE = `
import os, pty, sys, select, fcntl, termios, struct
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack('HHHH', 40, 120, 0, 0))
inputs = [fd, 0]
while True:
    ready, _, _ = select.select(inputs, [], [])
    if fd in ready:
        try:
            data = os.read(fd, 65536)
        except OSError:
            break
        if not data:
            break
        os.write(1, data)
    if 0 in ready:
        data = os.read(0, 65536)
        if data:
            os.write(fd, data)
        else:
            inputs = [fd]
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
`;

const ENTER = '\r';
const DOWN = '\x1b[B';

/** Drives one interactive run: wait for a prompt's text, then type the answer. */
class Terminal {
  private output = '';
  private seen = 0;
  private waiters: Array<() => void> = [];
  readonly exited: Promise<number>;

  constructor(private readonly child: ChildProcessWithoutNullStreams) {
    child.stdout.on('data', (d: Buffer) => {
      // Strip ANSI escapes so prompt texts can be matched as plain text.
      this.output += d.toString('utf8').replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
      for (const w of this.waiters.splice(0)) w();
    });
    this.exited = new Promise((resolve) => child.on('close', (code) => resolve(code ?? -1)));
  }

  /** Resolves once `text` appears after everything matched so far. */
  async expect(text: string, timeoutMs = 45_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const at = this.output.indexOf(text, this.seen);
      if (at >= 0) {
        this.seen = at + text.length;
        return;
      }
      if (Date.now() > deadline || this.child.exitCode !== null) {
        throw new Error(`prompt "${text}" never appeared; terminal output:\n${this.output}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 1000);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async answer(prompt: string, keys: string): Promise<void> {
    await this.expect(prompt);
    this.child.stdin.write(keys);
  }

  get transcript(): string {
    return this.output;
  }
}

function startWizard(t: { after(fn: () => void): void }, dir: string, args: string[] = []): Terminal {
  const bridge = join(dir, 'pty-bridge.py');
  writeFileSync(bridge, PTY_BRIDGE);
  const { command, args: pre } = binCommand('koor-wizard');
  const child = spawn('python3', [bridge, command, ...pre, ...args], {
    cwd: dir,
    env: { ...process.env, TERM: 'xterm-256color', CI: '' },
  });
  t.after(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  return new Terminal(child);
}

test('interactive mode through a real terminal: answering the prompts writes the project', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'koor-wizard-tty-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const parent = join(dir, 'projects');

  const term = startWizard(t, dir);
  await term.answer('What do you want to do?', ENTER); // Create a new project
  await term.answer('Project name', `shop${ENTER}`);
  await term.answer('Koor server URL', `http://127.0.0.1:9911${ENTER}`);
  await term.answer('Server auth token', `tok3n${ENTER}`);
  await term.answer('Parent folder of the project', `${parent}${ENTER}`);
  await term.answer('Name of agent 1', ENTER); // the grey name is a real default: Enter takes it
  await term.answer('Stack of frontend', `${DOWN}${DOWN}${ENTER}`); // generic, node, react
  await term.answer('Add another agent?', 'y');
  await term.answer('Name of agent 2', `api${ENTER}`);
  await term.answer('Stack of api', `${DOWN}${DOWN}${DOWN}${DOWN}${ENTER}`); // … python, go-api
  await term.answer('Add another agent?', 'n');
  await term.answer('Write 42 files?', ENTER);
  await term.expect('Next:');
  assert.equal(await term.exited, 0, term.transcript);

  const project = join(parent, 'shop');
  assert.deepEqual(readdirSync(project).sort(), ['api', 'controller', 'frontend']);
  for (const ws of ['controller', 'frontend', 'api']) {
    const mcp = JSON.parse(readFileSync(join(project, ws, '.mcp.json'), 'utf8'));
    assert.deepEqual(mcp.mcpServers.koor, { type: 'http', url: 'http://127.0.0.1:9911/mcp', headers: { Authorization: 'Bearer ${KOOR_TOKEN}' } });
    const codex = parseToml(readFileSync(join(project, ws, '.codex', 'config.toml'), 'utf8')) as { mcp_servers: { koor: { url: string } } };
    assert.equal(codex.mcp_servers.koor.url, 'http://127.0.0.1:9911/mcp');
    for (const f of ['AGENTS.md', 'CLAUDE.md', '.cursor/mcp.json', '.cursor/hooks.json', '.vscode/mcp.json', '.gemini/settings.json', 'settings.json', 'koor-cli']) {
      assert.ok(existsSync(join(project, ws, f)), `${ws}/${f} exists`);
    }
  }
  assert.ok(readFileSync(join(project, 'frontend', 'AGENTS.md'), 'utf8').includes('./koor-cli state get shop/frontend-task'));
  // The token typed at the prompt only registers agents; it is never written down.
  assert.doesNotMatch(readFileSync(join(project, 'frontend', '.mcp.json'), 'utf8'), /tok3n/);
  // The stack list shows each preset once, without a label nested in itself.
  assert.doesNotMatch(term.transcript, /generic \(generic/);
  assert.ok(readFileSync(join(project, 'api', 'AGENTS.md'), 'utf8').includes('go test ./...'));
  assert.ok(existsSync(join(project, 'controller', 'plan', 'overview.md')));
  assert.ok(existsSync(join(project, 'controller', 'status', 'api.md')));

  // Again, with the answers as flags and one file changed by the user: the wizard asks about
  // existing files, and "keep" leaves the user's file alone.
  writeFileSync(join(project, 'frontend', 'AGENTS.md'), 'edited by hand\n');
  const again = startWizard(t, dir, ['--project', 'shop', '--server', 'http://127.0.0.1:9911', '--token', 'tok3n', '--dir', parent, '--agents', 'frontend:react,api:go-api']);
  await again.answer('Write 42 files?', ENTER);
  await again.answer('file(s) already exist', ENTER); // Keep them all
  await again.expect('Next:');
  assert.equal(await again.exited, 0, again.transcript);
  assert.equal(readFileSync(join(project, 'frontend', 'AGENTS.md'), 'utf8'), 'edited by hand\n');
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from './support/paths.js';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv, timeout = 170_000): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(command, args, { cwd, env, timeout }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    child.stdin?.end();
  });
}

/** The commands of the README's first sh block, one per line, without their comments. */
function firstCommands(readme: string): string[] {
  const block = /```sh\n([\s\S]*?)\n```/.exec(readme);
  assert.ok(block, 'the README starts with a sh block');
  return block[1]!.split('\n').map((line) => line.replace(/#.*$/, '').trim());
}

test("a fresh clone: the README's set-up commands make koor-cli, koor-server and koor-wizard runnable from any folder", { timeout: 240_000 }, async (t) => {
  const root = packageRoot();
  assert.ok(existsSync(join(root, '.git')), `${root} is not a git checkout: this test clones it`);
  const dir = mkdtempSync(join(tmpdir(), 'koor-fresh-clone-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const clone = join(dir, 'koor');
  const prefix = join(dir, 'npm-global');
  const elsewhere = join(dir, 'elsewhere');
  mkdirSync(elsewhere);

  const cloned = await run('git', ['clone', '--quiet', root, clone], dir, process.env);
  assert.equal(cloned.code, 0, cloned.stderr);

  // The two commands every checkout starts with, then the one that puts the bins on PATH.
  const commands = firstCommands(readFileSync(join(clone, 'README.md'), 'utf8'));
  assert.deepEqual(commands, ['npm ci && npm start', 'npm ci && npm test', 'npm link']);
  const steps = ['npm ci', commands[2]!];

  // `npm ci` in a fresh clone builds better-sqlite3 and re2 from source, minutes of CI time: it
  // is stood in for by this checkout's own install of the same lock file (node_modules and the
  // build in dist/, hard-linked). The rest of the command runs as written.
  assert.equal(readFileSync(join(clone, 'package-lock.json'), 'utf8'), readFileSync(join(root, 'package-lock.json'), 'utf8'));
  for (const folder of ['node_modules', 'dist']) {
    const linked = await run('cp', ['-al', join(root, folder), join(clone, folder)], dir, process.env);
    assert.equal(linked.code, 0, linked.stderr);
  }
  // npm may rewrite this one in place: the clone gets a copy of its own.
  const hidden = join(clone, 'node_modules', '.package-lock.json');
  if (existsSync(hidden)) {
    unlinkSync(hidden);
    copyFileSync(join(root, 'node_modules', '.package-lock.json'), hidden);
  }

  // npm's global folder is a temp one here, and npm stays offline (everything is installed).
  const npmEnv: NodeJS.ProcessEnv = { ...process.env, npm_config_prefix: prefix, npm_config_offline: 'true', npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' };
  for (const step of steps.slice(1)) {
    const [bin, ...args] = step.split(/\s+/);
    const done = await run(bin!, args, clone, npmEnv);
    assert.equal(done.code, 0, `${step}: ${done.stderr}`);
  }

  // A new shell elsewhere, with npm's global bin on PATH as npm sets it up.
  const shell: NodeJS.ProcessEnv = { ...process.env, PATH: `${join(prefix, 'bin')}:${process.env.PATH}` };
  for (const name of Object.keys(shell)) if (name.startsWith('KOOR_')) delete shell[name];
  const version = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;

  const cli = await run('koor-cli', ['--version'], elsewhere, shell);
  assert.equal(cli.code, 0, cli.stderr);
  assert.equal(cli.stdout, `${version}\n`);
  const wizard = await run('koor-wizard', ['--help'], elsewhere, shell);
  assert.equal(wizard.code, 0, wizard.stderr);
  assert.match(wizard.stdout, /^koor-wizard: scaffold a Koor multi-agent project/);
  const server = await run('koor-server', ['--version'], elsewhere, shell);
  assert.equal(server.code, 0, server.stderr);
  assert.equal(server.stdout, `${version}\n`);
});

import { existsSync, readFileSync, writeFileSync, chmodSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { CliError, ExitCode, badInput } from '../exit-codes.js';
import { writeIdentity } from '../identity-file.js';
import { action, type Cli } from '../kit.js';
import { printError } from '../output.js';
import { readSettings, settingsPath, workspaceDir, type CliSettings } from '../settings.js';
import { buildDigest } from '../hooks/digest.js';
import { readHookState, shouldWarn, writeHookState } from '../hooks/hook-state.js';
import { describeConflicts, leaseConflicts, leasePath, leaseRoot, releaseOwnLeases } from '../hooks/leases.js';
import { TOOL_FORMATS, TOOL_NAMES, type HookInput, type ToolName } from '../hooks/tools.js';

/**
 * `koor-cli hook TOOL ACTION`: what the agent tools' hook systems run (the wizard wires them
 * in each workspace). The tool's JSON arrives on stdin and the answer leaves on stdout in that
 * tool's format. A hook never blocks the agent because of Koor itself: when the server is down
 * or says no, the hook warns (at most every few minutes) and allows.
 *
 * `koor-cli guard pre-commit` does the lease check for a git commit, for every tool.
 */

/** Hooks give the server this long to answer; the tools' own hook timeouts are longer. */
const HOOK_TIMEOUT_MS = 3000;
const STDIN_WAIT_MS = 2000;
const ACTIONS = ['digest', 'pre-edit', 'session-end'] as const;
type Action = (typeof ACTIONS)[number];

/** The tool's JSON from stdin ({} when there is none, e.g. a person trying the hook at a terminal). */
async function readHookInput(): Promise<HookInput> {
  if (process.stdin.isTTY) return {};
  const text = await new Promise<string>((done) => {
    let data = '';
    const timer = setTimeout(() => done(data), STDIN_WAIT_MS);
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', (chunk: string) => (data += chunk));
    process.stdin.on('end', () => {
      clearTimeout(timer);
      done(data);
    });
    process.stdin.on('error', () => done(data));
  });
  try {
    const parsed = JSON.parse(text);
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? parsed : {};
  } catch {
    return {};
  }
}

const absoluteWorkspace = () => resolve(workspaceDir());

/**
 * A workspace the wizard made before its agent could be registered (server down) registers
 * its agent on its first digest. Returns a line for the digest, or ''.
 */
async function registerIfNeeded(cli: Cli, settings: CliSettings): Promise<string> {
  if (cli.connection.instanceId || typeof settings.agent !== 'string') return '';
  const project = typeof settings.project === 'string' ? settings.project : undefined;
  const registered = await cli.client.json<{ id?: string; token?: string }>('POST', '/api/instances/register', {
    json: { name: settings.agent, workspace: project, stack: typeof settings.stack === 'string' ? settings.stack : undefined },
  });
  if (!registered.id || !registered.token) return '';
  writeIdentity(absoluteWorkspace(), { instanceId: registered.id, token: registered.token, name: settings.agent, project });
  cli.connection.instanceId = registered.id;
  cli.connection.token = registered.token;
  return `Koor: this workspace is now registered as agent ${settings.agent} (instance ${registered.id}).`;
}

async function digest(cli: Cli, tool: ToolName, input: HookInput): Promise<string> {
  const format = TOOL_FORMATS[tool];
  const workspace = absoluteWorkspace();
  const settings = readSettings(settingsPath());
  const registeredLine = await registerIfNeeded(cli, settings);
  const result = await buildDigest(cli.client, settings, cli.connection.instanceId, readHookState(workspace));
  writeHookState(workspace, { ...readHookState(workspace), ...result.state });
  const text = [registeredLine, result.text].filter(Boolean).join('\n');
  return text ? format.context(input, text) : format.nothing(input, false);
}

async function preEdit(cli: Cli, tool: ToolName, input: HookInput): Promise<string> {
  const format = TOOL_FORMATS[tool];
  const file = format.editedFile(input);
  const path = file ? leasePath(leaseRoot(workspaceDir()), file, process.cwd()) : null;
  if (!path) return format.nothing(input, true);
  const conflicts = await leaseConflicts(cli.client, [path]);
  if (conflicts.length === 0) return format.nothing(input, true);
  return format.deny(input, `Koor refused this edit: ${describeConflicts([path], conflicts)}. Work on something else, or ask the holder to release it.`);
}

async function sessionEnd(cli: Cli, tool: ToolName, input: HookInput): Promise<string> {
  if (cli.connection.instanceId) await releaseOwnLeases(cli.client, cli.connection.instanceId);
  return TOOL_FORMATS[tool].nothing(input, false);
}

const RUNNERS: Record<Action, (cli: Cli, tool: ToolName, input: HookInput) => Promise<string>> = {
  digest,
  'pre-edit': preEdit,
  'session-end': sessionEnd,
};

function trouble(err: unknown, server: string): string {
  if (err instanceof CliError && err.exitCode === ExitCode.auth) {
    return `koor: ${server} refused this workspace's credentials (${err.message}); run koor-wizard again with the server up to register it`;
  }
  const reason = err instanceof Error ? err.message : String(err);
  return `koor: coordination is off for now (${reason.replace(/^cannot reach /, 'cannot reach ')}); edits are not checked against leases`;
}

async function runHook(cli: Cli, tool: ToolName, act: Action): Promise<void> {
  const input = await readHookInput();
  // Cursor also runs the hooks it finds in .claude/settings.json; the Cursor ones answer there.
  if (tool === 'claude' && process.env.CURSOR_VERSION) return;
  const format = TOOL_FORMATS[tool];
  let out: string;
  try {
    out = await RUNNERS[act](cli, tool, input);
  } catch (err) {
    const message = trouble(err, cli.connection.server);
    printError(message);
    const warn = shouldWarn(absoluteWorkspace()) ? format.warn(input, message) : '';
    out = warn || format.nothing(input, act === 'pre-edit');
  }
  process.stdout.write(out);
}

/** Paths given as arguments, else read from stdin (one per line, or NUL-separated with --null as `git diff -z` prints them). */
async function pathsToCheck(args: string[], nul: boolean): Promise<string[]> {
  if (args.length > 0 || process.stdin.isTTY) return args;
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').split(nul ? '\0' : /\r?\n/).filter((p) => p !== '');
}

const GUARD_MARKER = 'koor-cli guard pre-commit';

/** The hooks folder of the repository holding the workspace (a worktree's `.git` file points to its git dir). */
function gitHooksDir(workspace: string): string {
  const root = leaseRoot(workspace);
  const dotGit = join(root, '.git');
  if (!existsSync(dotGit)) throw badInput(`${resolve(workspace)} is not inside a git repository: run git init first`);
  let gitDir = dotGit;
  if (statSync(dotGit).isFile()) {
    const pointer = /^gitdir:\s*(.+)$/m.exec(readFileSync(dotGit, 'utf8'))?.[1]?.trim();
    if (!pointer) throw badInput(`cannot read ${dotGit}`);
    gitDir = resolve(root, pointer);
    const common = join(gitDir, 'commondir');
    if (existsSync(common)) gitDir = resolve(gitDir, readFileSync(common, 'utf8').trim());
  }
  return join(gitDir, 'hooks');
}

function installGuard(): { hook: string; installed: boolean } {
  const workspace = absoluteWorkspace();
  const hook = join(gitHooksDir(workspace), 'pre-commit');
  if (existsSync(hook) && !readFileSync(hook, 'utf8').includes(GUARD_MARKER)) {
    throw new CliError(`${hook} already exists: add this line to it yourself:\n  git diff --cached --name-only -z | '${join(workspace, 'koor-cli')}' guard pre-commit --null || exit 1`, ExitCode.conflict);
  }
  const launcher = join(workspace, 'koor-cli');
  const cli = existsSync(launcher) ? `'${launcher.replace(/'/g, `'\\''`)}'` : 'koor-cli';
  mkdirSync(dirname(hook), { recursive: true });
  writeFileSync(
    hook,
    [
      '#!/bin/sh',
      '# Koor: refuse a commit that touches files another agent has leased (written by `koor-cli guard install`).',
      `git diff --cached --name-only -z | ${cli} guard pre-commit --null`,
      '',
    ].join('\n'),
  );
  chmodSync(hook, 0o755);
  return { hook, installed: true };
}

export function registerHooks(program: Command): void {
  program
    .command('hook <tool> <action>')
    .description(`answer an agent tool's hook: tool ${TOOL_NAMES.join('|')}, action ${ACTIONS.join('|')} (the tool's JSON on stdin)`)
    .action(
      action(async (cli, [tool, act]) => {
        if (!(TOOL_NAMES as string[]).includes(tool!)) throw badInput(`unknown tool "${tool}": expected ${TOOL_NAMES.join(', ')}`);
        if (!(ACTIONS as readonly string[]).includes(act!)) throw badInput(`unknown hook action "${act}": expected ${ACTIONS.join(', ')}`);
        await runHook(cli, tool as ToolName, act as Action);
      }, { timeoutMs: HOOK_TIMEOUT_MS }),
    );

  const guard = program.command('guard').description('git hooks that check commits against other agents\' leases');

  guard
    .command('pre-commit [paths...]')
    .description('exit 7 when another agent holds a lease on one of these paths (default: read from stdin)')
    .option('--null', 'stdin paths are NUL-separated (git diff -z)')
    .action(
      action(async (cli, [variadic], o) => {
        // Commander hands a variadic argument over as one array.
        const given = await pathsToCheck((variadic as unknown as string[] | undefined) ?? [], Boolean(o.null));
        const root = leaseRoot(workspaceDir());
        const paths = given.map((p) => leasePath(root, p, process.cwd())).filter((p): p is string => p !== null);
        let conflicts;
        try {
          conflicts = await leaseConflicts(cli.client, paths);
        } catch (err) {
          printError(`${trouble(err, cli.connection.server)}; commit allowed`);
          return;
        }
        if (conflicts.length > 0) {
          throw new CliError(`commit refused: ${describeConflicts(paths, conflicts)}`, ExitCode.checkFailed);
        }
      }, { timeoutMs: HOOK_TIMEOUT_MS }),
    );

  guard
    .command('install')
    .description('install the pre-commit guard in the repository holding this workspace')
    .action(action((cli) => cli.print(installGuard())));
}


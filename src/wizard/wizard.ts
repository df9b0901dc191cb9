import { relative, resolve } from 'node:path';
import { WizardError } from './errors.js';
import { CONTROLLER } from './names.js';
import {
  DEFAULT_AGENTS,
  DEFAULT_SERVER,
  missingFlags,
  parseAgents,
  parseFlags,
  USAGE,
  type WizardFlags,
} from './options.js';
import { planAddAgents, planNewProject, type WizardPlan } from './plan.js';
import { detectProject } from './project.js';
import { checkWritable, existingFiles, writePlan, type WriteResult } from './writer.js';
import { registerWorkspaces, type Registration } from './register.js';
import * as ask from './prompts.js';

export interface WizardIo {
  cwd: string;
  interactive: boolean;
  out: (text: string) => void;
  err: (text: string) => void;
}

function defaultIo(): WizardIo {
  return {
    cwd: process.cwd(),
    interactive: Boolean(process.stdin.isTTY && process.stdout.isTTY),
    out: (t) => process.stdout.write(`${t}\n`),
    err: (t) => process.stderr.write(`${t}\n`),
  };
}

/** Runs koor-wizard with the given arguments; resolves to the exit code. */
export async function runWizard(argv: string[], io: WizardIo = defaultIo()): Promise<number> {
  try {
    const flags = parseFlags(argv);
    if (flags.help) {
      io.out(USAGE);
      return 0;
    }
    await scaffold(flags, io);
    return 0;
  } catch (err) {
    if (err instanceof WizardError) {
      io.err(`koor-wizard: ${err.message}`);
      return err.exitCode;
    }
    throw err;
  }
}

async function scaffold(flags: WizardFlags, io: WizardIo): Promise<void> {
  // --yes never asks, even on a terminal; without a terminal nothing can be asked.
  const asking = io.interactive && !flags.yes;
  if (asking) ask.intro('koor-wizard');
  // --project or --agents alone already say "new"; only a bare run asks.
  const mode = flags.mode ?? (asking && !flags.project && !flags.agents ? await ask.askMode() : 'new');
  if (!io.interactive) {
    const missing = missingFlags(flags, mode);
    if (missing.length) {
      throw new WizardError(
        `no terminal to ask in, so these flags are needed: ${missing.join(', ')}. ` +
          `${flags.yes ? '' : 'Add --yes to accept the defaults shown. '}See koor-wizard --help.`,
        2,
      );
    }
  }

  const { plan, server, token } = mode === 'new' ? await planForNew(flags, io, asking) : await planForAdd(flags, io, asking);
  // Names were checked as they came in; now the folders, before a single byte is written.
  checkWritable(plan);

  const base = resolve(plan.projectDir, '..');
  const show = (path: string) => relative(base, path);
  if (asking) {
    const summary = [`${plan.files.length} files under ${plan.projectDir}`, ...plan.notices].join('\n');
    if (!(await ask.confirmWrite(summary, plan.files.length))) throw new WizardError('nothing was written', 1);
  }

  const existing = existingFiles(plan);
  let overwrite = new Set<string>();
  if (existing.length && flags.force) overwrite = new Set(existing.map((f) => f.path));
  else if (existing.length && asking) overwrite = await ask.askOverwrite(existing, show);

  const result = writePlan(plan, overwrite);
  const registration = flags.offline
    ? { registered: [], kept: [], notices: ['--offline: no agent was registered; each registers itself in its first session'] }
    : await registerWorkspaces(server, token, plan.workspaces);
  report(plan, result, registration, show, io, asking, mode);
}

interface Planned {
  plan: WizardPlan;
  server: string;
  /** The server token, used only to register the agents; never written to a file. */
  token?: string;
}

async function planForNew(flags: WizardFlags, io: WizardIo, asking: boolean): Promise<Planned> {
  const project = flags.project ?? (io.interactive ? await ask.askProject() : undefined);
  if (!project) throw new WizardError('--project NAME is required', 2);
  const server = flags.server ?? (asking ? await ask.askServer() : DEFAULT_SERVER);
  const token = flags.token ?? (asking ? await ask.askToken() : undefined);
  const dir = resolve(io.cwd, flags.dir ?? (asking ? await ask.askParentDir(io.cwd) : io.cwd));
  const agents = flags.agents ?? (asking ? await ask.askAgents() : parseAgents([DEFAULT_AGENTS], '--agents'));
  return { plan: planNewProject(dir, { project, server, agents }), server, token };
}

async function planForAdd(flags: WizardFlags, io: WizardIo, asking: boolean): Promise<Planned> {
  const existing =
    flags.dir || !asking ? detectProject(resolve(io.cwd, flags.dir ?? '.'), flags.project) : await ask.askProjectDir(io.cwd, flags.project);
  const agents = flags.agents ?? (io.interactive ? await ask.askAgents(existing.agents.map((a) => a.name)) : undefined);
  if (!agents) throw new WizardError('--agent NAME:STACK is required', 2);
  const server = flags.server ?? existing.server;
  const token = flags.token ?? (asking ? await ask.askToken() : undefined);
  return { plan: planAddAgents(existing, agents, { server }), server, token };
}

function report(
  plan: WizardPlan,
  result: WriteResult,
  registration: Registration,
  show: (p: string) => string,
  io: WizardIo,
  asking: boolean,
  mode: 'new' | 'add',
): void {
  const mergedKept = new Set(plan.files.filter((f) => f.merge).map((f) => f.path));
  const lines = [
    ...result.created.map((p) => `created      ${show(p)}`),
    ...result.overwritten.map((p) => `overwritten  ${show(p)}`),
    ...result.updated.map((p) => `updated      ${show(p)}`),
    ...result.kept.map((p) => `kept         ${show(p)}${mergedKept.has(p) ? '' : ' (exists; --force overwrites)'}`),
    ...registration.registered.map((d) => `registered   ${show(d)} (its token is in ${show(d)}/.koor/token.env)`),
  ];
  const allNotices = [...plan.notices, ...registration.notices];
  const notices = allNotices.map((n) => `notice: ${n}`);
  const project = show(plan.projectDir);
  const next =
    mode === 'new'
      ? `Next: start koor-server, open ${project}/${CONTROLLER} in your agent tool and follow its AGENTS.md; open each agent folder in its own tool, started with its token loaded (set -a; . .koor/token.env; set +a).`
      : `Next: open the new agent folder in its tool; the controller assigns its task (see ${project}/${CONTROLLER}/AGENTS.md).`;
  if (asking) {
    ask.logInfo(lines.join('\n'));
    for (const n of allNotices) ask.logWarn(n);
    ask.outro(next);
    return;
  }
  io.out(`koor-wizard: ${mode === 'new' ? 'project' : 'agents added to'} ${plan.projectDir}`);
  for (const line of [...lines, ...notices, next]) io.out(line);
}

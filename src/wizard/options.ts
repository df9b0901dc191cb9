import { parseArgs } from 'node:util';
import { WizardError } from './errors.js';
import { agentNameProblem, projectNameProblem, stackNameProblem } from './names.js';
import { databaseProblem } from './presets.js';
import type { AgentSpec } from './instructions.js';

/** What the command line said; anything absent is asked for, defaulted (`--yes`) or reported missing. */
export interface WizardFlags {
  mode?: 'new' | 'add';
  project?: string;
  server?: string;
  token?: string;
  dir?: string;
  agents?: AgentSpec[];
  force: boolean;
  yes: boolean;
  /** Write the files only; register no agent (each registers itself in its first session). */
  offline: boolean;
  help: boolean;
}

export const DEFAULT_SERVER = 'http://localhost:9800';
export const DEFAULT_AGENTS = 'frontend:react,backend:node';

export const USAGE = `koor-wizard: scaffold a Koor multi-agent project

Usage:
  koor-wizard                                   ask for everything (needs a terminal)
  koor-wizard --project NAME [options] --yes    no questions: defaults for what is not given
  koor-wizard --mode add --agent NAME:STACK [--dir PROJECT_FOLDER] --yes

Options:
  --mode new|add        new project (default), or add agents to an existing one
  --project NAME        project name (letters, digits, . _ -)
  --server URL          Koor server (default ${DEFAULT_SERVER})
  --token TOKEN         the server's auth token, used only to register the agents
                        (each gets its own token in .koor/token.env); never written
  --dir FOLDER          new: parent folder of the project (default: current folder)
                        add: the project folder or one of its workspaces
  --agents LIST         agents as name:stack, comma-separated (default ${DEFAULT_AGENTS})
  --agent NAME:STACK    one agent (repeatable; implies --mode add unless --mode new)
  --force               overwrite existing files
  --offline             register no agent now (each registers itself in its first session)
  --yes, -y             accept defaults and do not ask
  --help, -h            show this help

Stacks with presets: generic, node, react, python, go-api, rust, goth, flutter, c (others use
generic). go-api takes a database as a third part: backend:go-api:sqlite|postgres|memory.
Layout: {dir}/{project}/controller and {dir}/{project}/{agent}.
Existing files are kept unless you say otherwise; .gitignore files are only added to.`;

/** `http://host:port[/path]` without a trailing slash. */
export function normalizeServer(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new WizardError(`--server "${value}" is not a URL: use e.g. ${DEFAULT_SERVER}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new WizardError(`--server "${value}" must be an http:// or https:// URL`);
  }
  if (url.search || url.hash || url.username || url.password) {
    throw new WizardError(`--server "${value}" must not carry a query, fragment or credentials (use --token)`);
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

export function checkToken(token: string): string {
  if (!/^[\x21-\x7e]+$/.test(token)) {
    throw new WizardError('--token must be printable ASCII without spaces (it is sent as an HTTP header)');
  }
  return token;
}

export function checkProject(name: string): string {
  const problem = projectNameProblem(name);
  if (problem) throw new WizardError(problem);
  return name;
}

/** `frontend:react,backend:go-api` (a missing stack is `generic`). */
export function parseAgents(list: string[], flag: string): AgentSpec[] {
  const agents: AgentSpec[] = [];
  for (const item of list.flatMap((l) => l.split(',')).map((s) => s.trim()).filter(Boolean)) {
    const [name, stack = 'generic', database, ...rest] = item.split(':').map((s) => s.trim());
    if (rest.length) throw new WizardError(`${flag} "${item}": write each agent as name:stack (or name:go-api:postgres)`);
    const problem = agentNameProblem(name) ?? stackNameProblem(stack) ?? (database !== undefined ? databaseProblem(stack, database.toLowerCase()) : undefined);
    if (problem) throw new WizardError(`${flag}: ${problem}`);
    if (agents.some((a) => a.name.toLowerCase() === name.toLowerCase())) {
      throw new WizardError(`${flag}: agent "${name}" is listed twice`);
    }
    agents.push({ name, stack: stack.toLowerCase(), ...(database !== undefined ? { database: database.toLowerCase() } : {}) });
  }
  if (!agents.length) throw new WizardError(`${flag} lists no agent: use e.g. ${DEFAULT_AGENTS}`);
  return agents;
}

export function parseFlags(argv: string[]): WizardFlags {
  let values: Record<string, string | boolean | string[] | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        mode: { type: 'string' },
        project: { type: 'string' },
        server: { type: 'string' },
        token: { type: 'string' },
        dir: { type: 'string' },
        agents: { type: 'string', multiple: true },
        agent: { type: 'string', multiple: true },
        force: { type: 'boolean', default: false },
        offline: { type: 'boolean', default: false },
        yes: { type: 'boolean', short: 'y', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (err) {
    throw new WizardError(`${(err as Error).message.split('\n')[0]} (see koor-wizard --help)`, 2);
  }
  const str = (k: string) => values[k] as string | undefined;
  const list = (k: string) => values[k] as string[] | undefined;

  const mode = str('mode');
  if (mode !== undefined && mode !== 'new' && mode !== 'add') {
    throw new WizardError(`--mode "${mode}" is not valid: use new or add`, 2);
  }
  const agentFlags = [...(list('agents') ?? []), ...(list('agent') ?? [])];
  const flagName = list('agent') && !list('agents') ? '--agent' : '--agents';
  return {
    mode: (mode as WizardFlags['mode']) ?? (list('agent') ? 'add' : undefined),
    project: str('project') !== undefined ? checkProject(str('project')!) : undefined,
    server: str('server') !== undefined ? normalizeServer(str('server')!) : undefined,
    token: str('token') ? checkToken(str('token')!) : undefined,
    dir: str('dir'),
    agents: agentFlags.length ? parseAgents(agentFlags, flagName) : undefined,
    force: values.force as boolean,
    offline: values.offline as boolean,
    yes: values.yes as boolean,
    help: values.help as boolean,
  };
}

/**
 * The flags a run without a terminal still needs. `--yes` supplies defaults for everything
 * that has one; the project name (new) and the agent (add) have none.
 */
export function missingFlags(flags: WizardFlags, mode: 'new' | 'add'): string[] {
  const missing: string[] = [];
  if (mode === 'new') {
    if (!flags.project) missing.push('--project NAME');
    if (!flags.yes) {
      if (!flags.server) missing.push(`--server URL (default ${DEFAULT_SERVER})`);
      if (!flags.dir) missing.push('--dir FOLDER (default: current folder)');
      if (!flags.agents) missing.push(`--agents LIST (default ${DEFAULT_AGENTS})`);
    }
  } else {
    if (!flags.agents) missing.push('--agent NAME:STACK');
    if (!flags.yes && !flags.dir) missing.push('--dir PROJECT_FOLDER (default: current folder)');
  }
  return missing;
}

import * as p from '@clack/prompts';
import { WizardError } from './errors.js';
import { agentNameProblem, projectNameProblem, stackNameProblem } from './names.js';
import { STACK_CHOICES } from './presets.js';
import { DEFAULT_SERVER, normalizeServer } from './options.js';
import { detectProject, type ExistingProject } from './project.js';
import type { AgentSpec } from './instructions.js';
import type { PlannedFile } from './plan.js';

/** The interactive side: one clack prompt per answer the flags did not give. */

const OTHER_STACK = '__other__';

async function answer<T>(prompt: Promise<T>): Promise<Exclude<T, symbol>> {
  const value = await prompt;
  if (p.isCancel(value)) {
    p.cancel('Nothing was written.');
    throw new WizardError('cancelled, nothing was written', 130);
  }
  return value as Exclude<T, symbol>;
}

function problemOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

export async function askMode(): Promise<'new' | 'add'> {
  return answer(
    p.select<'new' | 'add'>({
      message: 'What do you want to do?',
      options: [
        { value: 'new', label: 'Create a new project', hint: 'controller and agents' },
        { value: 'add', label: 'Add an agent to an existing project' },
      ],
    }),
  );
}

export async function askProject(): Promise<string> {
  // No default: a placeholder that looks like one but is refused on Enter misleads.
  return answer(p.text({ message: 'Project name (e.g. shop)', validate: (v) => projectNameProblem(v ?? '') }));
}

export async function askServer(): Promise<string> {
  const value = await answer(
    p.text({
      message: 'Koor server URL',
      placeholder: DEFAULT_SERVER,
      defaultValue: DEFAULT_SERVER,
      validate: (v) => (v ? problemOf(() => normalizeServer(v)) : undefined),
    }),
  );
  return normalizeServer(value || DEFAULT_SERVER);
}

export async function askToken(): Promise<string | undefined> {
  const value = await answer(
    p.password({
      message: 'Server auth token, used only to register the agents (leave empty if the server has none)',
      validate: (v) => (v && !/^[\x21-\x7e]+$/.test(v) ? 'printable characters only, no spaces' : undefined),
    }),
  );
  return value || undefined;
}

export async function askParentDir(cwd: string): Promise<string> {
  const value = await answer(p.text({ message: 'Parent folder of the project', placeholder: cwd, defaultValue: cwd }));
  return value || cwd;
}

export async function askProjectDir(cwd: string, project?: string): Promise<ExistingProject> {
  const value = await answer(
    p.text({
      message: 'Project folder (the one holding controller/)',
      placeholder: cwd,
      defaultValue: cwd,
      validate: (v) => problemOf(() => detectProject(v || cwd, project)),
    }),
  );
  return detectProject(value || cwd, project);
}

/** The stack of an agent (with its database, for go-api), as one question. */
async function askStack(agent: string): Promise<Omit<AgentSpec, 'name'>> {
  const choice = await answer(
    p.select<string>({
      message: `Stack of ${agent}`,
      options: [
        ...STACK_CHOICES.map(({ value, hint }) => ({ value, label: value, hint: value === 'generic' ? 'set your own commands' : hint })),
        { value: OTHER_STACK, label: 'other', hint: 'generic commands, your stack name' },
      ],
    }),
  );
  if (choice !== OTHER_STACK) {
    const [stack, database] = choice.split(':') as [string, string | undefined];
    return database ? { stack, database } : { stack };
  }
  const other = await answer(p.text({ message: 'Stack name (e.g. vue)', validate: (v) => stackNameProblem(v ?? '') }));
  return { stack: other.toLowerCase() };
}

/** One agent after another until the user says there are no more. */
export async function askAgents(taken: string[] = []): Promise<AgentSpec[]> {
  const agents: AgentSpec[] = [];
  for (;;) {
    const used = [...taken, ...agents.map((a) => a.name)].map((n) => n.toLowerCase());
    // The first two names have real defaults (Enter takes them); later ones are asked for.
    const suggestion = ['frontend', 'backend'].find((n, i) => i === agents.length && !used.includes(n));
    const name = await answer(
      p.text({
        message: `Name of agent ${agents.length + 1}`,
        ...(suggestion ? { placeholder: suggestion, defaultValue: suggestion } : {}),
        validate: (v) => {
          const value = v || suggestion || '';
          return agentNameProblem(value) ?? (used.includes(value.toLowerCase()) ? `agent "${value}" already exists` : undefined);
        },
      }),
    );
    agents.push({ name, ...(await askStack(name)) });
    const more = await answer(p.confirm({ message: 'Add another agent?', initialValue: false }));
    if (!more) return agents;
  }
}

export async function confirmWrite(summary: string, count: number): Promise<boolean> {
  p.note(summary, 'Plan');
  return answer(p.confirm({ message: `Write ${count} files?`, initialValue: true }));
}

/** Which existing files to overwrite: none, all, or the ones the user picks one by one. */
export async function askOverwrite(existing: PlannedFile[], show: (path: string) => string): Promise<Set<string>> {
  const choice = await answer(
    p.select<'keep' | 'overwrite' | 'each'>({
      message: `${existing.length} file(s) already exist. What should happen to them?`,
      options: [
        { value: 'keep', label: 'Keep them all', hint: 'only missing files are written' },
        { value: 'overwrite', label: 'Overwrite them all' },
        { value: 'each', label: 'Ask for each file' },
      ],
    }),
  );
  if (choice === 'keep') return new Set();
  if (choice === 'overwrite') return new Set(existing.map((f) => f.path));
  const chosen = new Set<string>();
  for (const file of existing) {
    if (await answer(p.confirm({ message: `Overwrite ${show(file.path)}?`, initialValue: false }))) chosen.add(file.path);
  }
  return chosen;
}

export const intro = (text: string) => p.intro(text);
export const outro = (text: string) => p.outro(text);
export const logInfo = (text: string) => p.log.info(text);
export const logWarn = (text: string) => p.log.warn(text);

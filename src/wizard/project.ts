import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { CONTROLLER } from './names.js';
import type { AgentSpec } from './instructions.js';
import { WizardError } from './errors.js';

/**
 * The project record the wizard keeps in the controller's workspace (`koor-project.json`).
 * It is how "add an agent" finds the project; it never holds the token.
 */
export const MANIFEST = 'koor-project.json';

export interface ProjectManifest {
  project: string;
  server: string;
  agents: AgentSpec[];
}

export interface ExistingProject extends ProjectManifest {
  /** The folder holding `controller/` and one folder per agent. */
  projectDir: string;
}

export function manifestContent(m: ProjectManifest): string {
  return `${JSON.stringify({ project: m.project, server: m.server, agents: m.agents, created_by: 'koor-wizard' }, null, 2)}\n`;
}

/**
 * Finds the project from `dir`: the project folder itself, its controller folder, or (with
 * `project`) the parent folder of the project.
 */
export function detectProject(dir: string, project?: string): ExistingProject {
  const start = resolve(dir);
  const candidates = project
    ? [join(start, project), start]
    : [start, dirname(start)]; // the project folder, or one of its workspaces
  for (const projectDir of candidates) {
    const file = join(projectDir, CONTROLLER, MANIFEST);
    if (!existsSync(file)) continue;
    const manifest = readManifest(file);
    if (project && manifest.project !== project) continue;
    return { ...manifest, projectDir };
  }
  const where = project ? join(start, project) : start;
  throw new WizardError(
    `no Koor project found at ${where}: expected ${join(where, CONTROLLER, MANIFEST)} (written by koor-wizard); pass --dir with the project folder`,
  );
}

function readManifest(file: string): ProjectManifest {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new WizardError(`cannot read ${file}: ${(err as Error).message}`);
  }
  const m = data as Partial<ProjectManifest>;
  if (typeof m?.project !== 'string' || typeof m.server !== 'string' || !Array.isArray(m.agents)) {
    throw new WizardError(`${file} is not a koor-wizard project file: it needs "project", "server" and "agents"`);
  }
  const agents = m.agents.filter((a): a is AgentSpec => typeof a?.name === 'string' && typeof a?.stack === 'string');
  return { project: m.project, server: m.server, agents };
}

/**
 * The project record with `added` agents listed too: read again at write time, so every agent
 * and key already there (including ones a person added) is kept, and the server stays as it was.
 */
export function mergeManifest(existing: string, added: ProjectManifest): string {
  let record: Record<string, unknown>;
  try {
    const parsed = JSON.parse(existing);
    record = parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? parsed : {};
  } catch {
    return manifestContent(added);
  }
  const agents = Array.isArray(record.agents) ? [...record.agents] : [];
  for (const agent of added.agents) {
    if (!agents.some((a) => (a as AgentSpec | null)?.name === agent.name)) agents.push(agent);
  }
  return `${JSON.stringify({ project: added.project, server: added.server, ...record, agents }, null, 2)}\n`;
}

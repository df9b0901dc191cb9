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
  /** The bearer token found in the controller's MCP config, if any. */
  token?: string;
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
    return { ...manifest, projectDir, token: tokenFromClaudeConfig(join(projectDir, CONTROLLER, '.mcp.json')) };
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

/** The server token is in the controller's `.mcp.json` header (settings.json may hold an instance token by now). */
function tokenFromClaudeConfig(file: string): string | undefined {
  try {
    const config = JSON.parse(readFileSync(file, 'utf8'));
    const auth = config?.mcpServers?.koor?.headers?.Authorization;
    const match = typeof auth === 'string' ? /^Bearer (.+)$/.exec(auth) : null;
    return match ? match[1] : undefined;
  } catch {
    return undefined;
  }
}

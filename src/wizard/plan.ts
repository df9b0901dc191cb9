import { join } from 'node:path';
import { CONTROLLER } from './names.js';
import { connectionFiles, type Connection } from './mcp-configs.js';
import {
  agentInstructions,
  controllerInstructions,
  decisionsReadme,
  firstDecision,
  planOverview,
  statusFile,
  type AgentSpec,
  type TeamSpec,
} from './instructions.js';
import { presetFor } from './presets.js';
import { manifestContent, MANIFEST, type ExistingProject } from './project.js';

/**
 * Every file the wizard will write, computed before anything touches the disk, so names,
 * folders and existing files can all be checked first.
 *
 * Layout: `{dir}/{project}/controller/` and `{dir}/{project}/{agent}/`.
 */
export interface PlannedFile {
  /** Absolute path. */
  path: string;
  content: string;
  /** The wizard's own record, updated in place when adding an agent (never a user's file). */
  managed?: boolean;
}

export interface WizardPlan {
  projectDir: string;
  files: PlannedFile[];
  notices: string[];
}

export interface NewProject extends Connection {
  project: string;
  agents: AgentSpec[];
}

/** The three instruction files carry the same text, one name per tool convention. */
function instructionFiles(dir: string, text: string): PlannedFile[] {
  return ['AGENTS.md', 'CLAUDE.md', '.cursorrules'].map((name) => ({ path: join(dir, name), content: text }));
}

function workspaceFiles(dir: string, text: string, c: Connection): PlannedFile[] {
  return [
    ...instructionFiles(dir, text),
    ...connectionFiles(c).map((f) => ({ path: join(dir, f.path), content: f.content })),
  ];
}

function stackNotices(agents: AgentSpec[]): string[] {
  return agents
    .filter((a) => presetFor(a.stack).fallback)
    .map((a) => `stack "${a.stack}" of agent ${a.name} has no preset: generic build/test/run commands were used; edit them in ${a.name}/AGENTS.md, CLAUDE.md and .cursorrules`);
}

function agentWorkspace(projectDir: string, team: TeamSpec, agent: AgentSpec, c: Connection): PlannedFile[] {
  return workspaceFiles(join(projectDir, agent.name), agentInstructions(team, agent), c);
}

export function planNewProject(parentDir: string, p: NewProject): WizardPlan {
  const projectDir = join(parentDir, p.project);
  const controllerDir = join(projectDir, CONTROLLER);
  const team: TeamSpec = { project: p.project, server: p.server, agents: p.agents };
  const files: PlannedFile[] = [
    ...workspaceFiles(controllerDir, controllerInstructions(team), p),
    { path: join(controllerDir, MANIFEST), content: manifestContent(team), managed: true },
    { path: join(controllerDir, 'plan', 'overview.md'), content: planOverview(team) },
    { path: join(controllerDir, 'plan', 'decisions', 'README.md'), content: decisionsReadme(p.project) },
    { path: join(controllerDir, 'plan', 'decisions', '0001-coordinate-through-koor.md'), content: firstDecision(team) },
    ...p.agents.map((a) => ({ path: join(controllerDir, 'status', `${a.name}.md`), content: statusFile(p.project, a) })),
    ...p.agents.flatMap((a) => agentWorkspace(projectDir, team, a, p)),
  ];
  return { projectDir, files, notices: stackNotices(p.agents) };
}

/**
 * A new agent workspace for an existing project, its status file in the controller, and the
 * project record updated to list it. The controller's instructions are the user's by now and
 * are left as they are (they point to koor-project.json for the full team).
 */
export function planAddAgents(existing: ExistingProject, agents: AgentSpec[], c: Connection): WizardPlan {
  const controllerDir = join(existing.projectDir, CONTROLLER);
  const known = existing.agents.filter((a) => !agents.some((n) => n.name === a.name));
  const team: TeamSpec = { project: existing.project, server: c.server, agents: [...known, ...agents] };
  const files: PlannedFile[] = [
    ...agents.flatMap((a) => agentWorkspace(existing.projectDir, team, a, c)),
    ...agents.map((a) => ({ path: join(controllerDir, 'status', `${a.name}.md`), content: statusFile(existing.project, a) })),
    { path: join(controllerDir, MANIFEST), content: manifestContent({ ...team, server: existing.server }), managed: true },
  ];
  return { projectDir: existing.projectDir, files, notices: stackNotices(agents) };
}

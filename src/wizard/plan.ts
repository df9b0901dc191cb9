import { join } from 'node:path';
import { CONTROLLER } from './names.js';
import { connectionFiles, type Connection, type WorkspaceSettings } from './mcp-configs.js';
import {
  agentInstructions,
  CLAUDE_IMPORT,
  controllerInstructions,
  decisionsReadme,
  firstDecision,
  planOverview,
  statusFile,
  taskKey,
  type AgentSpec,
  type TeamSpec,
} from './instructions.js';
import { launcherScript } from './launcher.js';
import { presetFor } from './presets.js';
import { manifestContent, mergeManifest, MANIFEST, type ExistingProject } from './project.js';
import type { WorkspaceIdentity } from './register.js';

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
  /** File mode for a new file (the launcher is executable). */
  mode?: number;
  /**
   * For a file the wizard adds to rather than replaces (`.gitignore`, the project record in
   * `--mode add`): the new content given the existing one. Such files are never asked about.
   */
  merge?: (existing: string) => string;
}

export interface WizardPlan {
  projectDir: string;
  files: PlannedFile[];
  notices: string[];
  /** The workspaces whose agents get an identity of their own. */
  workspaces: WorkspaceIdentity[];
}

export interface NewProject extends Connection {
  project: string;
  agents: AgentSpec[];
}

/** What a workspace's `.gitignore` must hold: its identity and the CLI's caches never reach git. */
export const IGNORED = ['.koor/', '.koor-cli-cache/'];

export function withIgnored(existing: string): string {
  const lines = existing.split(/\r?\n/).map((l) => l.trim());
  const missing = IGNORED.filter((entry) => !lines.includes(entry) && !lines.includes(`/${entry}`));
  if (missing.length === 0) return existing;
  const base = existing === '' || existing.endsWith('\n') ? existing : `${existing}\n`;
  return `${base}# Koor: the agent's identity (token) and koor-cli's caches\n${missing.join('\n')}\n`;
}

function workspaceFiles(dir: string, text: string, c: Connection, w: WorkspaceSettings): PlannedFile[] {
  return [
    { path: join(dir, 'AGENTS.md'), content: text },
    { path: join(dir, 'CLAUDE.md'), content: CLAUDE_IMPORT },
    ...connectionFiles(c, w).map((f) => ({ path: join(dir, f.path), content: f.content })),
    { path: join(dir, 'koor-cli'), content: launcherScript(), mode: 0o755 },
    { path: join(dir, '.gitignore'), content: withIgnored(''), merge: withIgnored },
  ];
}

function stackNotices(agents: AgentSpec[]): string[] {
  return agents
    .filter((a) => presetFor(a.stack).fallback)
    .map((a) => `stack "${a.stack}" of agent ${a.name} has no preset: generic build/test/run commands were used; edit them in ${a.name}/AGENTS.md`);
}

function agentSettings(project: string, agent: AgentSpec): WorkspaceSettings {
  return { project, agent: agent.name, stack: agent.stack, follow: [`${project}.**`], followState: [taskKey(project, agent.name)], followSpecs: [project] };
}

function controllerSettings(project: string): WorkspaceSettings {
  return { project, agent: CONTROLLER, stack: 'generic', follow: [`${project}.**`, 'rule.proposed'], followState: [], followSpecs: [] };
}

function agentWorkspace(projectDir: string, team: TeamSpec, agent: AgentSpec, c: Connection): PlannedFile[] {
  return workspaceFiles(join(projectDir, agent.name), agentInstructions(team, agent), c, agentSettings(team.project, agent));
}

function identities(projectDir: string, project: string, agents: AgentSpec[], withController: boolean): WorkspaceIdentity[] {
  const list = agents.map((a) => ({ dir: join(projectDir, a.name), name: a.name, project, stack: a.stack }));
  return withController ? [{ dir: join(projectDir, CONTROLLER), name: CONTROLLER, project, stack: 'generic' }, ...list] : list;
}

export function planNewProject(parentDir: string, p: NewProject): WizardPlan {
  const projectDir = join(parentDir, p.project);
  const controllerDir = join(projectDir, CONTROLLER);
  const team: TeamSpec = { project: p.project, server: p.server, agents: p.agents };
  const files: PlannedFile[] = [
    ...workspaceFiles(controllerDir, controllerInstructions(team), p, controllerSettings(p.project)),
    { path: join(controllerDir, MANIFEST), content: manifestContent(team) },
    { path: join(controllerDir, 'plan', 'overview.md'), content: planOverview(team) },
    { path: join(controllerDir, 'plan', 'decisions', 'README.md'), content: decisionsReadme(p.project) },
    { path: join(controllerDir, 'plan', 'decisions', '0001-coordinate-through-koor.md'), content: firstDecision(team) },
    ...p.agents.map((a) => ({ path: join(controllerDir, 'status', `${a.name}.md`), content: statusFile(p.project, a) })),
    ...p.agents.flatMap((a) => agentWorkspace(projectDir, team, a, p)),
  ];
  return { projectDir, files, notices: stackNotices(p.agents), workspaces: identities(projectDir, p.project, p.agents, true) };
}

/**
 * A new agent workspace for an existing project, its status file in the controller, and the
 * project record updated to list it (every agent and setting already there is kept). The
 * controller's instructions are the user's by now and are left as they are (they point to
 * koor-project.json for the full team).
 */
export function planAddAgents(existing: ExistingProject, agents: AgentSpec[], c: Connection): WizardPlan {
  const controllerDir = join(existing.projectDir, CONTROLLER);
  const known = existing.agents.filter((a) => !agents.some((n) => n.name === a.name));
  const team: TeamSpec = { project: existing.project, server: c.server, agents: [...known, ...agents] };
  const record = { project: existing.project, server: existing.server, agents };
  const files: PlannedFile[] = [
    ...agents.flatMap((a) => agentWorkspace(existing.projectDir, team, a, c)),
    ...agents.map((a) => ({ path: join(controllerDir, 'status', `${a.name}.md`), content: statusFile(existing.project, a) })),
    { path: join(controllerDir, MANIFEST), content: manifestContent({ ...team, server: existing.server }), merge: (text) => mergeManifest(text, record) },
  ];
  return { projectDir: existing.projectDir, files, notices: stackNotices(agents), workspaces: identities(existing.projectDir, existing.project, agents, false) };
}

import { CONTROLLER } from './names.js';
import { presetFor, type StackPreset } from './presets.js';
import { mcpUrl } from './mcp-configs.js';

/**
 * The instruction files of each workspace. Every `koor-cli` line an agent is told to run sits
 * in a fenced block right after a `<!-- koor:commands -->` marker: those lines are complete
 * commands that work as written from the workspace folder (the wizard's end-to-end test runs
 * them). Commands with a placeholder (RULE_ID, TOKEN) are kept out of marked blocks.
 */
export const COMMANDS_MARKER = '<!-- koor:commands -->';

export interface AgentSpec {
  name: string;
  stack: string;
  /** For stacks that offer one (go-api): sqlite, postgres or memory. */
  database?: string;
}

export interface TeamSpec {
  project: string;
  server: string;
  agents: AgentSpec[];
}

function commands(lines: string[]): string {
  return `${COMMANDS_MARKER}\n\`\`\`sh\n${lines.join('\n')}\n\`\`\``;
}

function plainBlock(lines: string[]): string {
  return `\`\`\`sh\n${lines.join('\n')}\n\`\`\``;
}

/** A value for a single-quoted shell argument. */
function sq(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

export function taskKey(project: string, agent: string): string {
  return `${project}/${agent}-task`;
}

function stackCommands(preset: StackPreset): string[] {
  const lines: string[] = [];
  if (preset.setup) lines.push(`${preset.setup}    # set up`);
  lines.push(`${preset.build}    # build`, `${preset.test}    # test`, `${preset.run}    # run`);
  if (preset.lint) lines.push(`${preset.lint}    # lint`);
  return lines;
}

const PLANES = (server: string) => `## Two ways to talk to Koor
Koor splits coordination in two, and each kind of work has its own door:

- **MCP, the control plane**: the \`koor\` server in this folder's MCP configs (\`.mcp.json\`,
  \`.cursor/mcp.json\`, \`.vscode/mcp.json\`, \`.gemini/settings.json\`, \`.codex/config.toml\`),
  at ${mcpUrl(server)}. Use it for identity only; its tools and answers are small on purpose:
  - \`register_instance\`: once per session, to say who you are;
  - \`set_intent\`: when you start on something new (it also counts as a heartbeat);
  - \`discover_instances\`: who else is working, and on what;
  - \`get_endpoints\`: where the REST API is and how the CLI is used;
  - \`propose_rule\`: suggest a validation rule (the CLI can do this too).
- **koor-cli, the data plane**: tasks, shared state, specs, events and validation. Whatever it
  fetches reaches your context only if you print it, so large values stay out of the way.
  It reads \`settings.json\` in this folder (server address and token); run it from here.`;

/** AGENTS.md (and CLAUDE.md, .cursorrules) of one agent workspace. */
export function agentInstructions(team: TeamSpec, agent: AgentSpec): string {
  const { project, server } = team;
  const { preset, fallback } = presetFor(agent.stack, agent.database);
  const key = taskKey(project, agent.name);
  const rule = preset.exampleRule;
  const stackNote = fallback
    ? `There is no preset for the stack \`${agent.stack}\`: the commands below are placeholders, replace them with this project's own.`
    : `Commands for ${preset.label}; adjust them if this project does it differently.`;

  return `# ${agent.name}: the ${agent.stack} agent of project ${project}

This folder is the workspace of **${agent.name}**, one agent of the Koor project **${project}**.
The controller (in \`../${CONTROLLER}\`) plans the work and hands out tasks. You do your task
here and report through the Koor server at ${server}.

## Ground rules
- Stay inside this folder. Never edit \`../${CONTROLLER}\` or another agent's folder, even if
  you can reach it: when you need a change there, report that you are blocked (below).
- Your task lives in Koor, not in this file. Read it before you start, and again after every
  report: the controller answers by updating it.
- Report facts, briefly: what is done, how it was tested, what you need.

${PLANES(server)}

## 1. Start of a session: register once
Call the MCP tool \`register_instance\` with name \`${agent.name}\`, workspace \`${project}\`,
stack \`${agent.stack}\` and a one-line intent. Keep the \`id\` it returns for \`set_intent\`.

If your tool has no MCP, register with the CLI instead. It saves your instance id and token in
\`settings.json\`, and later koor-cli calls from this folder then count as yours:

${commands([`koor-cli register ${agent.name} --workspace ${project} --stack ${agent.stack}`])}

## 2. Read your task and the plan
Your task is the JSON value at \`${key}\`; the controller's plan is the spec \`overview\`:

${commands([`koor-cli state get ${key}`, `koor-cli specs get ${project} overview`])}

Exit code 3 means "not found": no task has been assigned yet, so check again later. Other
non-zero codes come with the server's error on stderr.

## 3. Build, test, run
${stackNote}

${plainBlock(stackCommands(preset))}

Before you report, check the files you changed against the project's rules (here with
\`${preset.sampleFile}\` as the example file):

${commands([`koor-cli validate ${project} --file ${preset.sampleFile}`])}

## 4. Report: done or blocked
When the task is finished and its tests pass, publish \`${project}.${agent.name}.done\`:

${commands([
  `koor-cli events publish ${project}.${agent.name}.done --data ${sq(JSON.stringify({ agent: agent.name, task: key, summary: 'What is finished and how it was tested' }))}`,
])}

When you cannot go on (a decision, an API from another agent, a change outside this folder),
publish \`${project}.${agent.name}.blocked\` saying what you need, then wait for the controller
to update your task and read it again:

${commands([
  `koor-cli events publish ${project}.${agent.name}.blocked --data ${sq(JSON.stringify({ agent: agent.name, task: key, need: 'What you need, and from whom' }))}`,
  `koor-cli state get ${key}`,
])}

## 5. Propose a rule
When you notice a mistake a pattern could catch, propose a rule (RE2 syntax). The controller
accepts or rejects it; accepted rules apply to every \`validate\` of the project. Over MCP the
same is \`propose_rule\` with project, rule_id, pattern and message.

${commands([`koor-cli rules propose ${project} ${rule.id} --pattern ${sq(rule.pattern)} --message ${sq(rule.message)}`])}

## 6. See what the others are doing

${commands([`koor-cli events history --topic ${sq(`${project}.*.done`)} --last 10`, 'koor-cli instances list'])}

## At a glance
| what | value |
|---|---|
| project | \`${project}\` |
| agent | \`${agent.name}\` (stack \`${agent.stack}\`) |
| your task | \`koor-cli state get ${key}\` |
| done event | \`${project}.${agent.name}.done\` |
| blocked event | \`${project}.${agent.name}.blocked\` |
| MCP endpoint | ${mcpUrl(server)} |
| koor-cli settings | \`settings.json\` in this folder |
`;
}

/** AGENTS.md (and CLAUDE.md, .cursorrules) of the controller workspace. */
export function controllerInstructions(team: TeamSpec): string {
  const { project, server, agents } = team;
  const rows = agents
    .map((a) => `| ${a.name} | ${a.stack} | \`../${a.name}\` | \`${taskKey(project, a.name)}\` | \`${project}.${a.name}.done\` / \`.blocked\` |`)
    .join('\n');
  const assign = agents.map(
    (a) =>
      `koor-cli state set ${taskKey(project, a.name)} --data ${sq(JSON.stringify({ title: `First task for ${a.name}`, details: 'What to build, which spec to follow, how it will be checked', status: 'assigned' }))}`,
  );

  return `# controller of project ${project}

This folder is the controller of the Koor project **${project}**. You plan, assign, review
and decide; the agents build. You do not write the agents' code and you do not edit their
folders: you change their tasks.

## The team
| agent | stack | folder | task key | reports |
|---|---|---|---|---|
${rows}

\`koor-project.json\` lists the whole team, including agents added later with
\`koor-wizard --mode add\`. Every agent reads its task at \`${project}/AGENT-task\` and publishes
\`${project}.AGENT.done\` or \`${project}.AGENT.blocked\`.

## Files of this workspace
- \`plan/overview.md\`: goal, scope and the split of the work. Publish it again after every change.
- \`plan/decisions/\`: one short record per decision (see its README).
- \`status/AGENT.md\`: one file per agent, kept current from their events.

${PLANES(server)}

## 1. Start of a session: register once
Call the MCP tool \`register_instance\` with name \`${CONTROLLER}\`, workspace \`${project}\` and a
one-line intent. Without MCP, use the CLI (it saves the id and token in \`settings.json\`):

${commands([`koor-cli register ${CONTROLLER} --workspace ${project} --stack generic`])}

## 2. Publish the plan
Agents read \`plan/overview.md\` as the spec \`overview\`:

${commands([`koor-cli specs set ${project} overview --file plan/overview.md --content-type text/markdown`])}

## 3. Assign tasks
A task is a JSON value at \`${project}/AGENT-task\`. Writing it again replaces it; earlier
versions stay in its history (\`koor-cli state history KEY\`). Write the real task in place of
these examples:

${commands(assign)}

## 4. Follow progress and answer requests

${commands([
  `koor-cli events history --topic ${sq(`${project}.*.done`)} --last 20`,
  `koor-cli events history --topic ${sq(`${project}.*.blocked`)} --last 20`,
  'koor-cli events history --topic rule.proposed --last 20',
  'koor-cli instances list',
])}

- **done**: review the work, update \`status/AGENT.md\`, then assign the next task.
- **blocked**: decide, write the decision to \`plan/decisions/\`, and answer by updating that
  agent's task with \`koor-cli state set\` (the agent reads it again after reporting).
- **rule proposed**: accept it if it should hold for every agent, otherwise reject it
  (RULE_ID as named in the \`rule.proposed\` event):

${plainBlock([`koor-cli rules accept ${project} RULE_ID`, `koor-cli rules reject ${project} RULE_ID`])}

## At a glance
| what | value |
|---|---|
| project | \`${project}\` |
| tasks | \`koor-cli state set ${project}/AGENT-task --data JSON\` |
| reports | \`koor-cli events history --topic '${project}.*.done'\` (and \`.blocked\`) |
| MCP endpoint | ${mcpUrl(server)} |
| koor-cli settings | \`settings.json\` in this folder |
`;
}

export function planOverview(team: TeamSpec): string {
  const rows = team.agents.map((a) => `| ${a.name} | ${a.stack} | (what ${a.name} owns) |`).join('\n');
  return `# ${team.project}: overview

Agents read this file as the spec \`overview\`; publish it again after each change:
\`koor-cli specs set ${team.project} overview --file plan/overview.md --content-type text/markdown\`.

## Goal
(What the project delivers, and for whom, in a paragraph.)

## Scope
- In: (…)
- Out: (…)

## Split of the work
| agent | stack | owns |
|---|---|---|
${rows}

## Interfaces between agents
(APIs, contracts and shared files the agents depend on. Store contracts as specs:
\`koor-cli specs set ${team.project} NAME --file PATH\`.)

## Milestones
1. (…)
`;
}

export function decisionsReadme(project: string): string {
  return `# Decisions of ${project}

One file per decision, numbered in order: \`NNNN-short-title.md\`. Never rewrite an old
record; when a decision changes, add a new one that supersedes it.

Each record says:
- **Context**: what forced a choice.
- **Decision**: what was chosen.
- **Consequences**: what follows, and which agents' tasks change.
`;
}

export function firstDecision(team: TeamSpec): string {
  return `# 0001: Coordinate the agents through Koor

- **Context**: ${team.agents.length} agent(s) (${team.agents.map((a) => a.name).join(', ')}) work in separate
  folders and tools and need one place for tasks, shared facts and reports.
- **Decision**: the controller assigns work as state keys \`${team.project}/AGENT-task\`; agents
  report with the events \`${team.project}.AGENT.done\` and \`${team.project}.AGENT.blocked\`;
  shared documents are specs of project \`${team.project}\`; rules are proposed by agents and
  accepted by the controller. MCP is used for identity only, koor-cli for all data.
- **Consequences**: no agent edits another's folder; every hand-over is visible in Koor's
  event history and state versions.
`;
}

export function statusFile(project: string, agent: AgentSpec): string {
  return `# ${agent.name}: status

- stack: ${agent.stack}
- task: \`${taskKey(project, agent.name)}\`
- state: not assigned yet
- last report: none

## Log
(One line per report: date, \`done\` or \`blocked\`, and what was decided.)
`;
}

import { CONTROLLER } from './names.js';
import { presetFor, type StackPreset } from './presets.js';

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

/** What every workspace's instructions say about Koor itself: the cheap habits. */
function talkingToKoor(): string {
  return `## Talking to Koor
- Run \`./koor-cli\` from this folder: it acts as you (your identity is in
  \`.koor/token.env\`; never print or commit it). What it fetches reaches your context only if
  you print it.
- Hooks add what changed for you (new tasks, other agents' reports) at the start of each turn,
  and refuse edits to files another agent has leased: do not poll.
- \`get --if-changed\` prints just \`unchanged (vN)\` when you have seen that version: re-read
  freely. Exit code 3 means "not found".
- Before changing files others might touch, claim them:
  \`./koor-cli lease acquire 'src/api/**' --reason '…'\` (released when your session ends, or
  \`./koor-cli lease release --all\`). Waiting for an answer: \`./koor-cli inbox --wait 30s\`,
  then \`./koor-cli ack ID\`. Following events in a script:
  \`./koor-cli events subscribe 'PATTERN' --durable NAME\` resumes where it stopped.
- The \`koor\` MCP server is for identity only: \`set_intent\` when you start something new,
  \`discover_instances\` to see who works on what.`;
}

/** AGENTS.md of one agent workspace (CLAUDE.md imports it; Cursor, Codex and Gemini CLI read it). */
export function agentInstructions(team: TeamSpec, agent: AgentSpec): string {
  const { project, server } = team;
  const { preset, fallback } = presetFor(agent.stack, agent.database);
  const key = taskKey(project, agent.name);
  const rule = preset.exampleRule;
  const stackNote =
    fallback || preset.id === 'generic'
      ? `There is no preset for the stack \`${agent.stack}\`: these commands are placeholders, replace them with this project's own.`
      : `Commands for ${preset.label}; adjust them if this project does it differently.`;

  return `# ${agent.name}: the ${agent.stack} agent of project ${project}

You are **${agent.name}**, one agent of the Koor project **${project}** (server ${server}). The
controller (\`../${CONTROLLER}\`) plans and hands out tasks; you do yours here and report
through Koor. Stay in this folder: never edit \`../${CONTROLLER}\` or another agent's folder;
when you need a change there, report that you are blocked.

${talkingToKoor()}

## Your task
Read it (and the plan, the spec \`overview\`) before you start:

${commands([`./koor-cli state get ${key} --if-changed`, `./koor-cli specs get ${project} overview --if-changed`])}

## Build and test
${stackNote}

${plainBlock(stackCommands(preset))}

## Report
Check the files you changed against the project's rules, then publish \`done\`, or
\`blocked\` saying what you need and from whom (the controller answers by updating your task):

${commands([
  `./koor-cli validate ${project} --file ${preset.sampleFile}`,
  `./koor-cli events publish ${project}.${agent.name}.done --data ${sq(JSON.stringify({ task: key, summary: 'What is finished and how it was tested' }))}`,
  `./koor-cli events publish ${project}.${agent.name}.blocked --data ${sq(JSON.stringify({ task: key, need: 'What you need, and from whom' }))}`,
])}

## Rules
When you notice a mistake a pattern could catch, propose a rule (RE2); the controller accepts
or rejects it:

${commands([`./koor-cli rules propose ${project} ${rule.id} --pattern ${sq(rule.pattern)} --message ${sq(rule.message)}`])}
`;
}

/** AGENTS.md of the controller workspace. */
export function controllerInstructions(team: TeamSpec): string {
  const { project, server, agents } = team;
  const rows = agents
    .map((a) => `| ${a.name} | ${a.stack} | \`../${a.name}\` | \`${taskKey(project, a.name)}\` |`)
    .join('\n');
  const assign = agents.map(
    (a) =>
      `./koor-cli state set ${taskKey(project, a.name)} --data ${sq(JSON.stringify({ title: `First task for ${a.name}`, details: 'What to build, which spec to follow, how it will be checked' }))}`,
  );

  return `# controller of project ${project}

You are the controller of the Koor project **${project}** (server ${server}): you plan,
assign, review and decide; the agents build. Never edit their folders: change their tasks.
Each agent reads its task at \`${project}/AGENT-task\` and publishes \`${project}.AGENT.done\` or
\`${project}.AGENT.blocked\`. \`koor-project.json\` lists the whole team.

| agent | stack | folder | task |
|---|---|---|---|
${rows}

${talkingToKoor()}

## Plan and assign
Keep \`plan/overview.md\` current and publish it (agents read it as the spec \`overview\`);
write each agent's task in place of these examples (a new version replaces the old one; the
history stays):

${commands([`./koor-cli specs set ${project} overview --file plan/overview.md --content-type text/markdown`, ...assign])}

## Follow up
Hooks bring you the agents' reports and proposed rules at the start of each turn. To look back:

${commands([`./koor-cli events history --topic ${sq(`${project}.*.blocked`)} --last 5`, './koor-cli instances list'])}

- **done**: review it, update \`status/AGENT.md\`, assign the next task.
- **blocked**: decide, record it in \`plan/decisions/\`, answer by updating the task.
- **rule proposed**: accept it if it should hold for every agent, else reject it (RULE_ID as
  the \`rule.proposed\` event names it; a server with a token wants the server token here,
  \`KOOR_TOKEN=<server token> ./koor-cli …\`):

${plainBlock([`./koor-cli rules accept ${project} RULE_ID`, `./koor-cli rules reject ${project} RULE_ID`])}
`;
}

/** CLAUDE.md: Claude Code reads CLAUDE.md, which imports AGENTS.md, so there is one text to keep. */
export const CLAUDE_IMPORT = '@AGENTS.md\n';

export function planOverview(team: TeamSpec): string {
  const rows = team.agents.map((a) => `| ${a.name} | ${a.stack} | (what ${a.name} owns) |`).join('\n');
  return `# ${team.project}: overview

Agents read this file as the spec \`overview\`; publish it again after each change:
\`./koor-cli specs set ${team.project} overview --file plan/overview.md --content-type text/markdown\`.

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
\`./koor-cli specs set ${team.project} NAME --file PATH\`.)

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

import { IDENTITY_FILE } from '../cli/identity-file.js';
import { claudeHookSettings, cursorHooksFile, geminiHooks } from './hook-configs.js';

/**
 * The MCP client configs written into every workspace, each in the shape its tool documents
 * for a remote Streamable HTTP server. All point at `{server}/mcp` and send the agent's own
 * token as a bearer header, always by reference (an environment variable, or a VS Code input)
 * and never inline: the token itself lives only in the workspace's git-ignored identity file.
 * Sources: docs/hooks.md.
 */
export interface Connection {
  /** Server base URL without a trailing slash, e.g. `http://localhost:9800`. */
  server: string;
}

/** What koor-cli's settings.json says about the workspace (no secrets). */
export interface WorkspaceSettings {
  project: string;
  agent: string;
  stack: string;
  /** Event topics, state keys and spec projects the workspace's digest follows. */
  follow: string[];
  followState: string[];
  followSpecs: string[];
}

export const MCP_SERVER_NAME = 'koor';
/** The environment variable every config names; `.koor/token.env` defines it. */
export const TOKEN_VARIABLE = 'KOOR_TOKEN';
const VSCODE_INPUT = 'koor-token';

export function mcpUrl(server: string): string {
  return `${server}/mcp`;
}

function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** Claude Code, project scope: `.mcp.json`; `${VAR}` is expanded from the environment. */
export function claudeCodeConfig(c: Connection): string {
  return json({ mcpServers: { [MCP_SERVER_NAME]: { type: 'http', url: mcpUrl(c.server), headers: { Authorization: `Bearer \${${TOKEN_VARIABLE}}` } } } });
}

/** Cursor, project scope: `.cursor/mcp.json`; a `url` entry is a remote server, `${env:VAR}` reads the environment. */
export function cursorConfig(c: Connection): string {
  return json({ mcpServers: { [MCP_SERVER_NAME]: { url: mcpUrl(c.server), headers: { Authorization: `Bearer \${env:${TOKEN_VARIABLE}}` } } } });
}

/** VS Code, workspace scope: `.vscode/mcp.json`; the token is a password input VS Code asks for once and keeps. */
export function vscodeConfig(c: Connection): string {
  return json({
    inputs: [{ type: 'promptString', id: VSCODE_INPUT, description: `Koor token of this agent (${TOKEN_VARIABLE} in ${IDENTITY_FILE})`, password: true }],
    servers: { [MCP_SERVER_NAME]: { type: 'http', url: mcpUrl(c.server), headers: { Authorization: `Bearer \${input:${VSCODE_INPUT}}` } } },
  });
}

/**
 * Gemini CLI, project scope: `.gemini/settings.json`. `httpUrl` selects Streamable HTTP (`url`
 * would mean SSE); `$VAR` / `${VAR}` in string values come from the environment;
 * `context.fileName` makes it read AGENTS.md instead of GEMINI.md; the hooks are Koor's.
 */
export function geminiConfig(c: Connection): string {
  return json({
    mcpServers: { [MCP_SERVER_NAME]: { httpUrl: mcpUrl(c.server), headers: { Authorization: `Bearer \${${TOKEN_VARIABLE}}` } } },
    context: { fileName: 'AGENTS.md' },
    hooks: geminiHooks(),
  });
}

/** A TOML basic string. JSON's escapes are all valid TOML escapes; DEL must be escaped too. */
function tomlString(value: string): string {
  return JSON.stringify(value).replace(/\u007f/g, '\\u007F');
}

/**
 * Codex, project scope: `.codex/config.toml` (read in trusted projects only). A remote server
 * is a `url`; `bearer_token_env_var` names the variable holding the bearer token.
 */
export function codexConfig(c: Connection): string {
  return [
    '# Koor MCP server for Codex. Codex reads a project .codex/config.toml only when the',
    '# project is trusted; otherwise copy this table into ~/.codex/config.toml.',
    `[mcp_servers.${MCP_SERVER_NAME}]`,
    `url = ${tomlString(mcpUrl(c.server))}`,
    `bearer_token_env_var = ${tomlString(TOKEN_VARIABLE)}`,
    '',
  ].join('\n');
}

/** koor-cli reads `settings.json`: the server, and what its hooks' digest follows. No token. */
export function cliSettings(c: Connection, w: WorkspaceSettings): string {
  return json({
    server: c.server,
    project: w.project,
    agent: w.agent,
    stack: w.stack,
    follow: w.follow,
    follow_state: w.followState,
    follow_specs: w.followSpecs,
  });
}

/** Every config file of one workspace, by path relative to the workspace. */
export function connectionFiles(c: Connection, w: WorkspaceSettings): Array<{ path: string; content: string }> {
  return [
    { path: '.mcp.json', content: claudeCodeConfig(c) },
    { path: '.claude/settings.json', content: json(claudeHookSettings()) },
    { path: '.cursor/mcp.json', content: cursorConfig(c) },
    { path: '.cursor/hooks.json', content: json(cursorHooksFile()) },
    { path: '.vscode/mcp.json', content: vscodeConfig(c) },
    { path: '.gemini/settings.json', content: geminiConfig(c) },
    { path: '.codex/config.toml', content: codexConfig(c) },
    { path: 'settings.json', content: cliSettings(c, w) },
  ];
}

/**
 * The MCP client configs written into every workspace, each in the shape its tool documents
 * for a remote Streamable HTTP server. All point at `{server}/mcp` and carry the bearer header
 * only when a token was given.
 */
export interface Connection {
  /** Server base URL without a trailing slash, e.g. `http://localhost:9800`. */
  server: string;
  token?: string;
}

export const MCP_SERVER_NAME = 'koor';

export function mcpUrl(server: string): string {
  return `${server}/mcp`;
}

function authHeaders(token?: string): { headers?: Record<string, string> } {
  return token ? { headers: { Authorization: `Bearer ${token}` } } : {};
}

function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** Claude Code, project scope: `.mcp.json` with `type: "http"`. */
export function claudeCodeConfig(c: Connection): string {
  return json({ mcpServers: { [MCP_SERVER_NAME]: { type: 'http', url: mcpUrl(c.server), ...authHeaders(c.token) } } });
}

/** Cursor, project scope: `.cursor/mcp.json`; a `url` entry is a remote server. */
export function cursorConfig(c: Connection): string {
  return json({ mcpServers: { [MCP_SERVER_NAME]: { url: mcpUrl(c.server), ...authHeaders(c.token) } } });
}

/** VS Code, workspace scope: `.vscode/mcp.json` uses a top-level `servers` object. */
export function vscodeConfig(c: Connection): string {
  return json({ servers: { [MCP_SERVER_NAME]: { type: 'http', url: mcpUrl(c.server), ...authHeaders(c.token) } } });
}

/** Gemini CLI, project scope: `.gemini/settings.json`; `httpUrl` selects Streamable HTTP (`url` would mean SSE). */
export function geminiConfig(c: Connection): string {
  return json({ mcpServers: { [MCP_SERVER_NAME]: { httpUrl: mcpUrl(c.server), ...authHeaders(c.token) } } });
}

/** A TOML basic string. JSON's escapes are all valid TOML escapes; DEL must be escaped too. */
function tomlString(value: string): string {
  return JSON.stringify(value).replace(/\u007f/g, '\\u007F');
}

/**
 * Codex, project scope: `.codex/config.toml` (read in trusted projects only). A remote server
 * is a `url`; literal headers go in `http_headers` (Codex ignores a `headers` key).
 */
export function codexConfig(c: Connection): string {
  const lines = [
    '# Koor MCP server for Codex. Codex reads a project .codex/config.toml only when the',
    '# project is trusted; otherwise copy this table into ~/.codex/config.toml.',
    `[mcp_servers.${MCP_SERVER_NAME}]`,
    `url = ${tomlString(mcpUrl(c.server))}`,
  ];
  if (c.token) lines.push(`http_headers = { Authorization = ${tomlString(`Bearer ${c.token}`)} }`);
  return `${lines.join('\n')}\n`;
}

/** koor-cli reads `./settings.json` `{server, token}`. */
export function cliSettings(c: Connection): string {
  return json(c.token ? { server: c.server, token: c.token } : { server: c.server });
}

/** Every config file of one workspace, by path relative to the workspace. */
export function connectionFiles(c: Connection): Array<{ path: string; content: string }> {
  return [
    { path: '.mcp.json', content: claudeCodeConfig(c) },
    { path: '.cursor/mcp.json', content: cursorConfig(c) },
    { path: '.vscode/mcp.json', content: vscodeConfig(c) },
    { path: '.gemini/settings.json', content: geminiConfig(c) },
    { path: '.codex/config.toml', content: codexConfig(c) },
    { path: 'settings.json', content: cliSettings(c) },
  ];
}

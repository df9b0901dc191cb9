/**
 * The hook configs of each workspace: every agent tool runs `koor-cli hook TOOL ACTION` from
 * the workspace's own launcher at the points its documentation defines (sources in
 * docs/hooks.md):
 * - digest (what changed for this agent) at session start and on each prompt: Claude Code
 *   SessionStart + UserPromptSubmit, Gemini CLI SessionStart + BeforeAgent, Cursor
 *   sessionStart + postToolUse (Cursor's beforeSubmitPrompt cannot add context);
 * - pre-edit (the lease check) before a file is written: Claude Code PreToolUse on Edit|Write,
 *   Cursor preToolUse on Write, Gemini CLI BeforeTool on write_file|replace;
 * - session-end (release this agent's leases): SessionEnd / sessionEnd.
 */

/** Seconds (Claude Code, Cursor) a hook may take before the tool gives up on it. */
const HOOK_TIMEOUT_S = 10;

// Claude Code passes ${CLAUDE_PROJECT_DIR} to hooks; in a shell command it goes in double quotes.
const claudeCommand = (act: string) => `"\${CLAUDE_PROJECT_DIR}/koor-cli" hook claude ${act}`;
// Gemini CLI sets GEMINI_PROJECT_DIR for hooks.
const geminiCommand = (act: string) => `"$GEMINI_PROJECT_DIR/koor-cli" hook gemini ${act}`;
// Cursor runs project hooks from the project root.
const cursorCommand = (act: string) => `./koor-cli hook cursor ${act}`;

/** `.claude/settings.json`: event → matcher groups → command handlers. */
export function claudeHookSettings() {
  const handler = (act: string, timeout = HOOK_TIMEOUT_S) => ({ type: 'command', command: claudeCommand(act), timeout });
  return {
    hooks: {
      SessionStart: [{ hooks: [handler('digest')] }],
      UserPromptSubmit: [{ hooks: [handler('digest')] }],
      PreToolUse: [{ matcher: 'Edit|Write', hooks: [handler('pre-edit')] }],
      // SessionEnd hooks share a 1.5 s budget unless a hook asks for more.
      SessionEnd: [{ hooks: [handler('session-end', 5)] }],
    },
  };
}

/** `.cursor/hooks.json`: version 1, event → list of commands. */
export function cursorHooksFile() {
  const handler = (act: string) => ({ command: cursorCommand(act), timeout: HOOK_TIMEOUT_S });
  return {
    version: 1,
    hooks: {
      sessionStart: [handler('digest')],
      postToolUse: [handler('digest')],
      preToolUse: [{ ...handler('pre-edit'), matcher: 'Write' }],
      sessionEnd: [handler('session-end')],
    },
  };
}

/** The `hooks` object of `.gemini/settings.json` (timeouts in milliseconds). */
export function geminiHooks() {
  const handler = (name: string, act: string) => ({ name, type: 'command', command: geminiCommand(act), timeout: HOOK_TIMEOUT_S * 1000 });
  return {
    SessionStart: [{ hooks: [handler('koor-digest', 'digest')] }],
    BeforeAgent: [{ hooks: [handler('koor-digest', 'digest')] }],
    BeforeTool: [{ matcher: 'write_file|replace', hooks: [handler('koor-lease-check', 'pre-edit')] }],
    SessionEnd: [{ hooks: [handler('koor-release', 'session-end')] }],
  };
}

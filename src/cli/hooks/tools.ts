import { isAbsolute, resolve } from 'node:path';

/**
 * How each agent tool talks to its hooks: where an edit's file path is in the JSON it sends
 * on stdin, and how it wants to be answered on stdout. Every shape here is the one the tool's
 * own documentation gives (links in docs/hooks.md):
 * - Claude Code: `hookSpecificOutput.additionalContext` for SessionStart / UserPromptSubmit,
 *   `hookSpecificOutput.permissionDecision: "deny"` with a reason for PreToolUse, and
 *   `systemMessage` to warn the user; empty output changes nothing.
 * - Cursor: `additional_context` for sessionStart / postToolUse, `permission` with
 *   `user_message` / `agent_message` for preToolUse, JSON on stdout always.
 * - Gemini CLI: `hookSpecificOutput.additionalContext` for SessionStart / BeforeAgent,
 *   `decision: "deny"` with a `reason` for BeforeTool, `systemMessage` to warn; stdout must
 *   hold JSON and nothing else.
 */
export type HookInput = Record<string, unknown>;

export interface ToolFormat {
  /** The absolute path of the file an edit tool call is about, or null. */
  editedFile(input: HookInput): string | null;
  /** Adds `text` to the agent's context. */
  context(input: HookInput, text: string): string;
  /** Says nothing (and, before an edit, allows it). */
  nothing(input: HookInput, beforeEdit: boolean): string;
  /** Shows the user a warning without stopping anything; '' when the tool has no way to. */
  warn(input: HookInput, message: string): string;
  /** Refuses an edit, telling the agent why. */
  deny(input: HookInput, reason: string): string;
}

const json = (value: unknown) => `${JSON.stringify(value)}\n`;
const str = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);
const toolInput = (input: HookInput) => (input.tool_input && typeof input.tool_input === 'object' ? (input.tool_input as HookInput) : {});

function absolute(path: string | undefined, base: string | undefined): string | null {
  if (!path) return null;
  return isAbsolute(path) ? path : resolve(base ?? '.', path);
}

const claude: ToolFormat = {
  editedFile: (input) => absolute(str(toolInput(input).file_path), str(input.cwd)),
  context: (input, text) => json({ hookSpecificOutput: { hookEventName: str(input.hook_event_name) ?? 'UserPromptSubmit', additionalContext: text } }),
  nothing: () => '',
  warn: (_input, message) => json({ systemMessage: message }),
  deny: (_input, reason) => json({ hookSpecificOutput: { hookEventName: 'PreToolUse', permissionDecision: 'deny', permissionDecisionReason: reason } }),
};

const cursor: ToolFormat = {
  // Cursor's docs show preToolUse's tool_input only for Shell; its file hooks name the path
  // `file_path`, so that is looked for first.
  editedFile: (input) => {
    const args = toolInput(input);
    const roots = Array.isArray(input.workspace_roots) ? input.workspace_roots : [];
    return absolute(str(args.file_path) ?? str(args.path) ?? str(args.target_file), str(input.cwd) ?? str(roots[0]));
  },
  context: (_input, text) => json({ additional_context: text }),
  nothing: (_input, beforeEdit) => json(beforeEdit ? { permission: 'allow' } : {}),
  warn: () => '',
  deny: (_input, reason) => json({ permission: 'deny', user_message: reason, agent_message: reason }),
};

const gemini: ToolFormat = {
  editedFile: (input) => absolute(str(toolInput(input).file_path), str(input.cwd)),
  context: (input, text) => json({ hookSpecificOutput: { hookEventName: str(input.hook_event_name) ?? 'BeforeAgent', additionalContext: text } }),
  nothing: () => json({}),
  warn: (_input, message) => json({ systemMessage: message }),
  deny: (_input, reason) => json({ decision: 'deny', reason }),
};

export const TOOL_FORMATS = { claude, cursor, gemini } as const;
export type ToolName = keyof typeof TOOL_FORMATS;
export const TOOL_NAMES = Object.keys(TOOL_FORMATS) as ToolName[];

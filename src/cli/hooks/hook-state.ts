import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * What the hooks of one workspace remember between runs, in `.koor/hook-state.json` (beside
 * the identity file, git-ignored with it): how far the digest has read the event history, and
 * when the agent's user was last warned that the server is down (so a dead server costs one
 * warning every few minutes, not one per tool call).
 */
export interface HookState {
  /** The digest has shown everything up to this event id. */
  events_after?: number;
  /** The newest inbox message the digest has shown. */
  messages_after?: number;
  /** Own leases whose coming expiry was told (`id@expires_at`), so each is told once. */
  leases_told?: string[];
  /** When (ms since the epoch) the user was last told the server cannot be reached. */
  warned_at?: number;
}

const stateFile = (workspace: string) => join(workspace, '.koor', 'hook-state.json');

export function readHookState(workspace: string): HookState {
  try {
    const parsed = JSON.parse(readFileSync(stateFile(workspace), 'utf8'));
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as HookState) : {};
  } catch {
    return {};
  }
}

export function writeHookState(workspace: string, state: HookState): void {
  const file = stateFile(workspace);
  try {
    mkdirSync(join(workspace, '.koor'), { recursive: true });
    const temp = `${file}.${process.pid}.tmp`;
    writeFileSync(temp, JSON.stringify(state));
    renameSync(temp, file);
  } catch {
    // A state that cannot be kept only means the next digest may repeat itself.
  }
}

export const WARN_EVERY_MS = 5 * 60_000;

/** Whether to warn about an unreachable server now; records the warning when it says yes. */
export function shouldWarn(workspace: string, now = Date.now()): boolean {
  const state = readHookState(workspace);
  if (state.warned_at !== undefined && now - state.warned_at < WARN_EVERY_MS) return false;
  writeHookState(workspace, { ...state, warned_at: now });
  return true;
}

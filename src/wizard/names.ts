/** Names the wizard accepts, and the one reserved for the controller's workspace. */

/** Project names become folder names, state-key prefixes and event-topic segments. */
export const PROJECT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/**
 * Agent names become folder names and exactly one event-topic segment
 * (`{project}.{agent}.done`), so they may not contain a dot: `{project}.*.done` must match
 * every agent.
 */
export const AGENT_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/** The controller's workspace folder; no agent may take this name. */
export const CONTROLLER = 'controller';

export function projectNameProblem(name: string): string | undefined {
  if (!name) return 'project name is empty';
  if (!PROJECT_NAME.test(name)) {
    return `project name "${name}" is not valid: use 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit`;
  }
  return undefined;
}

export function agentNameProblem(name: string): string | undefined {
  if (!name) return 'agent name is empty';
  if (!AGENT_NAME.test(name)) {
    return `agent name "${name}" is not valid: use 1-64 letters, digits, "_" or "-", starting with a letter or digit`;
  }
  if (name.toLowerCase() === CONTROLLER) return `agent name "${name}" is reserved for the controller workspace`;
  return undefined;
}

/** Stacks appear in shell commands the instructions print, so they stay shell-safe. */
export const STACK_NAME = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$/;

export function stackNameProblem(stack: string): string | undefined {
  if (!STACK_NAME.test(stack)) {
    return `stack "${stack}" is not valid: use 1-64 letters, digits, ".", "_", "+" or "-"`;
  }
  return undefined;
}

import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readIdentity } from './identity-file.js';

/** `./settings.json` as the CLI reads it. The wizard and the server share the file, so unknown keys are kept. */
export interface CliSettings {
  server?: string;
  token?: string;
  instance_id?: string;
  instance_token?: string;
  /** Written by the wizard: the project and agent of this workspace, and the event topics its hooks follow. */
  project?: string;
  agent?: string;
  follow?: string[];
  [other: string]: unknown;
}

/** What a command needs to talk to the server, after env overrides and defaults. */
export interface Connection {
  server: string;
  token?: string;
  instanceId?: string;
  instanceToken?: string;
}

export const SETTINGS_FILE = 'settings.json';
export const DEFAULT_SERVER = 'http://localhost:9800';

/**
 * The workspace whose settings, identity and caches the CLI uses: `$KOOR_WORKSPACE` (set by
 * the launcher the wizard writes into each workspace, so hooks and commands run from any
 * folder act as that workspace's agent), else the current folder.
 */
export function workspaceDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.KOOR_WORKSPACE || '.';
}

export function settingsPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(workspaceDir(env), SETTINGS_FILE);
}

export function readSettings(path = settingsPath()): CliSettings {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return {};
  }
  try {
    const parsed = JSON.parse(text);
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as CliSettings) : {};
  } catch {
    // A broken file must not stop read-only commands; `config set` reports it instead.
    return {};
  }
}

/** Merges `changes` into the settings file, keeping every other key (server config, wizard keys). */
export function updateSettings(changes: Partial<CliSettings>, path = settingsPath()): CliSettings {
  const settings = { ...readSettings(path), ...changes };
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, JSON.stringify(settings, null, 2) + '\n', { mode: 0o600 });
  renameSync(temp, path);
  return settings;
}

const nonEmpty = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);

/**
 * Who the CLI is and where it talks to, highest first: `KOOR_SERVER` / `KOOR_TOKEN` /
 * `KOOR_INSTANCE_ID`, then the workspace's identity file (`.koor/token.env`), then
 * `settings.json`, then the default server.
 */
export function resolveConnection(env: NodeJS.ProcessEnv = process.env, { asAdmin = false } = {}): Connection {
  const settings = readSettings(settingsPath(env));
  // --as-admin: the person at the keyboard, not the workspace's agent. In local mode a caller
  // without an instance token is the admin; with auth on, KOOR_TOKEN or settings.json must hold
  // the server token.
  const identity: ReturnType<typeof readIdentity> = asAdmin ? {} : readIdentity(workspaceDir(env));
  const server = (nonEmpty(env.KOOR_SERVER) ?? nonEmpty(settings.server) ?? DEFAULT_SERVER).replace(/\/+$/, '');
  return {
    server,
    token: nonEmpty(env.KOOR_TOKEN) ?? identity.token ?? nonEmpty(settings.token),
    instanceId: nonEmpty(env.KOOR_INSTANCE_ID) ?? identity.instanceId ?? nonEmpty(settings.instance_id),
    instanceToken: asAdmin ? undefined : nonEmpty(settings.instance_token),
  };
}

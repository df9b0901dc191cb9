import { readFileSync, renameSync, writeFileSync } from 'node:fs';

/** `./settings.json` as the CLI reads it. The wizard and the server share the file, so unknown keys are kept. */
export interface CliSettings {
  server?: string;
  token?: string;
  instance_id?: string;
  instance_token?: string;
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

export function readSettings(path = SETTINGS_FILE): CliSettings {
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
export function updateSettings(changes: Partial<CliSettings>, path = SETTINGS_FILE): CliSettings {
  const settings = { ...readSettings(path), ...changes };
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, JSON.stringify(settings, null, 2) + '\n', { mode: 0o600 });
  renameSync(temp, path);
  return settings;
}

const nonEmpty = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);

/** Settings file, then `KOOR_SERVER` / `KOOR_TOKEN` on top, then the default server. */
export function resolveConnection(env: NodeJS.ProcessEnv = process.env): Connection {
  const settings = readSettings();
  const server = (nonEmpty(env.KOOR_SERVER) ?? nonEmpty(settings.server) ?? DEFAULT_SERVER).replace(/\/+$/, '');
  return {
    server,
    token: nonEmpty(env.KOOR_TOKEN) ?? nonEmpty(settings.token),
    instanceId: nonEmpty(settings.instance_id),
    instanceToken: nonEmpty(settings.instance_token),
  };
}

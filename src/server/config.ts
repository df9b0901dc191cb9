import { readFileSync, existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parseDuration } from '../kernel/duration.js';
import { inWholeUnits, parseByteSize } from '../kernel/byte-size.js';
import { parseOutboundEntry, type OutboundAction } from '../outbound/policy.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
export type LogFormat = 'text' | 'json';

/**
 * SQLite's `synchronous` setting. `full` (the default) syncs the write-ahead log at every
 * commit, so an acknowledged write survives a power loss; `normal` syncs only at checkpoints:
 * faster, still safe against a killed process, but a power loss can undo the last commits.
 */
export type SqliteSynchronous = 'full' | 'normal';

export interface Config {
  bind: string;
  dashboardBind: string;
  dataDir: string;
  /** `postgres://…` to run on PostgreSQL; empty = embedded SQLite at {dataDir}/data.db. */
  database: string;
  authToken: string;
  /** Read-only tokens (SPEC §15's reader role), for dashboards and observers. */
  readTokens: string[];
  logLevel: LogLevel;
  /** `text`: readable lines for a person; `json`: one JSON object per line (pino's own), for log collectors. */
  logFormat: LogFormat;
  livenessIntervalMs: number;
  staleAfterMs: number;
  pruneIntervalMs: number;
  eventHistory: number;
  complianceIntervalMs: number;
  metricsFlushIntervalMs: number;
  webhookTimeoutMs: number;
  /**
   * PostgreSQL replicas: how often one that does not run the background jobs checks whether
   * the one that does is gone, and how soon a lost replica connection is made again.
   */
  leaderRetryMs: number;
  /**
   * How long a client may take to send one whole request (headers and body). fastify's default
   * is no limit, so a client trickling a body held its connection forever.
   */
  requestTimeoutMs: number;
  sqliteSynchronous: SqliteSynchronous;
  /** Most webhooks the server keeps; each matching event is one delivery per webhook. */
  maxWebhooks: number;
  /** How long direct messages are kept (SPEC §17). */
  messageRetentionMs: number;
  /** How long audit entries are kept (SPEC §15); 0 keeps them forever. */
  auditRetentionMs: number;
  /** Most open client connections (the ones past it are closed as they arrive). */
  maxConnections: number;
  /** How long a request body may stop arriving before the request is answered 408. */
  bodyIdleTimeoutMs: number;
  /** Outbound policy (SPEC §15): CIDRs, addresses or host names calls may reach beyond the defaults. */
  outboundAllow: string[];
  /** Outbound policy: CIDRs, addresses or host names calls may not reach. */
  outboundDeny: string[];
  /**
   * More names the Host header may give (README "Browser safety"); setting any turns the Host
   * check on with an auth token too. Lower case, IPv6 addresses in brackets.
   */
  allowedHosts: string[];
  /** Web origins (`scheme://host[:port]`) whose pages may write and open streams, besides the server's own. */
  allowedOrigins: string[];
  /**
   * The longest one request's CPU-heavy work (a rule scan, a JSON Schema check, a contract
   * check of a live answer, the checks of a big template or contract) may run in the worker
   * pool before it is ended and the request answered 422.
   */
  workBudgetMs: number;
  /** Largest import (`POST /api/import`, `koor-cli restore`) in bytes; the JSON body limit is 10 MB. */
  importLimitBytes: number;
}

export const DEFAULT_CONFIG: Config = {
  bind: 'localhost:9800',
  dashboardBind: 'localhost:9847',
  dataDir: '.',
  database: '',
  authToken: '',
  readTokens: [],
  logLevel: 'info',
  logFormat: 'text',
  livenessIntervalMs: 60_000,
  staleAfterMs: 5 * 60_000,
  pruneIntervalMs: 60_000,
  eventHistory: 1000,
  complianceIntervalMs: 5 * 60_000,
  metricsFlushIntervalMs: 5_000,
  webhookTimeoutMs: 10_000,
  leaderRetryMs: 5_000,
  requestTimeoutMs: 5 * 60_000,
  sqliteSynchronous: 'full',
  maxWebhooks: 100,
  messageRetentionMs: 30 * 24 * 60 * 60_000,
  auditRetentionMs: 90 * 24 * 60 * 60_000,
  maxConnections: 4096,
  bodyIdleTimeoutMs: 10_000,
  outboundAllow: [],
  outboundDeny: [],
  allowedHosts: [],
  allowedOrigins: [],
  workBudgetMs: 5_000,
  importLimitBytes: 256 * 1024 * 1024,
};

/** A setting that cannot be used. The message names the setting and the bad value. */
export class ConfigError extends Error {}

/**
 * `tokens`: one or more secrets (a repeated flag, a comma-separated variable, a list or
 * comma-separated string in the file). `retention`: a duration, or `0`/`off` for "keep forever".
 */
type Kind = 'string' | 'bind' | 'optionalBind' | 'choice' | 'duration' | 'retention' | 'count' | 'tokens' | 'outboundList' | 'hosts' | 'origins' | 'bytes';

interface SettingSpec {
  key: keyof Config;
  flag: string;
  env?: string;
  file: string;
  kind: Kind;
  /** The values a `choice` accepts. */
  choices?: readonly string[];
}

const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'silent'];
const LOG_FORMATS: readonly LogFormat[] = ['text', 'json'];
const SQLITE_SYNCHRONOUS: readonly SqliteSynchronous[] = ['full', 'normal'];

// One row per setting: where it can come from and how it is checked.
const SETTINGS: SettingSpec[] = [
  { key: 'bind', flag: 'bind', env: 'KOOR_BIND', file: 'bind', kind: 'bind' },
  { key: 'dashboardBind', flag: 'dashboard-bind', env: 'KOOR_DASHBOARD_BIND', file: 'dashboard_bind', kind: 'optionalBind' },
  { key: 'dataDir', flag: 'data-dir', env: 'KOOR_DATA_DIR', file: 'data_dir', kind: 'string' },
  { key: 'database', flag: 'database', env: 'KOOR_DATABASE', file: 'database', kind: 'string' },
  { key: 'authToken', flag: 'auth-token', env: 'KOOR_AUTH_TOKEN', file: 'auth_token', kind: 'string' },
  { key: 'readTokens', flag: 'read-token', env: 'KOOR_READ_TOKEN', file: 'read_token', kind: 'tokens' },
  { key: 'logLevel', flag: 'log-level', env: 'KOOR_LOG_LEVEL', file: 'log_level', kind: 'choice', choices: LOG_LEVELS },
  { key: 'logFormat', flag: 'log-format', env: 'KOOR_LOG_FORMAT', file: 'log_format', kind: 'choice', choices: LOG_FORMATS },
  { key: 'livenessIntervalMs', flag: 'liveness-interval', env: 'KOOR_LIVENESS_INTERVAL', file: 'liveness_interval', kind: 'duration' },
  { key: 'staleAfterMs', flag: 'stale-after', env: 'KOOR_STALE_AFTER', file: 'stale_after', kind: 'duration' },
  { key: 'pruneIntervalMs', flag: 'prune-interval', env: 'KOOR_PRUNE_INTERVAL', file: 'prune_interval', kind: 'duration' },
  { key: 'eventHistory', flag: 'event-history', env: 'KOOR_EVENT_HISTORY', file: 'event_history', kind: 'count' },
  { key: 'complianceIntervalMs', flag: 'compliance-interval', env: 'KOOR_COMPLIANCE_INTERVAL', file: 'compliance_interval', kind: 'duration' },
  { key: 'leaderRetryMs', flag: 'leader-retry', env: 'KOOR_LEADER_RETRY', file: 'leader_retry', kind: 'duration' },
  { key: 'metricsFlushIntervalMs', flag: 'metrics-flush-interval', env: 'KOOR_METRICS_FLUSH_INTERVAL', file: 'metrics_flush_interval', kind: 'duration' },
  { key: 'requestTimeoutMs', flag: 'request-timeout', env: 'KOOR_REQUEST_TIMEOUT', file: 'request_timeout', kind: 'duration' },
  { key: 'maxConnections', flag: 'max-connections', env: 'KOOR_MAX_CONNECTIONS', file: 'max_connections', kind: 'count' },
  { key: 'bodyIdleTimeoutMs', flag: 'body-idle-timeout', env: 'KOOR_BODY_IDLE_TIMEOUT', file: 'body_idle_timeout', kind: 'duration' },
  { key: 'workBudgetMs', flag: 'work-budget', env: 'KOOR_WORK_BUDGET', file: 'work_budget', kind: 'duration' },
  { key: 'importLimitBytes', flag: 'import-limit', env: 'KOOR_IMPORT_LIMIT', file: 'import_limit', kind: 'bytes' },
  { key: 'maxWebhooks', flag: 'max-webhooks', env: 'KOOR_MAX_WEBHOOKS', file: 'max_webhooks', kind: 'count' },
  { key: 'sqliteSynchronous', flag: 'sqlite-synchronous', env: 'KOOR_SQLITE_SYNCHRONOUS', file: 'sqlite_synchronous', kind: 'choice', choices: SQLITE_SYNCHRONOUS },
  { key: 'messageRetentionMs', flag: 'message-retention', env: 'KOOR_MESSAGE_RETENTION', file: 'message_retention', kind: 'duration' },
  { key: 'outboundAllow', flag: 'outbound-allow', env: 'KOOR_OUTBOUND_ALLOW', file: 'outbound_allow', kind: 'outboundList' },
  { key: 'outboundDeny', flag: 'outbound-deny', env: 'KOOR_OUTBOUND_DENY', file: 'outbound_deny', kind: 'outboundList' },
  { key: 'allowedHosts', flag: 'allowed-hosts', env: 'KOOR_ALLOWED_HOSTS', file: 'allowed_hosts', kind: 'hosts' },
  { key: 'allowedOrigins', flag: 'allowed-origins', env: 'KOOR_ALLOWED_ORIGINS', file: 'allowed_origins', kind: 'origins' },
  { key: 'auditRetentionMs', flag: 'audit-retention', env: 'KOOR_AUDIT_RETENTION', file: 'audit_retention', kind: 'retention' },
];

/**
 * An outbound allow or deny list: comma-separated (a flag may also be repeated, a config file
 * may give an array). Each entry must be a CIDR, an address or a host name.
 */
function outboundList(raw: unknown, name: string, action: OutboundAction): string[] {
  const parts = Array.isArray(raw) ? raw : [raw];
  if (!parts.every((p) => typeof p === 'string')) throw new ConfigError(`invalid ${name}: expected a list of CIDRs or host names`);
  const entries = (parts as string[]).flatMap((p) => p.split(',')).map((e) => e.trim()).filter((e) => e !== '');
  for (const entry of entries) {
    try {
      parseOutboundEntry(entry, action);
    } catch (err) {
      throw new ConfigError(`invalid ${name}: ${(err as Error).message}`);
    }
  }
  return entries;
}

export function parseBind(value: string, name: string): { host: string; port: number } {
  const match = value.match(/^(.*):(\d+)$/);
  if (!match) throw new ConfigError(`invalid ${name} "${value}": expected host:port`);
  const port = Number(match[2]);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError(`invalid ${name} "${value}": port must be between 0 and 65535`);
  }
  const host = match[1]!.replace(/^\[(.*)\]$/, '$1') || '0.0.0.0';
  return { host, port };
}

/**
 * A host name as the Host header gives it, without the port (any port is accepted): lower
 * case, an IPv6 address in brackets.
 */
function parseHostName(entry: string, name: string): string {
  const host = entry.toLowerCase();
  const ipv6 = host.match(/^\[?([0-9a-f:.]*:[0-9a-f:.]*)\]?$/);
  if (ipv6 && (host.startsWith('[') || host.split(':').length > 2)) return `[${ipv6[1]}]`;
  if (/:\d*$/.test(host)) throw new ConfigError(`invalid ${name} "${entry}": give the host name without a port (any port is accepted)`);
  if (!/^[a-z0-9_]([a-z0-9_.-]*[a-z0-9_.])?$/.test(host)) throw new ConfigError(`invalid ${name} "${entry}": expected a host name or an IP address, such as koor.example.com`);
  return host;
}

/** An origin as a browser sends it: `scheme://host[:port]`, lower case, no default port. */
function parseOrigin(entry: string, name: string): string {
  let url: URL | undefined;
  try {
    url = new URL(entry);
  } catch {
    // refused below
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.username || url.password || url.pathname !== '/' || url.search || url.hash) {
    throw new ConfigError(`invalid ${name} "${entry}": expected an origin such as https://koor.example.com or http://localhost:3000 (scheme, host and port, no path)`);
  }
  return url.origin;
}

/**
 * A list setting: comma-separated text (a flag may also be repeated), or a JSON array of
 * strings in the config file.
 */
function listEntries(raw: unknown, name: string): string[] {
  const items = Array.isArray(raw) ? raw : [raw];
  if (items.some((item) => typeof item !== 'string')) throw new ConfigError(`invalid ${name}: expected a comma-separated list or an array of strings`);
  return (items as string[]).flatMap((item) => item.split(',')).map((item) => item.trim()).filter((item) => item !== '');
}

function convert(spec: SettingSpec, raw: unknown, origin: string): Config[keyof Config] {
  const name = origin;
  if (spec.kind === 'outboundList') return outboundList(raw, name, spec.key === 'outboundAllow' ? 'allow' : 'deny');
  if (spec.kind === 'hosts') return listEntries(raw, name).map((entry) => parseHostName(entry, name));
  if (spec.kind === 'origins') return listEntries(raw, name).map((entry) => parseOrigin(entry, name));
  if (spec.kind === 'tokens') return tokenList(raw, name);
  const text = typeof raw === 'number' ? String(raw) : raw;
  if (typeof text !== 'string') throw new ConfigError(`invalid ${name}: expected a string`);
  switch (spec.kind) {
    case 'string':
      return text;
    case 'bind':
      parseBind(text, name);
      return text;
    case 'optionalBind':
      if (text !== '') parseBind(text, name);
      return text;
    case 'choice':
      if (!spec.choices!.includes(text)) {
        throw new ConfigError(`invalid ${name} "${text}": expected one of ${spec.choices!.join(', ')}`);
      }
      return text as Config[keyof Config];
    case 'duration': {
      const ms = parseDuration(text);
      if (ms === null || ms <= 0) throw new ConfigError(`invalid ${name} "${text}": expected a duration like 500ms, 90s or 5m`);
      return ms;
    }
    case 'retention': {
      if (text === '0' || text === 'off') return 0;
      const ms = parseDuration(text);
      if (ms === null || ms <= 0) throw new ConfigError(`invalid ${name} "${text}": expected a duration like 30d or 12h, or 0/off to keep forever`);
      return ms;
    }
    case 'count': {
      const n = Number(text);
      if (!Number.isInteger(n) || n < 1) throw new ConfigError(`invalid ${name} "${text}": expected a positive whole number`);
      return n;
    }
    case 'bytes': {
      const bytes = parseByteSize(text);
      if (bytes === null) throw new ConfigError(`invalid ${name} "${text}": expected a size like 500KB, 256MB or 2GB`);
      return bytes;
    }
  }
}

function describeBytes(bytes: number): string {
  const whole = inWholeUnits(bytes);
  return whole ? `${whole.amount}${whole.unit}` : String(bytes);
}

/** Tokens from a list, or from text with commas between them; an empty one is a mistake, not a token. */
function tokenList(raw: unknown, name: string): string[] {
  const items = Array.isArray(raw) ? raw : [raw].flat();
  const tokens: string[] = [];
  for (const item of items) {
    if (typeof item !== 'string') throw new ConfigError(`invalid ${name}: expected a token (text) or a list of tokens`);
    for (const token of item.split(',').map((t) => t.trim())) {
      if (token === '') throw new ConfigError(`invalid ${name}: an empty token (check for a stray comma)`);
      tokens.push(token);
    }
  }
  return tokens;
}

function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    const parsed = JSON.parse(text);
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
    return parsed as Record<string, unknown>;
  } catch (err) {
    throw new ConfigError(`cannot parse config file ${path}: ${(err as Error).message}`);
  }
}

/**
 * Keys koor-cli and koor-wizard keep in the same `settings.json` (a workspace's file serves the
 * CLI; Go Koor shared it too): not server settings, and not mistakes either.
 */
const CLI_KEYS = new Set(['server', 'token', 'instance_id', 'instance_token', 'project', 'agent', 'stack', 'follow', 'follow_state', 'follow_specs']);

/** A config-file key that is neither a setting nor koor-cli's is a mistake worth stopping for (a typo would otherwise do nothing). */
function checkFileKeys(file: Record<string, unknown>, path: string): void {
  const known = new Set(SETTINGS.map((s) => s.file));
  for (const key of Object.keys(file)) {
    if (known.has(key) || CLI_KEYS.has(key)) continue;
    const near = [...known].find((k) => k.replace(/_/g, '') === key.toLowerCase().replace(/[-_]/g, ''));
    throw new ConfigError(`unknown setting "${key}" in ${path}${near ? ` (did you mean "${near}"?)` : ''}; see koor-server --help`);
  }
}

const describeDefault = (spec: SettingSpec): string => {
  const value = DEFAULT_CONFIG[spec.key];
  if (spec.kind === 'bytes' && typeof value === 'number') return describeBytes(value);
  if (spec.kind === 'tokens' && Array.isArray(value)) return value.length === 0 ? '(none)' : `${value.length} set`;
  if (spec.kind === 'retention' && value === 0) return 'off';
  if ((spec.kind === 'duration' || spec.kind === 'retention') && typeof value === 'number' && value % 86_400_000 === 0) return `${value / 86_400_000}d`;
  if ((spec.kind === 'duration' || spec.kind === 'retention') && typeof value === 'number') return value % 60_000 === 0 ? `${value / 60_000}m` : value % 1000 === 0 ? `${value / 1000}s` : `${value}ms`;
  if (spec.key === 'outboundAllow') return 'loopback, private ranges';
  if (spec.key === 'outboundDeny') return 'link-local, multicast, 0.0.0.0/8';
  if (value === '' || (Array.isArray(value) && value.length === 0)) return spec.key === 'dashboardBind' ? '(empty disables)' : '(none)';
  return String(value);
};

/** `koor-server --help`: every setting with its flag, environment variable and config-file key. */
export function serverUsage(): string {
  const rows = SETTINGS.map((s) => `  --${s.flag.padEnd(24)} ${(s.env ?? '').padEnd(28)} ${s.file.padEnd(24)} ${describeDefault(s)}${s.choices ? ` (${s.choices.join('|')})` : ''}`);
  return [
    'koor-server: the Koor coordination server (REST, WebSocket, MCP) and its dashboard',
    '',
    'Usage: koor-server [--flag value …]      koor-server --help | --version',
    '',
    'Settings, highest first: flags, environment, the config file (--config PATH, default',
    './settings.json when present), defaults. Durations are written like 500ms, 90s, 5m, 1h.',
    '',
    `  ${'flag'.padEnd(26)} ${'environment'.padEnd(28)} ${'config key'.padEnd(24)} default`,
    `  --${'config'.padEnd(24)} ${''.padEnd(28)} ${''.padEnd(24)} ./settings.json if present`,
    ...rows,
    '',
    'Other commands: koor-server import-go PATH (copy a Go Koor database into this one).',
  ].join('\n');
}

/**
 * Resolves the server configuration, highest first: flags, environment, config file, defaults.
 * Throws ConfigError naming the first bad setting.
 */
export function loadConfig(argv: string[], env: NodeJS.ProcessEnv = process.env): Config {
  const options: Record<string, { type: 'string'; multiple?: boolean }> = { config: { type: 'string' } };
  const isList = (kind: Kind) => kind === 'outboundList' || kind === 'tokens' || kind === 'hosts' || kind === 'origins';
  for (const s of SETTINGS) options[s.flag] = { type: 'string', ...(isList(s.kind) ? { multiple: true } : {}) };
  let values: Record<string, string | undefined>;
  try {
    values = parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values as Record<string, string | undefined>;
  } catch (err) {
    throw new ConfigError((err as Error).message.split('\n')[0]!);
  }

  const configPath = values.config ?? (existsSync('settings.json') ? 'settings.json' : undefined);
  const file = configPath ? readConfigFile(configPath) : {};
  if (configPath) checkFileKeys(file, configPath);

  const config: Config = { ...DEFAULT_CONFIG };
  for (const spec of SETTINGS) {
    let resolved: Config[keyof Config] | undefined;
    if (values[spec.flag] !== undefined) resolved = convert(spec, values[spec.flag], `--${spec.flag}`);
    else if (spec.env && env[spec.env] !== undefined) resolved = convert(spec, env[spec.env], spec.env);
    else if (file[spec.file] !== undefined) resolved = convert(spec, file[spec.file], `${spec.file} in ${configPath}`);
    if (resolved !== undefined) (config as unknown as Record<string, unknown>)[spec.key] = resolved;
  }
  return config;
}

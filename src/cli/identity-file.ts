import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The one file per workspace that holds an agent's Koor identity: `.koor/token.env`, in the
 * dotenv form (`NAME=value` lines) so that a shell can load it before starting an agent tool
 * (`set -a; . .koor/token.env; set +a`) and the MCP configs, which name `KOOR_TOKEN`, see it.
 * koor-cli reads it directly. The wizard writes it and git-ignores `.koor/`; it is the only
 * place a token is written.
 */
export const IDENTITY_FILE = join('.koor', 'token.env');

export interface Identity {
  token?: string;
  instanceId?: string;
}

/** The identity stored in `dir`, or nothing when the file is missing or unreadable. */
export function readIdentity(dir: string): Identity {
  let text: string;
  try {
    text = readFileSync(join(dir, IDENTITY_FILE), 'utf8');
  } catch {
    return {};
  }
  const values: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const match = /^\s*(?:export\s+)?([A-Z_][A-Z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (match) values[match[1]!] = match[2]!.replace(/^(['"])(.*)\1$/, '$2');
  }
  return { token: values.KOOR_TOKEN || undefined, instanceId: values.KOOR_INSTANCE_ID || undefined };
}

export interface IdentityRecord {
  token: string;
  instanceId: string;
  /** Who the identity belongs to, for the comment at the top of the file. */
  name: string;
  project?: string;
}

/** Writes the identity file, readable by its owner only, replacing it whole. */
export function writeIdentity(dir: string, record: IdentityRecord): void {
  const file = join(dir, IDENTITY_FILE);
  mkdirSync(dirname(file), { recursive: true });
  const owner = record.project ? `agent "${record.name}" of project ${record.project}` : `agent "${record.name}"`;
  const text = [
    `# Koor identity of ${owner}. Never commit or print this file.`,
    '# Load it before starting an agent tool, so its MCP config finds KOOR_TOKEN:',
    '#   set -a; . .koor/token.env; set +a',
    `KOOR_INSTANCE_ID=${record.instanceId}`,
    `KOOR_TOKEN=${record.token}`,
    '',
  ].join('\n');
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, text, { mode: 0o600 });
  chmodSync(temp, 0o600);
  renameSync(temp, file);
}

/** Forgets the identity (after `deregister`): the file stays, without a token. */
export function clearIdentity(dir: string): void {
  const file = join(dir, IDENTITY_FILE);
  try {
    writeFileSync(file, '# Koor identity: none (deregistered).\n', { mode: 0o600 });
  } catch {
    // Nothing to clear.
  }
}

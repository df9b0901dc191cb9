import { apiPath } from './client.js';
import { cacheKey, lastSeen, rememberSeen } from './etag-cache.js';
import { badInput } from './exit-codes.js';
import { formatField, pickField } from './json-field.js';
import { printLine, printRaw } from './output.js';
import type { Cli, Options } from './kit.js';
import { parseWhole } from './input.js';

/**
 * `get` for versioned documents (state keys, specs): prints the raw value, one `--field` of
 * it, or with `--if-changed` just `unchanged (vN)` when the server answers 304 to the ETag
 * this workspace saw last.
 */
export async function readVersioned(cli: Cli, base: string, id: string, options: Options): Promise<void> {
  const version = parseWhole(options.version, '--version', 1);
  if (version !== undefined && options.ifChanged) throw badInput('--if-changed compares against the latest version; it cannot be combined with --version');
  const path = apiPath(base, id);
  const key = cacheKey(cli.connection.server, cli.connection.instanceId, path);
  const seen = options.ifChanged ? lastSeen(key) : undefined;

  const reply = await cli.client.send('GET', path, {
    query: { version },
    headers: seen ? { 'if-none-match': seen.etag } : {},
    accept: [304],
  });
  const headerVersion = Number(reply.headers['x-koor-version']);
  const currentVersion = Number.isSafeInteger(headerVersion) && headerVersion > 0 ? headerVersion : null;
  if (reply.status === 304) {
    printLine(`unchanged (v${currentVersion ?? seen?.version ?? '?'})`);
    return;
  }
  const etag = reply.headers.etag;
  if (options.ifChanged && typeof etag === 'string') rememberSeen(key, { etag, version: currentVersion });

  if (options.field !== undefined) {
    printLine(formatField(pickField(reply.body, options.field, id), cli.pretty));
  } else {
    const contentType = reply.headers['content-type'];
    printRaw(reply.body, typeof contentType === 'string' ? contentType : undefined, cli.pretty);
  }
}

/** `If-Match` from what the user typed: a version number as is, an ETag quoted. */
export function ifMatchHeader(value: string): string {
  const trimmed = value.trim();
  if (trimmed === '') throw badInput('--if-match needs a version number or an ETag');
  if (/^\d+$/.test(trimmed) || trimmed === '*' || trimmed.startsWith('"') || trimmed.startsWith('W/')) return trimmed;
  return `"${trimmed}"`;
}

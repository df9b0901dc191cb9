import { hashToken, newInstanceToken } from '../instances/tokens.js';

type Row = Record<string, unknown>;

/**
 * What an export leaves out unless the admin asks for it (`?include_secrets=1`), and what an
 * import puts in its place (SPEC §15: secrets never leave the server).
 *
 * - `instances.token_hash`: an instance restored without it gets the hash of a fresh random
 *   token that nobody holds, so its old token no longer works and its agent registers again
 *   (the instance's row, its history and its audit entries stay).
 * - `webhooks.secret`: a webhook that had one comes back with none and inactive, so that no
 *   unsigned delivery goes to a receiver that expects signed ones; it is created again with
 *   its secret. A webhook without a secret exports `"secret": ""` and comes back as it was.
 */
const SECRET_COLUMNS: Readonly<Record<string, string>> = {
  instances: 'token_hash',
  webhooks: 'secret',
};

/** The row as an export without secrets carries it. */
export function withoutSecrets(table: string, row: Row): Row {
  const column = SECRET_COLUMNS[table];
  if (!column || !(column in row)) return row;
  // An empty secret is no secret: keeping it tells the import that nothing was left out.
  if (table === 'webhooks' && row[column] === '') return row;
  const { [column]: _left, ...rest } = row;
  return rest;
}

/** An imported row whose secret column was left out by the export, made whole (see above). */
export function restoreOmittedSecret(table: string, row: Row): Row {
  const column = SECRET_COLUMNS[table];
  if (!column || column in row) return row;
  if (table === 'instances') return { ...row, [column]: hashToken(newInstanceToken()) };
  if (table === 'webhooks') return { ...row, [column]: '', active: 0 };
  return row;
}

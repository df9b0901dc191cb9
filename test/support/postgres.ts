import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * A database of its own for one test app on the PostgreSQL server named by `serverUrl`.
 * Separate databases (not schemas) keep tests that run in parallel from seeing each other in
 * the catalog: the migrator introspects every schema of its database, and a schema dropped by
 * another test at that moment made it fail.
 */
export async function createTestDatabase(serverUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `koor_test_${randomBytes(6).toString('hex')}`;
  await adminQuery(serverUrl, `CREATE DATABASE ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () => adminQuery(serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}

async function adminQuery(serverUrl: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

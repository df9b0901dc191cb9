import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/server/app.js';
import type { Config } from '../../src/server/config.js';
import { createTestDatabase } from './postgres.js';

export type TestEngine = 'sqlite' | 'postgres';

/** The engines this run tests: SQLite always, PostgreSQL when KOOR_TEST_POSTGRES_URL is set. */
export function testEngines(): TestEngine[] {
  return process.env.KOOR_TEST_POSTGRES_URL ? ['sqlite', 'postgres'] : ['sqlite'];
}

export interface TestApp {
  app: FastifyInstance;
  dataDir: string;
  /** Closes the app and removes its data (temp directory or PostgreSQL schema). */
  close(): Promise<void>;
}

/**
 * A fresh app with its own empty database: a temp directory for SQLite, a new database on
 * the PostgreSQL server. Logging is off unless KOOR_TEST_LOG is set.
 */
export async function startTestApp(config: Partial<Config> = {}, engine: TestEngine = 'sqlite'): Promise<TestApp> {
  const dataDir = mkdtempSync(join(tmpdir(), 'koor-test-'));
  const pgUrl = process.env.KOOR_TEST_POSTGRES_URL;
  if (engine === 'postgres' && !pgUrl) throw new Error('KOOR_TEST_POSTGRES_URL is not set');
  const pgDatabase = engine === 'postgres' ? await createTestDatabase(pgUrl!) : undefined;
  const app = await buildApp({
    dataDir,
    dashboardBind: '',
    logLevel: (process.env.KOOR_TEST_LOG as Config['logLevel']) ?? 'silent',
    ...(pgDatabase ? { database: pgDatabase.url } : {}),
    ...config,
  });
  return {
    app,
    dataDir,
    async close() {
      await app.close();
      await pgDatabase?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Like startTestApp, but listening on a random local port; `url` is its base URL. */
export async function startListeningApp(config: Partial<Config> = {}, engine: TestEngine = 'sqlite'): Promise<TestApp & { url: string }> {
  const test = await startTestApp(config, engine);
  await test.app.listen({ host: '127.0.0.1', port: 0 });
  const address = test.app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const url = `http://127.0.0.1:${port}`;
  test.app.koor.baseUrl = url;
  return { ...test, url };
}

import type { FastifyInstance } from 'fastify';
import { ConfigError, loadConfig, parseBind, serverUsage, type Config } from './config.js';
import { KOOR_VERSION } from '../kernel/version.js';
import { buildApp } from './app.js';
import { startDashboard } from '../dashboard/server.js';
import { ADMIN } from '../kernel/context.js';
import { HttpError } from '../kernel/errors.js';

/**
 * Starts the API (and the dashboard when enabled) from command-line flags and environment,
 * and shuts both down gracefully on SIGINT/SIGTERM. Exits non-zero with one line on bad config.
 */
export async function runServer(argv: string[]): Promise<void> {
  if (argv[0] === 'import-go') return runImportGo(argv.slice(1));
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${serverUsage()}\n`);
    return;
  }
  if (argv.includes('--version') || argv.includes('-V')) {
    process.stdout.write(`${KOOR_VERSION}\n`);
    return;
  }
  let config: Config;
  try {
    config = loadConfig(argv);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`koor-server: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }

  let app: FastifyInstance;
  try {
    app = await buildApp(config);
  } catch (err) {
    process.stderr.write(`koor-server: cannot start: ${(err as Error).message}\n`);
    process.exit(1);
  }

  const { host, port } = parseBind(config.bind, '--bind');
  try {
    await app.listen({ host, port });
  } catch (err) {
    process.stderr.write(`koor-server: cannot listen on ${config.bind}: ${(err as Error).message}\n`);
    await app.close();
    process.exit(1);
  }
  const address = app.server.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  app.koor.baseUrl = `http://${host === '0.0.0.0' || host === '::' ? 'localhost' : host}:${actualPort}`;
  app.log.info({ url: app.koor.baseUrl, engine: app.koor.db.engine }, 'koor API listening');

  const dashboard = config.dashboardBind ? await startDashboard(app, config.dashboardBind) : undefined;
  const storage = app.koor.db.engine === 'sqlite' ? `SQLite in ${config.dataDir}` : 'PostgreSQL';
  app.log.info(
    { api: app.koor.baseUrl, dashboard: dashboard?.url ?? null, version: KOOR_VERSION },
    `Koor ${KOOR_VERSION} is up: API ${app.koor.baseUrl} (MCP at /mcp), dashboard ${dashboard?.url ?? 'off'}, ${storage}`,
  );

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.log.info({ signal }, 'shutting down');
    // In-flight requests get up to 5 s; after that the process leaves anyway.
    const force = setTimeout(() => process.exit(1), 5000);
    force.unref();
    try {
      await dashboard?.close();
      await app.close();
      process.exit(0);
    } catch (err) {
      app.log.error({ err }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

const IMPORT_GO_USAGE = 'usage: koor-server import-go PATH/TO/data.db [--merge] [server flags: --data-dir, --database, --config]';

/**
 * `koor-server import-go PATH [--merge] [flags]`: copies a Go Koor database (its data.db) into
 * the database the flags name, as the server would open it, then exits. Prints what was
 * imported as JSON; one line on stderr and a non-zero exit on failure.
 */
async function runImportGo(argv: string[]): Promise<void> {
  const [path, ...rest] = argv;
  const merge = rest.includes('--merge');
  const flags = rest.filter((arg) => arg !== '--merge');
  if (!path || path.startsWith('-')) {
    process.stderr.write(`koor-server: ${IMPORT_GO_USAGE}\n`);
    process.exit(2);
  }
  let config: Config;
  try {
    config = loadConfig(flags);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`koor-server: ${err.message}\n${IMPORT_GO_USAGE}\n`);
    process.exit(2);
  }
  let app: FastifyInstance;
  try {
    // Its result is the one line it prints; the server's routine start-up logs would bury it.
    app = await buildApp({ ...config, dashboardBind: '', logLevel: config.logLevel === 'info' ? 'warn' : config.logLevel });
  } catch (err) {
    process.stderr.write(`koor-server: cannot open the database: ${(err as Error).message}\n`);
    process.exit(1);
  }
  const { importGoDatabase } = await import('../backup/go-koor.js');
  let code = 0;
  try {
    const result = await importGoDatabase(app.koor, path, { merge, actor: ADMIN });
    process.stdout.write(`${JSON.stringify({ source: path, ...result })}\n`);
  } catch (err) {
    process.stderr.write(`koor-server: import-go failed: ${(err as Error).message}\n`);
    code = err instanceof HttpError && err.status < 500 ? 2 : 1;
  }
  await app.close();
  process.exit(code);
}

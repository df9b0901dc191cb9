import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { parseBind } from '../server/config.js';
import { HttpError, badRequest, errorBody } from '../kernel/errors.js';
import { apiProxy } from './proxy.js';
import browserSafety, { browserSafetyPolicy } from '../server/browser-safety.js';
import { dashboardFiles } from './static-files.js';

/** A running dashboard server. */
export interface DashboardServer {
  url: string;
  close(): Promise<void>;
}

export interface DashboardOptions {
  /** Base URL of the API the dashboard proxies to, e.g. `http://127.0.0.1:9800`. */
  apiUrl: string;
  host?: string;
  /** 0 picks a free port (tests). */
  port?: number;
  /** The API's browser-safety settings, which the dashboard applies to its own visitors; local mode when not given. */
  safety?: DashboardSafety;
}

/** What the dashboard's browser checks take from the API's configuration. */
export interface DashboardSafety {
  localMode: boolean;
  allowedHosts?: readonly string[];
  allowedOrigins?: readonly string[];
}

/**
 * The dashboard as a small fastify app: its shipped files (static-files.ts), and `/api/*` and
 * `/health` forwarded to the API (proxy.ts). Errors have the API's shape (`errorBody`).
 *
 * It holds its visitors to the API's browser checks itself (the same module, with its own
 * host and port): what it forwards reaches the API as the dashboard's own request, without the
 * browser's Origin, as its relayed WebSocket always did. Otherwise a page that rebinds its
 * name to this machine, or opens the relayed WebSocket cross-site, would reach the API
 * through the dashboard.
 */
export async function buildDashboardApp(apiUrl: URL, host = '127.0.0.1', safety: DashboardSafety = { localMode: true }): Promise<FastifyInstance> {
  const app = Fastify({ logger: false, forceCloseConnections: true, return503OnClosing: false });

  app.setErrorHandler((err: Error & { statusCode?: number }, _request, reply) => {
    if (err instanceof HttpError) return reply.status(err.status).send(err.body());
    const status = err.statusCode && err.statusCode >= 400 ? err.statusCode : 500;
    return reply.status(status).send(errorBody(status, status >= 500 ? 'internal server error' : err.message));
  });
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0];
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      return reply.status(405).header('allow', 'GET, HEAD').send(errorBody(405, `method ${request.method} not allowed on ${path}`));
    }
    return reply.status(404).send(errorBody(404, `no dashboard file ${path}`));
  });

  // Browsers ask for paths. Only a client that takes the dashboard for a forward proxy sends
  // a whole URL (`GET http://host/…`), and it is not one.
  app.addHook('onRequest', (request, _reply, done) => {
    const target = request.raw.url ?? '';
    done(target.startsWith('/') ? undefined : badRequest(`the dashboard is not a proxy: request a path, not ${target.split('?')[0]}`));
  });

  await app.register(browserSafety, browserSafetyPolicy({
    localMode: safety.localMode,
    bindHost: host,
    allowedHosts: safety.allowedHosts ?? [],
    allowedOrigins: safety.allowedOrigins ?? [],
    // Bodies go to the API as they came, and the API judges their types.
    checkContentTypes: false,
  }));
  await apiProxy(app, apiUrl);
  await dashboardFiles(app);
  return app;
}

/**
 * Starts the dashboard on its own address, in front of the API at `apiUrl`.
 */
export async function startDashboardServer(options: DashboardOptions): Promise<DashboardServer> {
  const host = options.host ?? '127.0.0.1';
  const app = await buildDashboardApp(new URL(options.apiUrl), host, options.safety);
  try {
    await app.listen({ host, port: options.port ?? 0 });
  } catch (err) {
    await app.close();
    throw err;
  }
  const { port } = app.server.address() as AddressInfo;
  const shownHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
  return { url: `http://${shownHost}:${port}`, close: () => app.close() };
}

/**
 * Serves the dashboard on `bind` (host:port) in front of a listening API. A dashboard that
 * cannot listen is logged and skipped: the API keeps serving agents.
 */
export async function startDashboard(api: FastifyInstance, bind: string): Promise<DashboardServer | undefined> {
  const { host, port } = parseBind(bind, '--dashboard-bind');
  try {
    const { authToken, allowedHosts, allowedOrigins } = api.koor.config;
    const safety = { localMode: authToken === '', allowedHosts, allowedOrigins };
    const dashboard = await startDashboardServer({ apiUrl: api.koor.baseUrl, host, port, safety });
    api.log.info({ url: dashboard.url }, 'koor dashboard listening');
    // It forwards /api to the API: a webhook to it would loop just the same.
    const listening = { name: 'dashboard', host, port: Number(new URL(dashboard.url).port) };
    api.koor.outbound.addOwnServer(() => listening);
    return dashboard;
  } catch (err) {
    api.log.error({ bind, err: (err as Error).message }, `dashboard cannot listen on ${bind}; the API keeps running without it`);
    return undefined;
  }
}

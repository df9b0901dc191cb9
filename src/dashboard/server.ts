import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { parseBind } from '../server/config.js';
import { errorJson } from '../kernel/errors.js';
import { proxyHttp, WebSocketRelay } from './proxy.js';
import { StaticFiles } from './static-files.js';

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
}

/** Paths the browser may reach on the API through the dashboard's origin. */
function isApiPath(pathname: string): boolean {
  return pathname === '/health' || pathname === '/api' || pathname.startsWith('/api/');
}

/**
 * Starts the dashboard on its own address: static pages from the package, `/api/*` and
 * `/health` proxied to the API, and WebSocket upgrades on `/api/*` relayed to it.
 */
export async function startDashboardServer(options: DashboardOptions): Promise<DashboardServer> {
  const apiUrl = new URL(options.apiUrl);
  const files = new StaticFiles();
  const relay = new WebSocketRelay(apiUrl);

  const server: Server = createServer((request, response) => {
    const pathname = new URL(request.url ?? '/', 'http://dashboard').pathname;
    if (isApiPath(pathname)) {
      proxyHttp(apiUrl, request, response);
      return;
    }
    files.serve(request, response, pathname).catch(() => {
      if (!response.headersSent) response.writeHead(500, { 'content-type': 'application/json' });
      response.end(errorJson(500, `cannot read dashboard file ${pathname}`));
    });
  });
  server.on('upgrade', (request, socket, head) => {
    const pathname = new URL(request.url ?? '/', 'http://dashboard').pathname;
    if (!pathname.startsWith('/api/')) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    relay.handleUpgrade(request, socket, head);
  });

  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const shownHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host;

  return {
    url: `http://${shownHost}:${port}`,
    async close() {
      await relay.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

/**
 * Serves the dashboard on `bind` (host:port) in front of a listening API. A dashboard that
 * cannot listen is logged and skipped: the API keeps serving agents.
 */
export async function startDashboard(api: FastifyInstance, bind: string): Promise<DashboardServer | undefined> {
  const { host, port } = parseBind(bind, '--dashboard-bind');
  try {
    const dashboard = await startDashboardServer({ apiUrl: api.koor.baseUrl, host, port });
    api.log.info({ url: dashboard.url }, 'koor dashboard listening');
    return dashboard;
  } catch (err) {
    api.log.error({ bind, err: (err as Error).message }, `dashboard cannot listen on ${bind}; the API keeps running without it`);
    return undefined;
  }
}

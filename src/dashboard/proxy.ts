import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { REASONS, errorJson } from '../kernel/errors.js';

// Headers that describe one connection, not the message: never forwarded across the proxy.
const HOP_BY_HOP = new Set([
  'connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer',
  'transfer-encoding', 'upgrade', 'host',
]);

function forwardableHeaders(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const out: IncomingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
  }
  return out;
}

function sendGatewayError(response: ServerResponse, message: string): void {
  if (response.headersSent) {
    response.destroy();
    return;
  }
  response.writeHead(502, { 'content-type': 'application/json' });
  response.end(errorJson(502, message, { reason: REASONS.apiUnreachable }));
}

/**
 * Forwards one HTTP request to the API unchanged (method, path, query, headers including
 * Authorization, body) and streams the answer back, so the browser talks to one origin.
 */
export function proxyHttp(apiUrl: URL, request: IncomingMessage, response: ServerResponse): void {
  const upstream = httpRequest(
    {
      protocol: apiUrl.protocol,
      hostname: apiUrl.hostname,
      port: apiUrl.port,
      method: request.method,
      path: request.url,
      headers: { ...forwardableHeaders(request.headers), host: apiUrl.host },
    },
    (answer) => {
      response.writeHead(answer.statusCode ?? 502, forwardableHeaders(answer.headers));
      answer.pipe(response);
      answer.on('error', () => response.destroy());
    },
  );
  upstream.on('error', (err) => sendGatewayError(response, `dashboard cannot reach the API at ${apiUrl.origin}: ${err.message}`));
  // A browser that goes away aborts the API call too.
  response.on('close', () => {
    if (!response.writableFinished) upstream.destroy();
  });
  request.pipe(upstream);
}

/** Close codes a peer may send; 1005/1006/1015 only describe what happened locally. */
function sendableCloseCode(code: number): number {
  return code === 1000 || (code >= 1001 && code <= 1014 && code !== 1005 && code !== 1006) || (code >= 3000 && code <= 4999)
    ? code
    : 1011;
}

/**
 * Relays WebSocket connections: the browser's socket is accepted here and every frame is
 * piped to a second socket opened to the API with the same path and query (so `?token=` and
 * `?pattern=` reach it) plus the Authorization header when the browser sent one.
 */
export class WebSocketRelay {
  private readonly server = new WebSocketServer({ noServer: true });

  constructor(private readonly apiUrl: URL) {}

  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.server.handleUpgrade(request, socket, head, (browser) => this.relay(request, browser));
  }

  private relay(request: IncomingMessage, browser: WebSocket): void {
    const target = new URL(request.url ?? '/', this.apiUrl);
    target.protocol = this.apiUrl.protocol === 'https:' ? 'wss:' : 'ws:';
    const headers: Record<string, string> = {};
    for (const name of ['authorization', 'x-koor-instance-token']) {
      const value = request.headers[name];
      if (typeof value === 'string') headers[name] = value;
    }
    const api = new WebSocket(target, { headers });
    const pending: Array<{ data: RawData; binary: boolean }> = [];

    browser.on('message', (data, binary) => {
      if (api.readyState === WebSocket.OPEN) api.send(data, { binary });
      else pending.push({ data, binary });
    });
    api.on('open', () => {
      for (const { data, binary } of pending.splice(0)) api.send(data, { binary });
    });
    api.on('message', (data, binary) => {
      if (browser.readyState === WebSocket.OPEN) browser.send(data, { binary });
    });
    // The API refused the upgrade: tell the page why with a close code it can read
    // (4401 = unauthorized, 4000 + status otherwise).
    api.on('unexpected-response', (_req, answer) => {
      const status = answer.statusCode ?? 502;
      let body = '';
      answer.setEncoding('utf8');
      answer.on('data', (chunk: string) => (body += chunk));
      answer.on('end', () => {
        let reason = `API refused the WebSocket with ${status}`;
        try {
          const parsed = JSON.parse(body) as { error?: unknown };
          if (typeof parsed.error === 'string') reason = parsed.error;
        } catch {
          // not JSON: keep the generic reason
        }
        browser.close(status >= 400 && status < 1000 ? 4000 + status : 1011, reason.slice(0, 120));
        api.terminate();
      });
    });
    api.on('error', (err) => {
      if (browser.readyState === WebSocket.OPEN) browser.close(1011, `API WebSocket failed: ${err.message}`.slice(0, 120));
    });
    api.on('close', (code, reason) => {
      if (browser.readyState === WebSocket.OPEN) browser.close(sendableCloseCode(code), reason);
    });
    browser.on('close', (code, reason) => {
      if (api.readyState === WebSocket.OPEN) api.close(sendableCloseCode(code), reason);
      else if (api.readyState === WebSocket.CONNECTING) api.terminate();
    });
    browser.on('error', () => api.terminate());
  }

  /**
   * Closes every relayed connection with a going-away frame; a browser that has not answered
   * the close handshake within `graceMs` is cut off so shutdown never waits on it.
   */
  async close(graceMs = 1000): Promise<void> {
    const clients = [...this.server.clients];
    const closed = clients.map((client) => new Promise<void>((resolve) => {
      if (client.readyState === WebSocket.CLOSED) resolve();
      else client.once('close', () => resolve());
    }));
    for (const client of clients) client.close(1001, 'dashboard shutting down');
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(closed), new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
    clearTimeout(timer);
    for (const client of clients) client.terminate();
    this.server.close();
  }
}

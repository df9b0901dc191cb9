import type { FastifyRequest } from 'fastify';
import { WebSocket } from 'ws';
import { SUBSCRIBE_PATH } from '../events/websocket.js';

/** Headers that carry the caller's identity to the API; nothing else is forwarded. */
const CREDENTIAL_HEADERS = ['authorization', 'x-koor-instance-token'] as const;

/** Close codes a peer may send; 1005/1006/1015 only describe what happened locally. */
function sendableCloseCode(code: number): number {
  return code === 1000 || (code >= 1001 && code <= 1014 && code !== 1005 && code !== 1006) || (code >= 3000 && code <= 4999)
    ? code
    : 1011;
}

/** A close reason fits in a control frame (123 bytes); keep well inside it. */
const shortReason = (reason: string) => reason.slice(0, 120);

/**
 * The one WebSocket the dashboard relays: the API's event stream. The API socket is always
 * opened to `SUBSCRIBE_PATH` on the API's own origin with the browser's query string (so
 * `?pattern=`, `?after=`, `?token=` reach it); nothing in the browser's request can change
 * where it connects.
 */
export function eventStreamTarget(apiUrl: URL, request: FastifyRequest): URL {
  const target = new URL(SUBSCRIBE_PATH, apiUrl.origin);
  target.protocol = apiUrl.protocol === 'https:' ? 'wss:' : 'ws:';
  target.search = new URL(request.url, 'http://dashboard.invalid').search;
  return target;
}

/**
 * Relays the browser's event stream socket (accepted by @fastify/websocket) to the API, frame
 * by frame. An API that refuses the upgrade closes the browser's socket with a code the page
 * can read, 4000 + status (4401: unauthorized), and the API's error message as the reason.
 */
export function eventStreamRelay(apiUrl: URL) {
  return (browser: WebSocket, request: FastifyRequest): void => {
    const headers: Record<string, string> = {};
    for (const name of CREDENTIAL_HEADERS) {
      const value = request.headers[name];
      if (typeof value === 'string') headers[name] = value;
    }
    const api = new WebSocket(eventStreamTarget(apiUrl, request), { headers, followRedirects: false });
    const pending: Array<{ data: WebSocket.RawData; binary: boolean }> = [];

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
        browser.close(status >= 400 && status < 1000 ? 4000 + status : 1011, shortReason(reason));
        api.terminate();
      });
    });
    api.on('error', (err) => {
      if (browser.readyState === WebSocket.OPEN) browser.close(1011, shortReason(`API WebSocket failed: ${err.message}`));
    });
    api.on('close', (code, reason) => {
      if (browser.readyState === WebSocket.OPEN) browser.close(sendableCloseCode(code), reason);
    });
    browser.on('close', (code, reason) => {
      if (api.readyState === WebSocket.OPEN) api.close(sendableCloseCode(code), reason);
      else if (api.readyState === WebSocket.CONNECTING) api.terminate();
    });
    browser.on('error', () => api.terminate());
  };
}

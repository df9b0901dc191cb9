import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { REASONS, errorJson, type ErrorDetails } from '../kernel/errors.js';
import { formatMs } from '../kernel/duration.js';

/**
 * The status and message for a request Node's HTTP parser refused before any route saw it:
 * broken syntax, headers past Node's size limit, or a request that did not arrive in time.
 */
function describe(err: NodeJS.ErrnoException, requestTimeoutMs: number): { status: number; message: string; details?: ErrorDetails } {
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    return { status: 408, message: `request timed out: the whole request must arrive within ${formatMs(requestTimeoutMs)}` };
  }
  if (err.code === 'HPE_HEADER_OVERFLOW') return { status: 431, message: 'request headers are too large (the limit is 16 KB in all)' };
  return { status: 400, message: `malformed HTTP request${err.code ? ` (${err.code})` : ''}`, details: { reason: REASONS.malformedHttp } };
}

/**
 * Answers such a request in Koor's one error shape (`errorBody`), and closes the
 * connection; fastify's own answer has another shape. A connection already gone gets nothing.
 */
export function clientErrorAnswerer(requestTimeoutMs: number) {
  return (err: NodeJS.ErrnoException, socket: Socket): void => {
    if (err.code === 'ECONNRESET' || socket.destroyed) return;
    const { status, message, details } = describe(err, requestTimeoutMs);
    const body = errorJson(status, message, details);
    if (socket.writable) {
      socket.write(
        `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    }
    socket.destroy(err);
  };
}

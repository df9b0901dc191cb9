import type { IncomingMessage, RequestOptions } from 'node:http';
import type { Readable } from 'node:stream';
import { CliError, ExitCode, exitCodeForStatus } from './exit-codes.js';
import type { Connection } from './settings.js';

// No global fetch: it loads undici on first use, which costs more than the whole rest of a CLI
// run, and agents start this process hundreds of times a session. node:http(s), loaded on
// demand, costs a few milliseconds.

export type QueryValue = string | number | boolean | undefined | null;

export interface RequestSpec {
  query?: Record<string, QueryValue>;
  /** A JSON value (sent as application/json), raw bytes or text, or a stream to upload. */
  json?: unknown;
  body?: Buffer | string | Readable;
  headers?: Record<string, string>;
  /** Statuses that are answers, not failures (e.g. 304 for `--if-changed`). */
  accept?: number[];
  /** Aborts the request (a long poll the user interrupted); it then fails as unreachable. */
  signal?: AbortSignal;
}

export interface Reply {
  status: number;
  /** Lower-case names. */
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** Joins path segments, encoding each; a key's own `/` separators stay as they are. */
export function apiPath(...segments: string[]): string {
  return segments.map((segment) => segment.split('/').map(encodeURIComponent).join('/')).join('/');
}

function withQuery(path: string, query?: Record<string, QueryValue>): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== '') params.set(name, String(value));
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

const REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host not found',
  ECONNRESET: 'connection reset',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'timed out',
};

/** One clear line for a server that cannot be reached at all. */
export function unreachable(server: string, err: unknown): CliError {
  const code = (err as NodeJS.ErrnoException)?.code ?? '';
  const reason = REASONS[code] ?? ((err as Error)?.message || 'unknown error');
  return new CliError(`cannot reach ${server}: ${reason}`, ExitCode.unreachable);
}

/**
 * The server's `{error, code, reason, …}` body as one line: its message plus any extra facts
 * (e.g. the current version on 412). The status shows in the exit code, and the reason, for
 * programs, would only repeat the message.
 */
export function describeFailure(reply: Reply): string {
  const text = reply.body.toString('utf8');
  try {
    const parsed = JSON.parse(text) as Record<string, unknown>;
    if (parsed && typeof parsed.error === 'string') {
      const { error, code: _code, reason: _reason, ...extra } = parsed;
      return Object.keys(extra).length > 0 ? `${error} ${JSON.stringify(extra)}` : error;
    }
  } catch {
    // Not JSON: fall through to the raw text.
  }
  const snippet = text.trim().slice(0, 200);
  return `HTTP ${reply.status}${snippet ? `: ${snippet}` : ''}`;
}

/** Headers that carry who we are: the server token and, after `register`, our instance token. */
export function identityHeaders(connection: Connection): Record<string, string> {
  const headers: Record<string, string> = {};
  if (connection.token) headers.authorization = `Bearer ${connection.token}`;
  if (connection.instanceToken) headers['x-koor-instance-token'] = connection.instanceToken;
  return headers;
}

export interface ClientOptions {
  /** Give up on a request whose socket stays silent this long (hooks must never hang the agent). */
  timeoutMs?: number;
}

export class KoorClient {
  constructor(
    readonly connection: Connection,
    private readonly options: ClientOptions = {},
  ) {}

  /** Sends one request and resolves with the reply; failures become CliErrors with the right exit code. */
  async send(method: string, path: string, spec: RequestSpec = {}): Promise<Reply> {
    const response = await this.open(method, path, spec);
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of response) chunks.push(chunk as Buffer);
    } catch (err) {
      throw unreachable(this.connection.server, err);
    }
    const reply: Reply = { status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) };
    if (reply.status >= 400 && !spec.accept?.includes(reply.status)) {
      throw new CliError(describeFailure(reply), exitCodeForStatus(reply.status));
    }
    return reply;
  }

  /** Sends a request and parses the JSON answer. */
  async json<T = unknown>(method: string, path: string, spec: RequestSpec = {}): Promise<T> {
    const reply = await this.send(method, path, spec);
    const text = reply.body.toString('utf8');
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new CliError(`the server answered ${method} ${path} with something that is not JSON`, ExitCode.serverError);
    }
  }

  /**
   * Sends a request and hands back the response stream once the status says it succeeded
   * (for large downloads). Failures are read and thrown like `send` does.
   */
  async stream(method: string, path: string, spec: RequestSpec = {}): Promise<IncomingMessage> {
    const response = await this.open(method, path, spec);
    const status = response.statusCode ?? 0;
    if (status < 400) return response;
    const chunks: Buffer[] = [];
    for await (const chunk of response) chunks.push(chunk as Buffer);
    throw new CliError(describeFailure({ status, headers: response.headers, body: Buffer.concat(chunks) }), exitCodeForStatus(status));
  }

  /** The URL, headers and body of a request, checked. */
  private prepare(path: string, spec: RequestSpec): { url: URL; target: string; headers: Record<string, string>; body: Buffer | string | Readable | undefined } {
    const { server } = this.connection;
    let url: URL;
    try {
      url = new URL(server);
    } catch {
      throw new CliError(`invalid server address "${server}": expected something like http://localhost:9800`, ExitCode.badInput);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new CliError(`invalid server address "${server}": only http:// and https:// are supported`, ExitCode.badInput);
    }
    const headers: Record<string, string> = { ...identityHeaders(this.connection), ...spec.headers };
    let body: Buffer | string | Readable | undefined = spec.body;
    if (spec.json !== undefined) {
      body = JSON.stringify(spec.json);
      headers['content-type'] ??= 'application/json';
    }
    // The request target is built here, not by URL, which would resolve `.`/`..` segments and
    // so address another key than the one typed (`state get a/../b` must ask for that key).
    const target = url.pathname.replace(/\/+$/, '') + withQuery(path, spec.query);
    return { url, target, headers, body };
  }

  /** Opens one request through node:http(s); resolves with the response once its head arrives. */
  private async open(method: string, path: string, spec: RequestSpec): Promise<IncomingMessage> {
    const { server } = this.connection;
    const { url, target, headers, body } = this.prepare(path, spec);
    headers.connection = 'close';
    if (typeof body === 'string' || Buffer.isBuffer(body)) headers['content-length'] = String(Buffer.byteLength(body));
    const { request } = url.protocol === 'https:' ? await import('node:https') : await import('node:http');
    const options: RequestOptions = {
      protocol: url.protocol,
      hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: url.port || undefined,
      path: target,
      method,
      headers,
      agent: false,
      signal: spec.signal,
    };

    return new Promise<IncomingMessage>((resolve, reject) => {
      let req: ReturnType<typeof request>;
      try {
        req = request(options, resolve);
      } catch (err) {
        // node:http refuses header values or paths that could split the request (CR, LF, …).
        reject(new CliError(`invalid request: ${(err as Error).message}`, ExitCode.badInput));
        return;
      }
      req.on('error', (err) => reject(unreachable(server, err)));
      if (this.options.timeoutMs) {
        req.setTimeout(this.options.timeoutMs, () => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
      }
      if (body === undefined || typeof body === 'string' || Buffer.isBuffer(body)) {
        req.end(body);
      } else {
        body.on('error', (err) => {
          req.destroy();
          reject(new CliError(`cannot read input: ${(err as Error).message}`, ExitCode.badInput));
        });
        body.pipe(req);
      }
    });
  }
}

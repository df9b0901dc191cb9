/**
 * Koor's one error shape, `{"error": message, "code": status, "reason": "snake_case", ...extra}`,
 * and the one function that builds it (`errorBody`). Everything that answers with an error, the
 * app's error handler, the router's own refusals, raw-socket answers, stream refusals, the
 * dashboard, builds its body here, so the shape cannot drift between them.
 *
 * `code` is the HTTP status (the wire format of the original Koor). `reason` is a stable,
 * machine-readable name for what went wrong, so a client can tell two answers with the same
 * status apart (a 409 for a lease held by someone else from a 409 for an id already taken),
 * as fastify's `FST_ERR_*` codes do. Each status has a default reason; a thrower names a more
 * precise one when a client could act on the difference. Reasons are part of the API: once
 * shipped, a reason keeps its meaning.
 */
import { Type } from './schema.js';

/** The reason a status gets when the thrower names none. */
const DEFAULT_REASONS: Readonly<Record<number, string>> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  406: 'not_acceptable',
  408: 'request_timeout',
  409: 'conflict',
  410: 'gone',
  411: 'length_required',
  412: 'precondition_failed',
  413: 'payload_too_large',
  414: 'uri_too_long',
  415: 'unsupported_media_type',
  422: 'unprocessable_entity',
  426: 'upgrade_required',
  428: 'precondition_required',
  429: 'too_many_requests',
  431: 'headers_too_large',
  500: 'internal_error',
  501: 'not_implemented',
  502: 'bad_gateway',
  503: 'unavailable',
  504: 'gateway_timeout',
};

/** Reasons Koor itself gives where a status alone would not say enough. */
export const REASONS = {
  /** The body is not JSON (or is empty where JSON is required). */
  malformedJson: 'malformed_json',
  /** The body, query or path does not match the route's schema. */
  invalidRequest: 'invalid_request',
  /** No route answers this method and path (as opposed to a missing resource on a route). */
  noRoute: 'no_route',
  /** Node's HTTP parser refused the request before any route saw it. */
  malformedHttp: 'malformed_http',
  /** The dashboard could not reach its API. */
  apiUnreachable: 'api_unreachable',
  /** The server is closing and takes no new requests or streams. */
  shuttingDown: 'shutting_down',
  /** The Host header does not name the server (DNS rebinding; see --allowed-hosts). */
  hostNotAllowed: 'host_not_allowed',
  /** A write or stream from a web page of another origin (see --allowed-origins). */
  originNotAllowed: 'origin_not_allowed',
} as const;

const REASON_FORMAT = /^[a-z][a-z0-9_]*$/;

/** The default reason of a status: the table above, or `http_<status>` for a status not in it. */
export function defaultReason(status: number): string {
  return DEFAULT_REASONS[status] ?? `http_${status}`;
}

/** What an error body holds beyond its message and status. */
export interface ErrorDetails {
  /** Overrides the status's default reason; lower snake_case (`lease_conflict`). */
  reason?: string;
  /** Extra fields a client can act on (`current_version`, `conflicts`, …). */
  [field: string]: unknown;
}

/** The body of every JSON error Koor sends. */
export interface ErrorBody {
  error: string;
  code: number;
  reason: string;
  [field: string]: unknown;
}

/**
 * The one builder of error bodies. `error`, `code` and `reason` always come first and cannot be
 * overwritten by the extra fields.
 */
export function errorBody(status: number, message: string, details: ErrorDetails = {}): ErrorBody {
  const { reason, error: _error, code: _code, ...extra } = details;
  return { error: message, code: status, reason: reason ?? defaultReason(status), ...extra };
}

/** The same body as JSON text, for answers written straight to a socket. */
export function errorJson(status: number, message: string, details?: ErrorDetails): string {
  return JSON.stringify(errorBody(status, message, details));
}

/** The two fields every error body starts with, as schema properties, for answers that add to them (a lease conflict's list). */
export const errorBodyFields = { error: Type.String(), code: Type.Integer() };

/** The JSON Schema of an error body; route schemas reference it as `{ $ref: 'KoorError#' }`. */
export const errorSchema = {
  $id: 'KoorError',
  type: 'object',
  properties: {
    error: { type: 'string', description: 'What went wrong, naming the field or value' },
    code: { type: 'integer', description: 'The HTTP status' },
    reason: { type: 'string', description: 'Stable machine-readable reason, e.g. not_found, precondition_failed' },
  },
  required: ['error', 'code', 'reason'],
  additionalProperties: true,
} as const;

/**
 * The one error type handlers throw. The app's error handler turns it into `errorBody(status,
 * message, details)`; handlers never format error bodies themselves.
 */
export class HttpError extends Error {
  readonly reason: string;
  /** Extra body fields, without the reason. */
  readonly extra: Record<string, unknown>;

  constructor(
    readonly status: number,
    message: string,
    details: ErrorDetails = {},
  ) {
    super(message);
    const { reason, ...extra } = details;
    if (reason !== undefined && !REASON_FORMAT.test(reason)) throw new Error(`error reason must be lower snake_case: ${reason}`);
    this.reason = reason ?? defaultReason(status);
    this.extra = extra;
  }

  /** The body this error is answered with. */
  body(): ErrorBody {
    return errorBody(this.status, this.message, { ...this.extra, reason: this.reason });
  }
}

export const badRequest = (message: string, details?: ErrorDetails) => new HttpError(400, message, details);
export const unauthorized = (message = 'invalid or missing bearer token', details?: ErrorDetails) => new HttpError(401, message, details);
export const forbidden = (message: string, details?: ErrorDetails) => new HttpError(403, message, details);
export const notFound = (what: string, id: string | number, details?: ErrorDetails) => new HttpError(404, `${what} not found: ${id}`, details);
export const conflict = (message: string, details?: ErrorDetails) => new HttpError(409, message, details);
export const preconditionFailed = (message: string, details?: ErrorDetails) => new HttpError(412, message, details);
export const payloadTooLarge = (message: string, details?: ErrorDetails) => new HttpError(413, message, details);

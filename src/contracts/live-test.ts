import { badRequest } from '../kernel/errors.js';
import { parseEndpointKey } from './document.js';
import type { ContractViolation, EndpointSpec } from './payload.js';
import { validateDirection } from './validate.js';

/** How long a live call may take before it counts as failed. */
export const LIVE_CALL_TIMEOUT_MS = 10_000;

/** Most of a live answer that is read: as much as a request to Koor may carry. */
export const MAX_LIVE_RESPONSE_BYTES = 10 * 1024 * 1024;

/**
 * The response body as text, or null when it is longer than `limit` bytes (the rest is not
 * read). A service that streams without end must not fill the server's memory.
 */
async function textUpTo(response: Response, limit: number): Promise<string | null> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      return null;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export interface LiveTestResult {
  valid: boolean;
  endpoint: string;
  /** The service's status code, 0 when no response came. */
  status_code: number;
  request_violations: ContractViolation[];
  response_violations: ContractViolation[];
  /** Why the call failed ('' when it got an answer). */
  error: string;
}

const PATH_PARAM = /\{([^}/]+)\}|:([A-Za-z_][A-Za-z0-9_]*)/g;

/** True when the path has parameters (`/users/{id}` or `/users/:id`). */
export function hasPathParams(path: string): boolean {
  return new RegExp(PATH_PARAM.source).test(path);
}

/** Checks that `value` is an absolute http(s) URL; 400 naming the field otherwise. */
export function checkBaseUrl(value: string, field = 'base_url'): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw badRequest(`${field} must be an absolute http(s) URL (got "${value}")`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw badRequest(`${field} must use http or https (got "${url.protocol}")`);
  return url;
}

function buildUrl(baseUrl: string, path: string, query: Record<string, unknown>): string {
  const url = new URL(baseUrl.replace(/\/+$/, '') + path);
  for (const [name, value] of Object.entries(query)) {
    if (value === undefined || value === null) continue;
    url.searchParams.set(name, typeof value === 'object' ? JSON.stringify(value) : String(value));
  }
  return url.toString();
}

/**
 * Calls one endpoint of a live service and checks what it answers against the contract.
 * `testData` fills path parameters by name; the rest is the query (GET, HEAD, DELETE) or the
 * JSON body (other methods), and is itself checked against the request or query spec.
 */
export async function testLiveEndpoint(endpointKey: string, spec: EndpointSpec, baseUrl: string, testData: Record<string, unknown> = {}): Promise<LiveTestResult> {
  const parsed = parseEndpointKey(endpointKey);
  if (!parsed) throw badRequest(`endpoint "${endpointKey}" is not "METHOD /path"`);
  checkBaseUrl(baseUrl);
  const rest: Record<string, unknown> = { ...testData };
  const path = parsed.path.replace(PATH_PARAM, (whole, braced?: string, colon?: string) => {
    const name = (braced ?? colon)!;
    if (!(name in rest)) return whole;
    const value = rest[name];
    delete rest[name];
    return encodeURIComponent(String(value));
  });
  const sendsBody = !['GET', 'HEAD', 'DELETE'].includes(parsed.method);
  const requestDirection = sendsBody ? 'request' : 'query';
  const requestViolations =
    Object.keys(rest).length > 0 || sendsBody ? validateDirection(spec, requestDirection, rest) : [];

  const result: LiveTestResult = {
    valid: false,
    endpoint: endpointKey,
    status_code: 0,
    request_violations: requestViolations,
    response_violations: [],
    error: '',
  };
  let response: Response;
  try {
    response = await fetch(buildUrl(baseUrl, path, sendsBody ? {} : rest), {
      method: parsed.method,
      headers: { accept: 'application/json', ...(sendsBody ? { 'content-type': 'application/json' } : {}) },
      body: sendsBody ? JSON.stringify(rest) : undefined,
      signal: AbortSignal.timeout(LIVE_CALL_TIMEOUT_MS),
      redirect: 'manual',
    });
  } catch (err) {
    const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
    const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
    result.error = timedOut ? `no answer within ${LIVE_CALL_TIMEOUT_MS / 1000} s` : `request failed${cause || (err instanceof Error ? `: ${err.message}` : '')}`;
    return result;
  }
  result.status_code = response.status;
  const expected = spec.response_status ?? 200;
  const text = await textUpTo(response, MAX_LIVE_RESPONSE_BYTES).catch(() => '');
  const violations: ContractViolation[] = [];
  if (response.status !== expected) {
    violations.push({ path: 'status', message: `expected status ${expected}, got ${response.status}` });
  }
  if (text === null) {
    violations.push({ path: '$', message: `response body is larger than ${MAX_LIVE_RESPONSE_BYTES / 1024 / 1024} MB` });
    result.response_violations = violations;
    result.valid = false;
    return result;
  }
  // A success answer is checked against `response`; a failing one against `error` if described.
  const direction = response.status === expected || response.status < 400 ? 'response' : 'error';
  const describes = direction === 'response'
    ? spec.schema?.response !== undefined || spec.response !== undefined || (spec.response_array !== undefined && spec.response_array !== false)
    : spec.schema?.error !== undefined || spec.error !== undefined;
  if (describes && parsed.method !== 'HEAD') {
    let body: unknown;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      violations.push({ path: '$', message: 'response body is not JSON' });
      body = undefined;
    }
    if (body !== undefined) violations.push(...validateDirection(spec, direction, body));
    else if (text === '') violations.push({ path: '$', message: 'response body is empty' });
  }
  result.response_violations = violations;
  result.valid = requestViolations.length === 0 && violations.length === 0;
  return result;
}

import { badRequest } from '../kernel/errors.js';
import { OutboundDenied, deniedMessage, type OutboundPolicy } from '../outbound/policy.js';
import { MAX_ANSWER_BYTES, MAX_CALL_MS, OutboundFailure, outboundRequest, type OutboundAnswer } from '../outbound/request.js';
import { maskCredentials } from '../outbound/urls.js';
import { parseEndpointKey } from './document.js';
import type { ContractViolation, EndpointSpec } from './payload.js';
import { checkDirectionOffLoop } from './validate.js';
import type { WorkPool } from '../kernel/work-pool.js';

/** How long a live call may take before it counts as failed (the outbound policy's cap). */
export const LIVE_CALL_TIMEOUT_MS = MAX_CALL_MS;

/** Most of a live answer that is read (the outbound policy's cap); the rest is cut. */
export const MAX_LIVE_RESPONSE_BYTES = MAX_ANSWER_BYTES;

import type { LiveTestResult } from './schemas.js';
export type { LiveTestResult };

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

/** The 400 for a base URL the outbound policy refuses. */
function denied(baseUrl: string, err: OutboundDenied): Error {
  return badRequest(deniedMessage('base_url', maskCredentials(baseUrl), err), { reason: 'outbound_denied' });
}

/**
 * Calls one endpoint of a live service and checks what it answers against the contract.
 * `testData` fills path parameters by name; the rest is the query (GET, HEAD, DELETE) or the
 * JSON body (other methods), and is itself checked against the request or query spec.
 * The call goes through the outbound policy: a base URL it refuses (or this server's own API)
 * is a 400 naming the policy, whether that shows before calling or when connecting.
 */
export async function testLiveEndpoint(policy: OutboundPolicy, endpointKey: string, spec: EndpointSpec, baseUrl: string, testData: Record<string, unknown>, work: WorkPool): Promise<LiveTestResult> {
  const parsed = parseEndpointKey(endpointKey);
  if (!parsed) throw badRequest(`endpoint "${endpointKey}" is not "METHOD /path"`);
  const base = checkBaseUrl(baseUrl);
  try {
    await policy.checkUrl(base);
  } catch (err) {
    if (err instanceof OutboundDenied) throw denied(baseUrl, err);
    throw err;
  }
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
    Object.keys(rest).length > 0 || sendsBody ? await checkDirectionOffLoop(work, spec, requestDirection, rest) : [];

  const result: LiveTestResult = {
    valid: false,
    endpoint: endpointKey,
    status_code: 0,
    request_violations: requestViolations,
    response_violations: [],
    error: '',
  };
  let answer: OutboundAnswer;
  try {
    answer = await outboundRequest(policy, new URL(buildUrl(baseUrl, path, sendsBody ? {} : rest)), {
      method: parsed.method,
      headers: { accept: 'application/json', ...(sendsBody ? { 'content-type': 'application/json' } : {}) },
      body: sendsBody ? JSON.stringify(rest) : undefined,
      timeoutMs: LIVE_CALL_TIMEOUT_MS,
      readBytes: MAX_LIVE_RESPONSE_BYTES,
    });
  } catch (err) {
    if (!(err instanceof OutboundFailure)) throw err;
    if (err.kind === 'denied') throw denied(baseUrl, err.denied!);
    result.error = err.kind === 'timeout' ? `no answer within ${LIVE_CALL_TIMEOUT_MS / 1000} s` : `request failed: ${err.message}`;
    return result;
  }
  result.status_code = answer.status;
  const expected = spec.response_status ?? 200;
  const violations: ContractViolation[] = [];
  if (answer.status >= 300 && answer.status < 400 && answer.status !== expected) {
    // The redirect is the answer: following it could lead anywhere the policy was asked about.
    const to = answer.location ? ` to ${maskCredentials(answer.location)}` : '';
    violations.push({ path: 'status', message: `expected status ${expected}, got ${answer.status} (a redirect${to}; redirects are not followed)` });
    result.response_violations = violations;
    return result;
  }
  if (answer.status !== expected) {
    violations.push({ path: 'status', message: `expected status ${expected}, got ${answer.status}` });
  }
  if (answer.cut) {
    violations.push({ path: '$', message: `response body is larger than ${MAX_LIVE_RESPONSE_BYTES / 1024 / 1024} MB: only that much is read, so it was not checked` });
    result.response_violations = violations;
    result.valid = false;
    return result;
  }
  const text = answer.body.toString('utf8');
  // A success answer is checked against `response`; a failing one against `error` if described.
  const direction = answer.status === expected || answer.status < 400 ? 'response' : 'error';
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
    // Up to 10 MB of someone else's JSON: checked in the worker pool unless it is small.
    if (body !== undefined) violations.push(...(await checkDirectionOffLoop(work, spec, direction, body)));
    else if (text === '') violations.push({ path: '$', message: 'response body is empty' });
  }
  result.response_violations = violations;
  result.valid = requestViolations.length === 0 && violations.length === 0;
  return result;
}

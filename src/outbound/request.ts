import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { OutboundDenied, type OutboundPolicy } from './policy.js';

/** Most of an answer that is read (SPEC §15): a service cannot fill the server's memory. */
export const MAX_ANSWER_BYTES = 1024 * 1024;
/** Longest a call may take, connecting and reading included (SPEC §15). */
export const MAX_CALL_MS = 10_000;

export interface OutboundCall {
  method: string;
  headers: Record<string, string>;
  body?: string;
  /** At most MAX_CALL_MS. */
  timeoutMs?: number;
  /** How much of the answer's body to read (0: none, the connection is released at once). */
  readBytes?: number;
  /** Ends the call early (server shutdown). */
  signal?: AbortSignal;
}

export interface OutboundAnswer {
  status: number;
  /** The `Location` of a redirect, which is reported, never followed. */
  location: string | undefined;
  body: Buffer;
  /** True when the body went on past `readBytes` and was cut there. */
  cut: boolean;
}

/** Why a call got no answer: refused by the policy, timed out, aborted, or a network error. */
export class OutboundFailure extends Error {
  constructor(
    readonly kind: 'denied' | 'timeout' | 'aborted' | 'network',
    message: string,
    /** For `denied`: the policy's reason. */
    readonly denied?: OutboundDenied,
  ) {
    super(message);
    this.name = 'OutboundFailure';
  }
}

/**
 * A lookup for net.connect that resolves with the policy's resolver and hands over only the
 * addresses the policy allows: the check is made on the address actually connected to, so a
 * name that resolved to a good address when the URL was stored and to a denied one now (DNS
 * rebinding) is refused. Node asks for one address or, for Happy Eyeballs, all of them.
 */
function checkedLookup(policy: OutboundPolicy, hostname: string, port: number, refusals: OutboundDenied[]): LookupFunction {
  return (host, options, callback) => {
    policy.resolve(host).then((found) => {
      const wanted = found.filter((a) => !options.family || a.family === options.family);
      const allowed = wanted.filter(({ address }) => {
        try {
          policy.checkAddress(hostname, address, port);
          return true;
        } catch (err) {
          if (err instanceof OutboundDenied) refusals.push(err);
          else throw err;
          return false;
        }
      });
      if (allowed.length === 0) {
        const error = Object.assign(new Error(refusals[0]?.reason ?? `${host} has no address`), { code: refusals[0] ? 'EOUTBOUNDDENIED' : 'ENOTFOUND' });
        callback(error, '', 0);
        return;
      }
      if (options.all) (callback as unknown as (err: null, all: { address: string; family: number }[]) => void)(null, allowed);
      else callback(null, allowed[0]!.address, allowed[0]!.family);
    }, (err: NodeJS.ErrnoException) => callback(err, '', 0));
  };
}

/**
 * Makes one call on the server's own initiative, within the outbound policy: every address is
 * checked when connecting, redirects are answers (never followed), the body is read up to
 * `readBytes`, and the whole call ends after `timeoutMs`. Resolves with the answer, or rejects
 * with an OutboundFailure saying why there is none.
 */
export function outboundRequest(policy: OutboundPolicy, url: URL, call: OutboundCall): Promise<OutboundAnswer> {
  const timeoutMs = Math.min(call.timeoutMs ?? MAX_CALL_MS, MAX_CALL_MS);
  const readBytes = Math.min(call.readBytes ?? 0, MAX_ANSWER_BYTES);
  let target: { hostname: string; port: number };
  try {
    target = policy.checkUrlAsWritten(url);
  } catch (err) {
    if (err instanceof OutboundDenied) return Promise.reject(new OutboundFailure('denied', err.reason, err));
    throw err;
  }
  const { hostname, port } = target;

  return new Promise<OutboundAnswer>((resolve, reject) => {
    const refusals: OutboundDenied[] = [];
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = call.signal ? AbortSignal.any([timeout, call.signal]) : timeout;
    const client = url.protocol === 'https:' ? https : http;
    let settled = false;
    const fail = (err: Error & { code?: string }) => {
      if (settled) return;
      settled = true;
      if (err.code === 'EOUTBOUNDDENIED' && refusals.length > 0) {
        reject(new OutboundFailure('denied', refusals[0]!.reason, refusals[0]));
      } else if (call.signal?.aborted) {
        reject(new OutboundFailure('aborted', 'the call was cut off (server shutting down)'));
      } else if (timeout.aborted) {
        reject(new OutboundFailure('timeout', `no answer within ${timeoutMs / 1000} s`));
      } else {
        reject(new OutboundFailure('network', err.code ? `${err.code}${err.message.includes(err.code) ? '' : ` (${err.message})`}` : err.message));
      }
    };
    const request = client.request(url, {
      method: call.method,
      headers: call.body === undefined ? call.headers : { ...call.headers, 'content-length': String(Buffer.byteLength(call.body)) },
      // A fresh connection each time: a pooled one could have been opened under other rules.
      agent: false,
      lookup: checkedLookup(policy, hostname, port, refusals),
      signal,
    });
    request.on('error', fail);
    request.on('response', (response) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const finish = (cut: boolean) => {
        if (settled) return;
        settled = true;
        const location = response.headers.location;
        resolve({ status: response.statusCode ?? 0, location, body: Buffer.concat(chunks), cut });
        // The rest of a cut answer is not wanted. An unread one is drained instead, so that the
        // receiver closes the connection (Connection: close) and keeps its TIME_WAIT; the
        // call's timeout still ends a body that never stops.
        if (cut) {
          response.destroy();
          request.destroy();
        }
      };
      if (readBytes === 0) {
        finish(false);
        response.on('error', () => undefined);
        response.resume();
        return;
      }
      response.on('data', (chunk: Buffer) => {
        if (settled) return;
        const room = readBytes - size;
        if (chunk.length > room) {
          chunks.push(chunk.subarray(0, room));
          size = readBytes;
          finish(true);
          return;
        }
        chunks.push(chunk);
        size += chunk.length;
      });
      response.on('end', () => finish(false));
      response.on('error', fail);
    });
    request.end(call.body);
  });
}

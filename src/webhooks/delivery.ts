import { createHmac } from 'node:crypto';
import type { OutboundPolicy } from '../outbound/policy.js';
import { OutboundFailure, outboundRequest } from '../outbound/request.js';
import { maskCredentials } from '../outbound/urls.js';

/**
 * Retry timing: attempt n waits about base·2^(n-1), capped, with jitter so that many failing
 * deliveries do not retry in lockstep. Tests shorten `baseDelayMs` instead of sleeping.
 */
export const deliveryTiming = {
  baseDelayMs: 1_000,
  maxDelayMs: 5 * 60_000,
};

/** Consecutive failures after which a webhook is disabled. */
export const MAX_CONSECUTIVE_FAILURES = 10;

/** How long to wait before retrying after `failures` failed attempts (≥ 1): half fixed, half random. */
export function retryDelayMs(failures: number): number {
  const full = Math.min(deliveryTiming.maxDelayMs, deliveryTiming.baseDelayMs * 2 ** Math.min(failures - 1, 30));
  return Math.round(full / 2 + Math.random() * (full / 2));
}

/**
 * `X-Koor-Signature`: the hex HMAC-SHA256 of the body, which is what Go Koor sends and its
 * receivers check. It says nothing about when the delivery was made, so a captured one can be
 * replayed; `signDeliveryAt` is the replay-safe one.
 */
export function signBody(secret: string, body: string): string {
  return createHmac('sha256', secret).update(body).digest('hex');
}

/**
 * `X-Koor-Signature-256`: `t=<unix seconds>,v1=<hex HMAC-SHA256 of t + "." + body>`. Receivers
 * recompute it and refuse an old `t`, so a captured delivery cannot be replayed later.
 */
export function signDeliveryAt(secret: string, unixSeconds: number, body: string): string {
  const mac = createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex');
  return `t=${unixSeconds},v1=${mac}`;
}

/**
 * The JSON POSTed for an event: `{event_id, id, topic, data, source, created_at}`. Go Koor
 * receivers read `event_id`; `id` is the same number, as in every other event Koor shows.
 * `eventJson` is the event's own JSON (`{"id":…}`), extended as text rather than parsed again:
 * events may carry megabytes of data.
 */
export function deliveryBody(eventId: number, eventJson: string): string {
  if (!eventJson.startsWith('{')) throw new Error('an event is a JSON object');
  return `{"event_id":${eventId},${eventJson.slice(1)}`;
}

export interface DeliveryTarget {
  url: string;
  secret: string;
}

export interface DeliveryAttempt {
  topic: string;
  eventId: number;
  /** The event's JSON (`{"id":…}`); what is sent and signed is `deliveryBody` of it. */
  body: string;
}

export type DeliveryResult =
  | { ok: true; status: number }
  | { ok: false; error: string; aborted?: boolean; /** The outbound policy refused the address. */ denied?: boolean };

/**
 * POSTs one event to a webhook, within the outbound policy. Resolves (never rejects) with what
 * happened: only a 2xx answer is a delivery; anything else, a redirect (never followed), a
 * refused connection, an address the policy denies, or the timeout is a failure.
 */
export async function sendDelivery(
  target: DeliveryTarget,
  attempt: DeliveryAttempt,
  options: { policy: OutboundPolicy; timeoutMs: number; userAgent: string; signal?: AbortSignal },
): Promise<DeliveryResult> {
  const body = deliveryBody(attempt.eventId, attempt.body);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': options.userAgent,
    // Go Koor sends the literal "true" here; the topic has its own header.
    'x-koor-event': 'true',
    'x-koor-topic': attempt.topic,
    'x-koor-delivery': String(attempt.eventId),
  };
  if (target.secret) {
    headers['x-koor-signature'] = signBody(target.secret, body);
    headers['x-koor-signature-256'] = signDeliveryAt(target.secret, Math.floor(Date.now() / 1000), body);
  }
  const shown = maskCredentials(target.url);
  let url: URL;
  try {
    url = new URL(target.url);
  } catch {
    return { ok: false, error: `invalid url ${shown}` };
  }
  // Basic credentials in the URL are sent as the Authorization header, as fetch did.
  if (url.username || url.password) {
    const user = decodeURIComponent(url.username);
    const password = decodeURIComponent(url.password);
    headers.authorization = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
    url.username = '';
    url.password = '';
  }
  try {
    const answer = await outboundRequest(options.policy, url, { method: 'POST', headers, body, timeoutMs: options.timeoutMs, signal: options.signal });
    if (answer.status >= 200 && answer.status < 300) return { ok: true, status: answer.status };
    if (answer.status >= 300 && answer.status < 400) {
      return { ok: false, error: `receiver answered ${answer.status}, a redirect${answer.location ? ` to ${maskCredentials(answer.location)}` : ''}; redirects are not followed` };
    }
    return { ok: false, error: `receiver answered ${answer.status}` };
  } catch (err) {
    if (!(err instanceof OutboundFailure)) throw err;
    switch (err.kind) {
      case 'aborted':
        return { ok: false, error: 'server shutting down', aborted: true };
      case 'denied':
        return { ok: false, error: `${shown} is denied by the outbound policy (${err.message})`, denied: true };
      case 'timeout':
        return { ok: false, error: `no answer within ${options.timeoutMs} ms` };
      default:
        return { ok: false, error: `cannot reach ${shown}: ${err.message}` };
    }
  }
}

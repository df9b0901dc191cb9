import { createHmac } from 'node:crypto';

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

export type DeliveryResult = { ok: true; status: number } | { ok: false; error: string; aborted?: boolean };

/**
 * POSTs one event to a webhook. Resolves (never rejects) with what happened: only a 2xx answer
 * is a delivery; anything else, a refused connection or the timeout is a failure.
 */
export async function sendDelivery(
  target: DeliveryTarget,
  attempt: DeliveryAttempt,
  options: { timeoutMs: number; userAgent: string; signal?: AbortSignal },
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
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([timeout, options.signal]) : timeout;
  try {
    const response = await fetch(target.url, { method: 'POST', headers, body, signal, redirect: 'manual' });
    // The answer's body is of no interest; release the connection.
    await response.body?.cancel().catch(() => undefined);
    if (response.status >= 200 && response.status < 300) return { ok: true, status: response.status };
    return { ok: false, error: `receiver answered ${response.status}` };
  } catch (err) {
    if (options.signal?.aborted) return { ok: false, error: 'server shutting down', aborted: true };
    if (timeout.aborted) return { ok: false, error: `no answer within ${options.timeoutMs} ms` };
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    return { ok: false, error: `cannot reach ${target.url}: ${cause?.code ?? cause?.message ?? (err as Error).message}` };
  }
}

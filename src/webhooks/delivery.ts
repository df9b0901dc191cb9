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

/** `sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>`: what receivers recompute to verify. */
export function signDelivery(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export interface DeliveryTarget {
  url: string;
  secret: string;
}

export interface DeliveryAttempt {
  topic: string;
  eventId: number;
  /** The event JSON, sent as is (and signed as is). */
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
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': options.userAgent,
    'x-koor-event': attempt.topic,
    'x-koor-delivery': String(attempt.eventId),
  };
  if (target.secret) {
    const timestamp = String(Math.floor(Date.now() / 1000));
    headers['x-koor-timestamp'] = timestamp;
    headers['x-koor-signature'] = signDelivery(target.secret, timestamp, attempt.body);
  }
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([timeout, options.signal]) : timeout;
  try {
    const response = await fetch(target.url, { method: 'POST', headers, body: attempt.body, signal, redirect: 'manual' });
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

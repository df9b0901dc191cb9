/** What `/health` did while a hostile request ran. */
export interface ProbeReport<T> {
  /** The hostile request's own outcome. */
  result: T;
  /** Probes that answered 200 `{status:"ok"}` before the hostile request finished. */
  answeredWhileRunning: number;
  /** Probes that failed (a non-200, a reset, a wrong body). */
  failed: string[];
  /** The slowest probe, in milliseconds (reported, never asserted: machines differ). */
  slowestMs: number;
}

/**
 * Asks `GET /health` again and again, one probe at a time, while `hostile` runs; stops when it
 * settles. A server whose event loop is held answers no probe until the hostile work is done,
 * so `answeredWhileRunning` is 0 then, whatever the machine's speed.
 */
export async function probeHealthDuring<T>(url: string, hostile: Promise<T>): Promise<ProbeReport<T>> {
  let done = false;
  const settled = hostile.finally(() => {
    done = true;
  });
  let answeredWhileRunning = 0;
  let slowestMs = 0;
  const failed: string[] = [];
  // Let the hostile request reach the server before the first probe.
  await new Promise((resolve) => setTimeout(resolve, 50));
  while (!done) {
    const started = performance.now();
    try {
      const res = await fetch(`${url}/health`);
      const body = (await res.json()) as { status?: string };
      if (res.status !== 200 || body.status !== 'ok') failed.push(`${res.status} ${JSON.stringify(body)}`);
      else if (!done) answeredWhileRunning++;
    } catch (err) {
      failed.push(String(err));
    }
    slowestMs = Math.max(slowestMs, performance.now() - started);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return { result: await settled, answeredWhileRunning, failed, slowestMs: Math.round(slowestMs) };
}

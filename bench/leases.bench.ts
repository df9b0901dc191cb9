// Leases at scale (issue 18): 1 000 active leases over a 10 000-file repository, next to a
// state GET (2 KB) measured in the same run with the same load. Each acquire checks its
// resources against every active lease of the project, and a check answers which leases stand
// in the way of a list of paths, both without ever listing files.
//
// Figures are medians over interleaved rounds (state GET, check, acquire+release, …), so load
// from other processes shifts them alike. The server runs as its own koor-server process: the
// acquire-then-release sequence needs autocannon's request hooks, which cannot cross into its
// worker thread, so the load generator runs on this process's event loop instead.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { median, pairedRatio, ratioText, spreadText, startServerProcess, type Bench } from './common.js';

const CONNECTIONS = 8;
const AGENTS = 50;

// The repository: pkg00…pkg99, each with src/mod00.ts … src/mod99.ts (10 000 files).
const pkg = (n: number) => `pkg${String(n).padStart(2, '0')}`;

/**
 * Lease i of 1 000: 800 exclusive globs of ten files each (`pkg42/src/mod3?.ts`, tens digits
 * 0–7), and 200 shared globs without a fixed beginning (`**\/mod9?.ts` and the like), the
 * costliest kind to compare. None conflict, so all are granted.
 */
function leaseResources(i: number): string[] {
  if (i < 800) return [`${pkg(i % 100)}/src/mod${Math.floor(i / 100)}?.ts`];
  return [`**/mod9${i % 10}.${['ts', 'md'][i % 2]}`, `**/${pkg(i % 100)}-notes-${i}/*`];
}

interface Figures {
  requests: number;
  p50: number;
  p99: number;
  errors: number;
}

/** One round on this process's event loop (no worker: the acquire→release hooks cannot cross). */
async function measure(options: autocannon.Options, seconds: number): Promise<Figures> {
  const result = await autocannon({ connections: CONNECTIONS, duration: seconds, pipelining: 1, ...options } as autocannon.Options);
  return { requests: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, errors: result.errors + result.timeouts + result.non2xx };
}

const medianFigures = (rounds: Figures[]): Figures => ({
  requests: median(rounds.map((r) => r.requests)),
  p50: median(rounds.map((r) => r.p50)),
  p99: median(rounds.map((r) => r.p99)),
  errors: rounds.reduce((sum, r) => sum + r.errors, 0),
});

async function post(url: string, body: unknown, token?: string): Promise<any> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token) headers['x-koor-instance-token'] = token;
  const response = await fetch(url, { method: 'POST', headers, body: JSON.stringify(body) });
  if (!response.ok) throw new Error(`${url}: ${response.status} ${await response.text()}`);
  return response.json();
}

export async function run({ report, target, options }: Bench): Promise<void> {
  const ROUNDS = options.rounds;
  const ROUND_S = options.roundSeconds;
  const dataDir = mkdtempSync(join(tmpdir(), 'koor-bench-leases-'));
  const server = await startServerProcess(dataDir);
  try {
    const base = server.url;
    const value = JSON.stringify({ plan: 'x'.repeat(2000) });
    await fetch(`${base}/api/state/bench/plan`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: value });

    const agents: Array<{ token: string }> = [];
    for (let i = 0; i < AGENTS; i++) agents.push(await post(`${base}/api/instances/register`, { name: `agent-${i}` }));
    for (let i = 0; i < 1000; i++) {
      await post(`${base}/api/leases`, { resources: leaseResources(i), mode: i < 800 ? 'exclusive' : 'shared', ttl: '1h' }, agents[i % AGENTS]!.token);
    }
    const checker = (await post(`${base}/api/instances/register`, { name: 'checker' })).token as string;
    const headers = { 'content-type': 'application/json', 'x-koor-instance-token': checker };

    // One path that one lease covers; a change touching 100 files across the repository.
    const onePath = JSON.stringify({ paths: ['pkg42/src/mod31.ts'] });
    const hundred = JSON.stringify({ paths: Array.from({ length: 100 }, (_, k) => `${pkg(k)}/src/mod${String((k * 37) % 100).padStart(2, '0')}.ts`) });
    const getState: autocannon.Options = { url: `${base}/api/state/bench/plan` } as autocannon.Options;
    const checkOne: autocannon.Options = { url: `${base}/api/leases/check`, method: 'POST', headers, body: onePath } as autocannon.Options;
    const checkHundred: autocannon.Options = { url: `${base}/api/leases/check`, method: 'POST', headers, body: hundred } as autocannon.Options;
    // Acquire a file nobody holds (pkgNN/src/mod8Y.ts: a fresh one each time), then release it.
    let next = 0;
    const cycle: autocannon.Options = {
      url: base,
      headers,
      requests: [
        {
          method: 'POST',
          path: '/api/leases',
          setupRequest: (request: Record<string, unknown>) => {
            const n = next++ % 1000;
            return { ...request, body: JSON.stringify({ resources: [`${pkg(n % 100)}/src/mod8${Math.floor(n / 100)}.ts`] }) };
          },
          onResponse: (_status: number, body: string, context: Record<string, unknown>) => {
            context.lease = (JSON.parse(body) as { id: string }).id;
          },
        },
        {
          method: 'DELETE',
          setupRequest: (request: Record<string, unknown>, context: Record<string, unknown>) => ({ ...request, path: `/api/leases/${context.lease as string}`, body: undefined, headers: { 'x-koor-instance-token': checker } }),
        },
      ],
    } as unknown as autocannon.Options;

    const checked = (await post(`${base}/api/leases/check`, JSON.parse(onePath), checker)) as { conflicts: unknown[] };
    const checkedMany = (await post(`${base}/api/leases/check`, JSON.parse(hundred), checker)) as { conflicts: unknown[] };

    for (const load of [getState, checkOne, checkHundred, cycle]) await measure(load, ROUND_S);
    const rounds: Record<'get' | 'one' | 'hundred' | 'cycle', Figures[]> = { get: [], one: [], hundred: [], cycle: [] };
    for (let round = 0; round < ROUNDS; round++) {
      rounds.get.push(await measure(getState, ROUND_S));
      rounds.one.push(await measure(checkOne, ROUND_S));
      rounds.hundred.push(await measure(checkHundred, ROUND_S));
      rounds.cycle.push(await measure(cycle, ROUND_S));
    }
    const get = medianFigures(rounds.get);
    const one = medianFigures(rounds.one);
    const many = medianFigures(rounds.hundred);
    const cycles = medianFigures(rounds.cycle);

    const line = (name: string, f: Figures, perSecond = f.requests) =>
      `${name.padEnd(30)} ${perSecond.toFixed(0).padStart(6)}/s  p50 ${f.p50.toFixed(2).padStart(6)} ms  p99 ${f.p99.toFixed(2).padStart(6)} ms` +
      `  = ${(perSecond / get.requests).toFixed(2)}× the GET's rate, p99 ${(f.p99 / Math.max(get.p99, 0.01)).toFixed(1)}× its p99` +
      (f.errors ? `  (${f.errors} errors)` : '');

    report(`1 000 active leases (800 exclusive, 200 shared without a fixed beginning) over a 10 000-file tree; ${CONNECTIONS} connections, median of ${ROUNDS} rounds of ${ROUND_S} s`);
    report(`${'GET /api/state/{key} (base)'.padEnd(30)} ${get.requests.toFixed(0).padStart(6)}/s  p50 ${get.p50.toFixed(2).padStart(6)} ms  p99 ${get.p99.toFixed(2).padStart(6)} ms`);
    report(`${line('check, 1 path', one)}  (${checked.conflicts.length} conflict)`);
    report(`${line('check, 100 paths', many)}  (${checkedMany.conflicts.length} conflicts)`);
    report(line('acquire + release (cycles)', cycles, cycles.requests / 2));

    // Round by round, so that both sides of each ratio shared the machine's load of the moment.
    const p99s = (list: Figures[]) => list.map((f) => Math.max(f.p99, 1));
    const checkP99 = pairedRatio(p99s(rounds.one), p99s(rounds.get));
    target({
      name: 'lease check p99 (1 path, 1 000 leases) ÷ state GET p99',
      ratio: checkP99.median,
      goal: 3,
      kind: 'max',
      detail: `${one.p99} ms vs ${get.p99} ms, ${spreadText(checkP99)}`,
    });
    const cycleRate = pairedRatio(rounds.cycle.map((f) => f.requests / 2), rounds.get.map((f) => f.requests));
    report(`acquire + release cycles ÷ state GETs: ${ratioText(cycleRate.median)} (${spreadText(cycleRate)}; each cycle is two durable commits)`);
  } finally {
    server.child.kill('SIGTERM');
    await new Promise((resolve) => server.child.once('exit', resolve));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

// State store throughput and latency at 32 connections with a 2 KB JSON value, next to a bare
// node:http server answering the same 2 KB body (the baseline), all measured in this run.
// Targets (issue 2): GET >= 60 % of the baseline's req/s, PUT >= 30 %, GET p99 < 5 ms.
// PUT is measured twice: with the default synchronous=FULL (a commit survives a power loss)
// and on a second server with --sqlite-synchronous normal, to show what durability costs.
//
// The three targets are measured in interleaved rounds (baseline, GET, PUT, baseline, …) and
// each figure is the median over the rounds, so that load from other processes on the machine
// shifts all three alike instead of whichever ran at a bad moment. autocannon runs in its own
// worker thread, so the load generator does not share the server's event loop.
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import autocannon from 'autocannon';
import { buildApp } from '../src/server/app.js';

type Report = (line: string) => void;

const CONNECTIONS = 32;
const ROUNDS = Number(process.env.KOOR_BENCH_ROUNDS ?? 7);
/** Seconds per target and round: 7 rounds of 1 s = about 7 s per target. */
const ROUND_S = Number(process.env.KOOR_BENCH_ROUND_SECONDS ?? 1);
const KEY = 'bench/team-plan';

/** A 2 KB JSON document like an agent's plan. */
function twoKilobyteJson(): string {
  const tasks: Array<{ id: number; title: string; done: boolean }> = [];
  let doc = '';
  for (let i = 0; ; i++) {
    tasks.push({ id: i, title: `task number ${i} for the backend agent`, done: i % 3 === 0 });
    const next = JSON.stringify({ project: 'truck-wash', owner: 'backend', tasks });
    if (next.length > 2048) break;
    doc = next;
  }
  return doc.padEnd(2048, ' ');
}

interface Figures {
  requests: number;
  p50: number;
  p99: number;
  errors: number;
}

async function measure(url: string, options: Partial<autocannon.Options> = {}, seconds = ROUND_S): Promise<Figures> {
  const result = await autocannon({ url, connections: CONNECTIONS, duration: seconds, pipelining: 1, workers: 1, ...options } as autocannon.Options);
  return {
    requests: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts + result.non2xx,
  };
}

/**
 * A second between a write round and the next: the server copies what the writes left in
 * SQLite's write-ahead log into the database file in a background thread, and that work
 * belongs to the PUT figure, not to whichever round happens to come next.
 */
const settle = () => new Promise((resolve) => setTimeout(resolve, 1000));

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

function medianFigures(rounds: Figures[]): Figures {
  return {
    requests: median(rounds.map((r) => r.requests)),
    p50: median(rounds.map((r) => r.p50)),
    p99: median(rounds.map((r) => r.p99)),
    errors: rounds.reduce((sum, r) => sum + r.errors, 0),
  };
}

const listen = (server: Server) =>
  new Promise<string>((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));

export async function run(report: Report): Promise<void> {
  const body = twoKilobyteJson();
  const bytes = Buffer.from(body);

  const bare = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': bytes.length });
    res.end(bytes);
  });
  const bareUrl = await listen(bare);
  const dataDir = mkdtempSync(join(tmpdir(), 'koor-bench-'));
  const fastDataDir = mkdtempSync(join(tmpdir(), 'koor-bench-normal-'));
  const app = await buildApp({ dataDir, dashboardBind: '', logLevel: 'silent' });
  const fast = await buildApp({ dataDir: fastDataDir, dashboardBind: '', logLevel: 'silent', sqliteSynchronous: 'normal' });
  try {
    const putOptions = { method: 'PUT' as const, headers: { 'content-type': 'application/json' }, body };
    const keyUrl = async (server: typeof app) => {
      await server.listen({ host: '127.0.0.1', port: 0 });
      const url = `http://127.0.0.1:${(server.server.address() as AddressInfo).port}/api/state/${KEY}`;
      await fetch(url, putOptions);
      return url;
    };
    const url = await keyUrl(app);
    const fastUrl = await keyUrl(fast);

    // Warm-up, then interleaved rounds.
    await measure(bareUrl);
    await measure(url);
    await measure(url, putOptions);
    await measure(fastUrl, putOptions);
    await settle();
    const rounds: Record<'bare' | 'get' | 'put' | 'putNormal', Figures[]> = { bare: [], get: [], put: [], putNormal: [] };
    for (let round = 0; round < ROUNDS; round++) {
      rounds.bare.push(await measure(bareUrl));
      rounds.get.push(await measure(url));
      rounds.put.push(await measure(url, putOptions));
      await settle();
      rounds.putNormal.push(await measure(fastUrl, putOptions));
      await settle();
    }
    const baseline = medianFigures(rounds.bare);
    const get = medianFigures(rounds.get);
    const put = medianFigures(rounds.put);
    const putNormal = medianFigures(rounds.putNormal);

    const line = (name: string, f: Figures, ratio?: number) =>
      `${name.padEnd(22)} ${f.requests.toFixed(0).padStart(7)} req/s  p50 ${f.p50.toFixed(2).padStart(6)} ms  p99 ${f.p99.toFixed(2).padStart(6)} ms` +
      (ratio === undefined ? '' : `  ${(ratio * 100).toFixed(0).padStart(3)} % of baseline`) +
      (f.errors ? `  (${f.errors} errors)` : '');
    const verdict = (ok: boolean) => (ok ? 'PASS' : 'MISS');
    const getRatio = get.requests / baseline.requests;
    const putRatio = put.requests / baseline.requests;
    // The same ratio round by round: how far apart neighbouring rounds land on this machine.
    const spread = (list: Figures[]) => {
      const ratios = list.map((f, i) => (f.requests / rounds.bare[i]!.requests) * 100).sort((a, b) => a - b);
      return `rounds ${ratios[0]!.toFixed(0)}–${ratios[ratios.length - 1]!.toFixed(0)} %`;
    };

    report(`${CONNECTIONS} connections, 2 KB JSON value, median of ${ROUNDS} interleaved rounds of ${ROUND_S} s each`);
    report(line('bare node:http (base)', baseline));
    report(`${line('GET /api/state/{key}', get, getRatio)}  (${spread(rounds.get)})`);
    report(`${line('PUT /api/state/{key}', put, putRatio)}  (${spread(rounds.put)})`);
    report(`${line('PUT, synchronous=normal', putNormal, putNormal.requests / baseline.requests)}  (${spread(rounds.putNormal)})`);
    const fullToNormal = rounds.put.map((f, i) => f.requests / rounds.putNormal[i]!.requests).sort((a, b) => a - b);
    report(
      `synchronous=full PUT throughput = ${(put.requests / putNormal.requests).toFixed(2)}× synchronous=normal ` +
        `(rounds ${fullToNormal[0]!.toFixed(2)}–${fullToNormal[fullToNormal.length - 1]!.toFixed(2)})`,
    );
    report(`${verdict(getRatio >= 0.6)} GET throughput >= 60 % of baseline (${(getRatio * 100).toFixed(0)} %)`);
    report(`${verdict(putRatio >= 0.3)} PUT throughput >= 30 % of baseline (${(putRatio * 100).toFixed(0)} %)`);
    report(`${verdict(get.p99 < 5)} GET p99 < 5 ms (${get.p99.toFixed(2)} ms)`);
  } finally {
    await app.close();
    await fast.close();
    rmSync(fastDataDir, { recursive: true, force: true });
    await new Promise((resolve) => bare.close(resolve));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

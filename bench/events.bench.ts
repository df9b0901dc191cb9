// Event bus figures (issue 3), all measured in this run on this machine:
//
// 1. Publish throughput: autocannon POSTs to /api/events/publish (32 connections) next to a
//    bare node:http server that reads the same body and answers a small JSON (the baseline),
//    in interleaved rounds, medians reported.
// 2. Publish→receive latency: the server runs in its own process; this process holds the
//    WebSocket subscribers and publishes at a steady rate over keep-alive HTTP, timing each
//    event from the moment its POST starts until each subscriber has parsed it.
//    100 subscribers at 1 000 events/s (target p99 < 10 ms), then 1 000 subscribers at 100
//    events/s, with the server's resident memory read from /proc (target < 200 MB).
// 3. The latency floor: the same 100-subscriber run against bare-broadcast.ts, a server that
//    only relays each POST to every socket, before and after koor-server's run.
import { createServer, Agent, request, type Server } from 'node:http';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import autocannon from 'autocannon';
import WebSocket from 'ws';
import { buildApp } from '../src/server/app.js';

type Report = (line: string) => void;

const CONNECTIONS = 32;
const ROUNDS = 3;
const ROUND_S = Number(process.env.KOOR_BENCH_ROUND_SECONDS ?? 1);
const LATENCY_S = Number(process.env.KOOR_BENCH_LATENCY_SECONDS ?? 5);
const PUBLISH_BODY = JSON.stringify({ topic: 'bench.tick', data: { agent: 'backend', step: 'compile', ok: true } });

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const percentile = (sorted: Float64Array, p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const listen = (server: Server) =>
  new Promise<string>((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));

interface Figures {
  requests: number;
  p50: number;
  p99: number;
  errors: number;
}

async function measure(url: string, seconds = ROUND_S): Promise<Figures> {
  const result = await autocannon({
    url,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: PUBLISH_BODY,
    connections: CONNECTIONS,
    duration: seconds,
    workers: 1,
  } as autocannon.Options);
  return { requests: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, errors: result.errors + result.timeouts + result.non2xx };
}

async function publishThroughput(report: Report): Promise<void> {
  const bare = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      const parsed = JSON.parse(body) as { topic: string };
      const answer = JSON.stringify({ id: 1, topic: parsed.topic, data: null, source: '', created_at: new Date().toISOString() });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(answer) });
      res.end(answer);
    });
  });
  const bareUrl = await listen(bare);
  const dataDir = mkdtempSync(join(tmpdir(), 'koor-bench-'));
  const app = await buildApp({ dataDir, dashboardBind: '', logLevel: 'silent', pruneIntervalMs: 1000 });
  try {
    await app.listen({ host: '127.0.0.1', port: 0 });
    const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/api/events/publish`;
    await measure(bareUrl);
    await measure(url);
    const rounds = { bare: [] as Figures[], publish: [] as Figures[] };
    for (let round = 0; round < ROUNDS; round++) {
      rounds.bare.push(await measure(bareUrl));
      rounds.publish.push(await measure(url));
    }
    const pick = (list: Figures[]): Figures => ({
      requests: median(list.map((f) => f.requests)),
      p50: median(list.map((f) => f.p50)),
      p99: median(list.map((f) => f.p99)),
      errors: list.reduce((n, f) => n + f.errors, 0),
    });
    const base = pick(rounds.bare);
    const publish = pick(rounds.publish);
    const line = (name: string, f: Figures, ratio?: number) =>
      `${name.padEnd(26)} ${f.requests.toFixed(0).padStart(7)} req/s  p50 ${f.p50.toFixed(2).padStart(6)} ms  p99 ${f.p99.toFixed(2).padStart(6)} ms` +
      (ratio === undefined ? '' : `  ${(ratio * 100).toFixed(0).padStart(3)} % of baseline`) +
      (f.errors ? `  (${f.errors} errors)` : '');
    report(`publish: ${CONNECTIONS} connections, median of ${ROUNDS} interleaved rounds of ${ROUND_S} s`);
    report(line('bare node:http (base)', base));
    report(line('POST /api/events/publish', publish, publish.requests / base.requests));
  } finally {
    await app.close();
    await new Promise((resolve) => bare.close(resolve));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Starts a server script in its own process (compiled when benchmarking dist/, via tsx from source). */
async function startProcess(script: string, args: (port: number) => string[]): Promise<{ child: ChildProcess; url: string }> {
  const fromSource = import.meta.url.endsWith('.ts');
  const file = fileURLToPath(new URL(`${script}.${fromSource ? 'ts' : 'js'}`, import.meta.url));
  const probe = createServer();
  const port = Number(new URL(await listen(probe)).port);
  await new Promise((resolve) => probe.close(resolve));
  const child = spawn(process.execPath, [...(fromSource ? ['--import', import.meta.resolve('tsx')] : []), file, ...args(port)], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${url}/health`)).ok) return { child, url };
    } catch {
      if (i > 300) throw new Error(`${script} did not start`);
    }
    await sleep(50);
  }
}

const startServerProcess = (dataDir: string) =>
  startProcess('../src/bin/koor-server', (port) => ['--bind', `127.0.0.1:${port}`, '--dashboard-bind', '', '--data-dir', dataDir, '--log-level', 'warn']);

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

/** CPU seconds a process has used so far (Linux; clock ticks are 100 per second there). */
function cpuSeconds(pid: number): number | null {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

function rssMegabytes(pid: number): number | null {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : null;
  } catch {
    return null;
  }
}

interface LatencyRun {
  subscribers: number;
  rate: number;
  published: number;
  samples: Float64Array;
  missing: number;
  rssIdle: number | null;
  rssConnected: number | null;
  rssPeak: number | null;
  /** Share of one core used while measuring, by the server and by this (client) process. */
  serverCpu: number | null;
  clientCpu: number;
}

export async function publishReceiveLatency(url: string, pid: number, subscribers: number, rate: number): Promise<LatencyRun> {
  const rssIdle = rssMegabytes(pid);
  const sentAt: number[] = [];
  const samples: number[] = [];
  let measuring = false;
  // Events numbered in [measureFrom, measureTo) are timed: those published after the warm-up.
  let measureFrom = Infinity;
  let measureTo = Infinity;
  const sockets: WebSocket[] = [];
  const wsUrl = `${url.replace('http', 'ws')}/api/events/subscribe?pattern=bench.*`;
  for (let i = 0; i < subscribers; i += 50) {
    await Promise.all(Array.from({ length: Math.min(50, subscribers - i) }, () => new Promise<void>((resolve, reject) => {
      const ws = new WebSocket(wsUrl, { perMessageDeflate: false });
      ws.on('message', (data) => {
        const event = JSON.parse(String(data)) as { data?: { n: number } };
        const n = event.data?.n;
        if (n !== undefined && n >= measureFrom && n < measureTo) samples.push(performance.now() - sentAt[n]!);
      });
      ws.once('open', () => resolve());
      ws.once('error', reject);
      sockets.push(ws);
    })));
  }
  await sleep(200);
  const rssConnected = rssMegabytes(pid);
  let rssPeak = rssConnected;

  // A steady rate: about every millisecond (as often as timers fire), publish the events due by
  // then, over a pool of keep-alive sockets. Coarser ticks would publish in bursts, which the
  // server would store and send together, flattering its CPU use and hurting the latency.
  const agent = new Agent({ keepAlive: true, maxSockets: 32 });
  const send = (n: number) => new Promise<void>((resolve) => {
    const body = JSON.stringify({ topic: 'bench.tick', data: { n } });
    sentAt[n] = performance.now();
    const req = request(`${url}/api/events/publish`, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on('end', () => resolve());
    });
    req.on('error', () => resolve());
    req.end(body);
  });
  const inFlight = new Set<Promise<void>>();
  const warmupMs = 1000;
  const start = performance.now();
  let published = 0;
  let firstMeasured = -1;
  let rssReadAt = 0;
  let cpuStart = { server: cpuSeconds(pid), client: process.cpuUsage(), at: performance.now() };
  while (performance.now() - start < warmupMs + LATENCY_S * 1000) {
    const elapsed = performance.now() - start;
    if (!measuring && elapsed >= warmupMs) {
      measuring = true;
      firstMeasured = published;
      measureFrom = published;
      cpuStart = { server: cpuSeconds(pid), client: process.cpuUsage(), at: performance.now() };
    }
    const due = Math.floor((elapsed / 1000) * rate);
    while (published < due) {
      const p = send(published++);
      inFlight.add(p);
      void p.then(() => inFlight.delete(p));
    }
    if (performance.now() - rssReadAt >= 10) {
      rssReadAt = performance.now();
      const rss = rssMegabytes(pid);
      if (rss !== null && (rssPeak === null || rss > rssPeak)) rssPeak = rss;
    }
    await sleep(1);
  }
  measureTo = published;
  const wall = (performance.now() - cpuStart.at) / 1000;
  const serverEnd = cpuSeconds(pid);
  const clientUsed = process.cpuUsage(cpuStart.client);
  const serverCpu = serverEnd !== null && cpuStart.server !== null ? (serverEnd - cpuStart.server) / wall : null;
  const clientCpu = (clientUsed.user + clientUsed.system) / 1e6 / wall;
  await Promise.all(inFlight);
  const expected = (published - firstMeasured) * subscribers;
  // Let deliveries still on their way arrive (a backlog shows up as latency, not as loss).
  for (let waited = 0; samples.length < expected && waited < 30_000; waited += 100) await sleep(100);
  for (const ws of sockets) ws.terminate();
  agent.destroy();
  const sorted = Float64Array.from(samples).sort();
  return { subscribers, rate, published: published - firstMeasured, samples: sorted, missing: Math.max(0, expected - samples.length), rssIdle, rssConnected, rssPeak, serverCpu, clientCpu };
}

/** The floor's 100-subscriber run: the same clients and rate against bare-broadcast.ts. */
async function floorRun(): Promise<LatencyRun> {
  const { child, url } = await startProcess('bare-broadcast', (port) => [String(port)]);
  try {
    return await publishReceiveLatency(url, child.pid!, 100, 1000);
  } finally {
    await stopProcess(child);
  }
}

export async function run(report: Report): Promise<void> {
  await publishThroughput(report);

  const dataDir = mkdtempSync(join(tmpdir(), 'koor-bench-'));
  const { child, url } = await startServerProcess(dataDir);
  try {
    const mb = (value: number | null) => (value === null ? 'n/a' : `${value.toFixed(0)} MB`);
    const pct = (v: number | null) => (v === null ? 'n/a' : `${(v * 100).toFixed(0)} %`);
    const describe = (r: LatencyRun, name = 'WS subscribers', withMemory = true) => {
      const p50 = percentile(r.samples, 50);
      const p99 = percentile(r.samples, 99);
      report(
        `${String(r.subscribers).padStart(4)} ${name} @ ${r.rate} events/s for ${LATENCY_S} s: ` +
          `p50 ${p50.toFixed(2)} ms  p99 ${p99.toFixed(2)} ms  max ${r.samples[r.samples.length - 1]?.toFixed(1)} ms  ` +
          `(${r.samples.length} deliveries${r.missing ? `, ${r.missing} not received` : ''})`,
      );
      if (withMemory) report(`     server RSS: idle ${mb(r.rssIdle)}, subscribers connected ${mb(r.rssConnected)}, peak while publishing ${mb(r.rssPeak)}`);
      report(`     CPU (of one core): server ${pct(r.serverCpu)}, publisher+subscribers process ${pct(r.clientCpu)}`);
      return { p50, p99 };
    };
    const verdict = (ok: boolean) => (ok ? 'PASS' : 'MISS');
    report('latency: each server in its own process; publisher and subscribers in this process');
    // The floor runs before and after koor-server, so that a change in the machine's load
    // during the run shows up as a gap between the two floors.
    report('floor: bare-broadcast (node:http + ws, sends each event on arrival, stores nothing)');
    const floorBefore = describe(await floorRun(), 'subscribers, floor', false);
    const hundred = describe(await publishReceiveLatency(url, child.pid!, 100, 1000));
    const floorAfter = describe(await floorRun(), 'subscribers, floor', false);
    // 1 000 subscribers at 1 000 events/s would be a million frames a second; 100 events/s keeps
    // the fan-out volume of the first run (100 000 frames/s) with ten times the connections.
    const thousand = await publishReceiveLatency(url, child.pid!, 1000, 100);
    describe(thousand);
    const floorP99 = Math.min(floorBefore.p99, floorAfter.p99);
    report(`koor-server p99 is ${(hundred.p99 / floorP99).toFixed(2)}× the floor's (better of its two runs: ${floorP99.toFixed(2)} ms)`);
    report(`${verdict(hundred.p99 < 10)} p99 < 10 ms with 100 subscribers at 1000 events/s (${hundred.p99.toFixed(2)} ms; floor ${floorP99.toFixed(2)} ms)`);
    if (thousand.rssPeak !== null) report(`${verdict(thousand.rssPeak < 200)} server RSS < 200 MB with 1000 subscribers (peak ${mb(thousand.rssPeak)})`);
    report(`(load average during the run: ${loadavg().map((l) => l.toFixed(1)).join(' ')} on ${cpus().length} cores)`);
  } finally {
    await stopProcess(child);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

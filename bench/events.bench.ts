// Event bus figures, all measured in this run on this machine:
//
// 1. Publish throughput: autocannon POSTs to /api/events/publish (32 connections) next to a
//    bare node:http server that reads the same body and answers a small JSON (the floor), in
//    interleaved rounds, medians reported.
// 2. Publish→receive latency at 100 WebSocket subscribers and 1 000 events/s, against its
//    floor: bare-broadcast.ts, a server that only relays each POST to every socket. Both run in
//    their own processes; this process holds the subscribers and publishes at a steady rate
//    over keep-alive HTTP, timing each event from the moment its POST starts until each
//    subscriber has parsed it. Floor and koor-server alternate round by round; the target
//    (issue 17) is koor-server's p99 at most 2× the floor's (median of the per-round ratios).
// 3. 1 000 subscribers at 100 events/s, with the server's resident memory read from /proc.
import { createServer, Agent, request } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import WebSocket from 'ws';
import { buildApp } from '../src/server/app.js';
import {
  CONNECTIONS, cpuSeconds, figuresLine, listen, measure, median, medianFigures, pairedRatio, percentile, ratioText, rssMegabytes, sleep, spreadText,
  startScript, startServerProcess, stopProcess, type Bench, type Figures,
} from './common.js';

const PUBLISH_BODY = JSON.stringify({ topic: 'bench.tick', data: { agent: 'backend', step: 'compile', ok: true } });
const publishOptions = { method: 'POST' as const, headers: { 'content-type': 'application/json' }, body: PUBLISH_BODY };

async function publishThroughput(bench: Bench): Promise<void> {
  const { report, options } = bench;
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
    const seconds = options.roundSeconds;
    await measure(bareUrl, seconds, publishOptions);
    await measure(url, seconds, publishOptions);
    const rounds = { bare: [] as Figures[], publish: [] as Figures[] };
    for (let round = 0; round < options.rounds; round++) {
      rounds.bare.push(await measure(bareUrl, seconds, publishOptions));
      rounds.publish.push(await measure(url, seconds, publishOptions));
    }
    const base = medianFigures(rounds.bare);
    const publish = medianFigures(rounds.publish);
    report(`publish: ${CONNECTIONS} connections, median of ${options.rounds} interleaved rounds of ${seconds} s`);
    report(figuresLine('bare node:http (floor)', base));
    report(figuresLine('POST /api/events/publish', publish, `  ${ratioText(publish.requests / base.requests)} floor`));
  } finally {
    await app.close();
    await new Promise((resolve) => bare.close(resolve));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

interface LatencyRun {
  subscribers: number;
  rate: number;
  seconds: number;
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

export async function publishReceiveLatency(url: string, pid: number, subscribers: number, rate: number, seconds: number): Promise<LatencyRun> {
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
  while (performance.now() - start < warmupMs + seconds * 1000) {
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
  return { subscribers, rate, seconds, published: published - firstMeasured, samples: sorted, missing: Math.max(0, expected - samples.length), rssIdle, rssConnected, rssPeak, serverCpu, clientCpu };
}

export async function run(bench: Bench): Promise<void> {
  const { report, options } = bench;
  await publishThroughput(bench);

  // Latency rounds are longer than throughput rounds: a p99 wants samples.
  const seconds = Math.max(2, 2 * options.roundSeconds);
  const dataDir = mkdtempSync(join(tmpdir(), 'koor-bench-'));
  const koor = await startServerProcess(dataDir);
  const floor = await startScript('bare-broadcast', (port) => [String(port)]);
  try {
    const mb = (value: number | null) => (value === null ? 'n/a' : `${value.toFixed(0)} MB`);
    const pct = (v: number | null) => (v === null ? 'n/a' : `${(v * 100).toFixed(0)} %`);
    const cpu = (list: LatencyRun[]) => {
      const server = list.map((r) => r.serverCpu).filter((v): v is number => v !== null);
      return `CPU (of one core): server ${pct(server.length ? median(server) : null)}, publisher+subscribers process ${pct(median(list.map((r) => r.clientCpu)))}`;
    };
    const describe = (list: LatencyRun[], name: string) => {
      const p50 = median(list.map((r) => percentile(r.samples, 50)));
      const p99 = median(list.map((r) => percentile(r.samples, 99)));
      const p99s = list.map((r) => percentile(r.samples, 99).toFixed(1)).join(', ');
      const max = Math.max(...list.map((r) => r.samples[r.samples.length - 1] ?? 0));
      const deliveries = list.reduce((n, r) => n + r.samples.length, 0);
      const missing = list.reduce((n, r) => n + r.missing, 0);
      const first = list[0]!;
      report(
        `${name}: ${first.subscribers} subscribers @ ${first.rate} events/s, ${list.length}×${first.seconds} s: ` +
          `p50 ${p50.toFixed(2)} ms  p99 ${p99.toFixed(2)} ms (rounds ${p99s})  max ${max.toFixed(1)} ms  ` +
          `(${deliveries} deliveries${missing ? `, ${missing} not received` : ''})`,
      );
      report(`     ${cpu(list)}`);
      return { p50, p99 };
    };
    report('latency: each server in its own process; publisher and subscribers in this process');
    report('floor: bare-broadcast (node:http + ws, sends each event on arrival, stores nothing)');
    const runs = { floor: [] as LatencyRun[], koor: [] as LatencyRun[] };
    for (let round = 0; round < options.rounds; round++) {
      runs.floor.push(await publishReceiveLatency(floor.url, floor.child.pid!, 100, 1000, seconds));
      runs.koor.push(await publishReceiveLatency(koor.url, koor.child.pid!, 100, 1000, seconds));
    }
    const floorFigures = describe(runs.floor, 'floor      ');
    const koorFigures = describe(runs.koor, 'koor-server');
    const last = runs.koor[runs.koor.length - 1]!;
    report(`     koor-server RSS: idle ${mb(last.rssIdle)}, subscribers connected ${mb(last.rssConnected)}, peak while publishing ${mb(last.rssPeak)}`);
    // 1 000 subscribers at 1 000 events/s would be a million frames a second; 100 events/s keeps
    // the fan-out volume of the first run (100 000 frames/s) with ten times the connections.
    const thousand = await publishReceiveLatency(koor.url, koor.child.pid!, 1000, 100, seconds);
    describe([thousand], 'koor-server');
    report(`     koor-server RSS: idle ${mb(thousand.rssIdle)}, subscribers connected ${mb(thousand.rssConnected)}, peak while publishing ${mb(thousand.rssPeak)}`);
    report(`(load average during the run: ${loadavg().map((l) => l.toFixed(1)).join(' ')} on ${cpus().length} cores)`);
    const p99s = (list: LatencyRun[]) => list.map((r) => percentile(r.samples, 99));
    const paired = pairedRatio(p99s(runs.koor), p99s(runs.floor));
    report(`koor-server p99 ÷ floor p99, round by round: median ${ratioText(paired.median)} (${spreadText(paired)})`);
    bench.target({
      name: 'publish→receive p99 ÷ bare-broadcast p99',
      ratio: paired.median,
      goal: 2,
      kind: 'max',
      detail: `medians ${koorFigures.p99.toFixed(2)} ms vs ${floorFigures.p99.toFixed(2)} ms, ${spreadText(paired)}; 100 subscribers, 1000 events/s`,
    });
  } finally {
    await stopProcess(koor.child);
    await stopProcess(floor.child);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

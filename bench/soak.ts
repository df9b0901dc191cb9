// `npm run bench -- soak [--seconds 60] [--report-every 5] [--scale 1]`: koor-server in its own process under
// a steady mixed load for a while, to see that nothing piles up: memory, latency, errors.
//
// The load is open-loop (each route at a fixed rate, sent on schedule whether or not earlier
// requests have answered, so a server that falls behind shows it as latency, not as a slower
// client): state writes and reads, event publishes and history reads, MCP tool calls through
// the real SDK client (sessions are closed and opened again every 15 s, as agents come and
// go), /health; 100 WebSocket subscribers receive every published event, and two webhooks
// deliver them to a local receiver. The server's RSS is read from /proc every half second.
//
// At the end: p99 per route, errors, whether every event reached every subscriber and webhook,
// and whether memory levelled off: the slope of RSS (least squares) over the last third of the
// run against the first third, and the lowest RSS of the last third against the middle one's.
import { createServer, Agent, request, type IncomingMessage } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';
import WebSocket from 'ws';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { cpuSeconds, listen, reportedDurability, rssMegabytes, sleep, startServerProcess, stopProcess, twoKilobyteJson, type Report } from './common.js';

export interface SoakOptions {
  seconds: number;
  /** Seconds between two progress lines. */
  reportEvery: number;
  /** Multiplies every route's rate (`--scale 0.25` for a machine that cannot carry the full mix). */
  scale: number;
}

const SUBSCRIBERS = 100;
const STATE_KEYS = 50;
const MCP_CLIENTS = 4;
const MCP_SESSION_MS = 15_000;
/** Requests of one route still unanswered beyond which the client stops sending (and says so). */
const MAX_IN_FLIGHT = 512;
const PRUNE_INTERVAL = '10s';

/** Latency and errors of one route, for the whole run and for the current progress interval. */
class Route {
  readonly total: RecordableHistogram = createHistogram();
  interval: RecordableHistogram = createHistogram();
  sent = 0;
  errors = 0;
  /** Sends skipped because MAX_IN_FLIGHT requests were still waiting. */
  skipped = 0;
  inFlight = 0;
  lastError = '';
  constructor(readonly name: string, readonly short: string) {}

  record(ms: number): void {
    const micros = Math.max(1, Math.round(ms * 1000));
    this.total.record(micros);
    this.interval.record(micros);
  }

  fail(why: string): void {
    this.errors++;
    this.lastError = why;
  }
}

const p = (h: RecordableHistogram, percentile: number) => (h.count ? h.percentile(percentile) / 1000 : NaN);
const ms = (value: number) => (Number.isNaN(value) ? '  –  ' : value < 10 ? value.toFixed(2) : value.toFixed(1));

/** Least-squares slope of RSS in MB per minute over samples taken at `t` seconds. */
function slope(samples: Array<{ t: number; rss: number }>): number {
  const n = samples.length;
  if (n < 2) return NaN;
  const meanT = samples.reduce((s, x) => s + x.t, 0) / n;
  const meanR = samples.reduce((s, x) => s + x.rss, 0) / n;
  let num = 0;
  let den = 0;
  for (const x of samples) {
    num += (x.t - meanT) * (x.rss - meanR);
    den += (x.t - meanT) ** 2;
  }
  return den === 0 ? NaN : (num / den) * 60;
}

/** The webhook receiver: counts each delivery once (deliveries are at least once) and its lag. */
function startReceiver(route: Route) {
  const seen = new Map<string, Set<string>>();
  let duplicates = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      res.writeHead(200).end();
      const hook = String(req.url).slice(1);
      const delivery = String(req.headers['x-koor-delivery']);
      const ids = seen.get(hook) ?? new Set<string>();
      seen.set(hook, ids);
      if (ids.has(delivery)) {
        duplicates++;
        return;
      }
      ids.add(delivery);
      const event = JSON.parse(Buffer.concat(chunks).toString()) as { data?: { t?: number } };
      if (typeof event.data?.t === 'number') route.record(performance.now() - event.data.t);
    });
  });
  return { server, received: (hook: string) => seen.get(hook)?.size ?? 0, duplicates: () => duplicates };
}

/** A pool of MCP SDK clients, each replaced by a fresh session every MCP_SESSION_MS. */
class McpPool {
  private clients: Client[] = [];
  private instanceIds: string[] = [];
  /** Calls each client has not had answered yet: a replaced session ends once it has none. */
  private readonly pending = new Map<Client, number>();
  private turn = 0;
  sessionsOpened = 0;
  constructor(private readonly url: string) {}

  private async open(): Promise<Client> {
    const client = new Client({ name: 'koor-soak', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${this.url}/mcp`)));
    this.sessionsOpened++;
    this.pending.set(client, 0);
    return client;
  }

  async start(): Promise<void> {
    for (let i = 0; i < MCP_CLIENTS; i++) {
      const client = await this.open();
      const result = (await client.callTool({ name: 'register_instance', arguments: { name: `soak-agent-${i}`, workspace: 'soak' } })) as { content: Array<{ text?: string }> };
      const id = /id=(\S+)/.exec(result.content[0]?.text ?? '')?.[1];
      if (!id) throw new Error(`register_instance answered ${JSON.stringify(result)}`);
      this.clients.push(client);
      this.instanceIds.push(id);
    }
  }

  /** Replaces one client's session; the old one ends (DELETE /mcp) once its calls are answered. */
  async renew(i: number): Promise<void> {
    const fresh = await this.open();
    const old = this.clients[i]!;
    this.clients[i] = fresh;
    while ((this.pending.get(old) ?? 0) > 0) await sleep(50);
    await this.end(old);
  }

  private async end(client: Client): Promise<void> {
    this.pending.delete(client);
    const transport = client.transport as StreamableHTTPClientTransport | undefined;
    await transport?.terminateSession().catch(() => {});
    await client.close().catch(() => {});
  }

  /** The next call in turn: the three read/heartbeat tools an agent uses most. */
  async call(): Promise<string | null> {
    const i = this.turn++ % this.clients.length;
    const client = this.clients[i]!;
    const tool = ['discover_instances', 'get_endpoints', 'set_intent'][Math.floor(this.turn / MCP_CLIENTS) % 3]!;
    const args = tool === 'set_intent' ? { instance_id: this.instanceIds[i]!, intent: `soak step ${this.turn}` } : {};
    this.pending.set(client, (this.pending.get(client) ?? 0) + 1);
    try {
      const result = (await client.callTool({ name: tool, arguments: args })) as { isError?: boolean; content: Array<{ text?: string }> };
      return result.isError ? `${tool}: ${result.content[0]?.text ?? 'error'}` : null;
    } finally {
      this.pending.set(client, (this.pending.get(client) ?? 1) - 1);
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.pending.keys()].map((client) => this.end(client)));
  }
}

export async function run(report: Report, options: SoakOptions): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'koor-bench-soak-'));
  const routes = {
    put: new Route('PUT /api/state/{key}', 'PUT'),
    get: new Route('GET /api/state/{key}', 'GET'),
    publish: new Route('POST /api/events/publish', 'pub'),
    history: new Route('GET /api/events/history', 'hist'),
    mcp: new Route('MCP tools/call (SDK client)', 'mcp'),
    health: new Route('GET /health', 'health'),
    ws: new Route('publish → WebSocket receive', 'ws'),
    webhook: new Route('publish → webhook receive', 'hook'),
  };
  const receiver = startReceiver(routes.webhook);
  const receiverUrl = await listen(receiver.server);
  const server = await startServerProcess(dataDir, ['--prune-interval', PRUNE_INTERVAL]);
  const pid = server.child.pid!;
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const sockets: WebSocket[] = [];
  const mcp = new McpPool(server.url);
  let wsReceived = 0;
  let wsDropNotices = 0;
  try {
    const durability = (await reportedDurability(server.url)) ?? 'not reported by GET /api/metrics';
    // Two webhooks: one for half the published topics, one for all of them.
    const hooks = [
      { id: 'soak-build', url: `${receiverUrl}/soak-build`, patterns: ['soak.build.*'] },
      { id: 'soak-all', url: `${receiverUrl}/soak-all`, patterns: ['soak.**'] },
    ];
    for (const hook of hooks) {
      const res = await fetch(`${server.url}/api/webhooks`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(hook) });
      if (!res.ok) throw new Error(`could not register webhook ${hook.id}: ${res.status} ${await res.text()}`);
    }
    const wsUrl = `${server.url.replace('http', 'ws')}/api/events/subscribe?pattern=${encodeURIComponent('soak.**')}`;
    for (let i = 0; i < SUBSCRIBERS; i += 25) {
      await Promise.all(Array.from({ length: 25 }, () => new Promise<void>((resolve, reject) => {
        const ws = new WebSocket(wsUrl, { perMessageDeflate: false });
        ws.on('message', (data) => {
          const message = JSON.parse(String(data)) as { data?: { t?: number }; dropped?: number };
          if (message.dropped !== undefined) {
            wsDropNotices++;
            return;
          }
          wsReceived++;
          if (typeof message.data?.t === 'number') routes.ws.record(performance.now() - message.data.t);
        });
        ws.on('error', (err) => routes.ws.fail(err.message));
        ws.once('open', () => resolve());
        ws.once('error', reject);
        sockets.push(ws);
      })));
    }
    await mcp.start();

    // One HTTP request; resolves with its status (0 for a network error) and latency.
    const send = (route: Route, method: string, path: string, body?: string) => {
      if (route.inFlight >= MAX_IN_FLIGHT) {
        route.skipped++;
        return Promise.resolve(0);
      }
      route.sent++;
      route.inFlight++;
      const started = performance.now();
      return new Promise<number>((resolve) => {
        const headers: Record<string, string | number> = body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
        const req = request(`${server.url}${path}`, { method, agent, headers }, (res: IncomingMessage) => {
          res.resume();
          res.on('end', () => {
            route.inFlight--;
            route.record(performance.now() - started);
            if (res.statusCode! >= 300) route.fail(`${method} ${path}: ${res.statusCode}`);
            resolve(res.statusCode!);
          });
        });
        req.on('error', (err) => {
          route.inFlight--;
          route.fail(`${method} ${path}: ${err.message}`);
          resolve(0);
        });
        req.end(body);
      });
    };

    const value = twoKilobyteJson();
    let acknowledged = { build: 0, all: 0 };
    const callMcp = async () => {
      if (routes.mcp.inFlight >= MAX_IN_FLIGHT) {
        routes.mcp.skipped++;
        return;
      }
      routes.mcp.sent++;
      routes.mcp.inFlight++;
      const started = performance.now();
      try {
        const failed = await mcp.call();
        routes.mcp.record(performance.now() - started);
        if (failed) routes.mcp.fail(failed);
      } catch (err) {
        routes.mcp.fail((err as Error).message);
      } finally {
        routes.mcp.inFlight--;
      }
    };
    /** Each route: how many per second, and what one of them sends (n counts from 0). */
    const mix: Array<{ route: Route; perSecond: number; fire(n: number): void }> = [
      { route: routes.put, perSecond: 100, fire: (n) => void send(routes.put, 'PUT', `/api/state/soak/agent-${n % STATE_KEYS}/plan`, value.replace('backend', `agent-${n % 1000}`.padEnd(7))) },
      { route: routes.get, perSecond: 300, fire: (n) => void send(routes.get, 'GET', `/api/state/soak/agent-${n % STATE_KEYS}/plan`) },
      {
        route: routes.publish,
        perSecond: 100,
        fire: (n) => {
          const topic = n % 2 ? 'soak.test.passed' : 'soak.build.done';
          void send(routes.publish, 'POST', '/api/events/publish', JSON.stringify({ topic, data: { n, t: performance.now(), agent: `agent-${n % 7}` } })).then((status) => {
            if (status !== 200) return;
            acknowledged = { build: acknowledged.build + (n % 2 ? 0 : 1), all: acknowledged.all + 1 };
          });
        },
      },
      { route: routes.history, perSecond: 10, fire: () => void send(routes.history, 'GET', '/api/events/history?topic=soak.**&last=50') },
      { route: routes.mcp, perSecond: 20, fire: () => void callMcp() },
      { route: routes.health, perSecond: 5, fire: () => void send(routes.health, 'GET', '/health') },
    ];
    // The state keys exist before the first read.
    for (let key = 0; key < STATE_KEYS; key++) {
      const res = await fetch(`${server.url}/api/state/soak/agent-${key}/plan`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: value });
      if (!res.ok) throw new Error(`could not store soak/agent-${key}/plan: ${res.status} ${await res.text()}`);
    }

    report(`koor-server pid ${pid}, SQLite durability: ${durability}, --prune-interval ${PRUNE_INTERVAL}; load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores`);
    report(
      `load for ${options.seconds} s: ${mix.map((m) => `${m.route.short} ${+(m.perSecond * options.scale).toFixed(1)}/s`).join(', ')}; ` +
        `${SUBSCRIBERS} WebSocket subscribers, 2 webhooks, ${MCP_CLIENTS} MCP sessions renewed every ${MCP_SESSION_MS / 1000} s`,
    );
    const shown = Object.values(routes);
    // CPU: the server's share of one core, and this process's (the load generator and all the
    // subscribers), which must not be the bottleneck.
    report(`${'t'.padStart(5)}  ${'RSS'.padStart(6)}  ${'CPU'.padStart(5)}  ${'client'.padStart(6)}  ${'done/s'.padStart(6)}  p99 ms: ${shown.map((r) => r.short.padStart(6)).join(' ')}  errors`);

    // Answers to the requests this process sent (WebSocket frames and webhook deliveries aside).
    const requestRoutes = mix.map((m) => m.route);
    const totalDone = () => requestRoutes.reduce((n, r) => n + r.total.count, 0);
    const totalErrors = () => Object.values(routes).reduce((n, r) => n + r.errors, 0);
    const rss: Array<{ t: number; rss: number }> = [];
    const started = performance.now();
    const fired = mix.map(() => 0);
    let lastReport = { at: started, cpu: cpuSeconds(pid), client: process.cpuUsage(), done: totalDone() };
    let lastRss = 0;
    let lastRenew = started;
    let renewTurn = 0;
    while (performance.now() - started < options.seconds * 1000) {
      const now = performance.now();
      const elapsed = (now - started) / 1000;
      mix.forEach((m, i) => {
        const due = Math.floor(elapsed * m.perSecond * options.scale);
        while (fired[i]! < due) m.fire(fired[i]!++);
      });
      if (now - lastRss >= 500) {
        lastRss = now;
        const mb = rssMegabytes(pid);
        if (mb !== null) rss.push({ t: elapsed, rss: mb });
      }
      if (now - lastRenew >= MCP_SESSION_MS / MCP_CLIENTS) {
        lastRenew = now;
        void mcp.renew(renewTurn++ % MCP_CLIENTS).catch((err: Error) => routes.mcp.fail(`new session: ${err.message}`));
      }
      if (now - lastReport.at >= options.reportEvery * 1000) {
        const cpu = cpuSeconds(pid);
        const wall = (now - lastReport.at) / 1000;
        const share = cpu !== null && lastReport.cpu !== null ? `${(((cpu - lastReport.cpu) / wall) * 100).toFixed(0)} %` : 'n/a';
        const used = process.cpuUsage(lastReport.client);
        const clientShare = `${(((used.user + used.system) / 1e6 / wall) * 100).toFixed(0)} %`;
        const done = totalDone();
        report(
          `${elapsed.toFixed(0).padStart(4)}s  ${(rss[rss.length - 1]?.rss ?? NaN).toFixed(0).padStart(3)} MB  ${share.padStart(5)}  ${clientShare.padStart(6)}  ${((done - lastReport.done) / wall).toFixed(0).padStart(6)}  ` +
            `        ${shown.map((r) => ms(p(r.interval, 99)).padStart(6)).join(' ')}  ${totalErrors()}`,
        );
        for (const route of shown) route.interval = createHistogram();
        lastReport = { at: now, cpu, client: process.cpuUsage(), done };
      }
      await sleep(1);
    }
    const loadEnded = performance.now();

    // Let what is on its way arrive: outstanding requests, WebSocket frames, webhook deliveries.
    const wsExpected = () => acknowledged.all * SUBSCRIBERS;
    const hookExpected = (id: string) => (id === 'soak-build' ? acknowledged.build : acknowledged.all);
    const settled = () =>
      Object.values(routes).every((r) => r.inFlight === 0) &&
      wsReceived >= wsExpected() &&
      hooks.every((h) => receiver.received(h.id) >= hookExpected(h.id));
    while (!settled() && performance.now() - loadEnded < 30_000) await sleep(100);
    const drainSeconds = (performance.now() - loadEnded) / 1000;

    report('');
    report(`${'route'.padEnd(30)} ${'count'.padStart(8)}  ${'p50'.padStart(6)}  ${'p99'.padStart(6)}  ${'max'.padStart(7)} ms  errors`);
    for (const route of shown) {
      const h = route.total;
      report(
        `${route.name.padEnd(30)} ${String(h.count).padStart(8)}  ${ms(p(h, 50)).padStart(6)}  ${ms(p(h, 99)).padStart(6)}  ${ms(h.count ? h.max / 1000 : NaN).padStart(7)}     ` +
          `${route.errors}${route.skipped ? ` (+${route.skipped} not sent: ${MAX_IN_FLIGHT} in flight)` : ''}${route.lastError ? `  last: ${route.lastError}` : ''}`,
      );
    }
    const list = (await (await fetch(`${server.url}/api/webhooks`)).json()) as Array<{ id: string; active: boolean; fail_count: number }>;
    report(
      `WebSocket: ${wsReceived} of ${wsExpected()} events received by ${SUBSCRIBERS} subscribers` + (wsDropNotices ? `, ${wsDropNotices} "dropped" notices` : ''),
    );
    report(
      `webhooks: ${hooks.map((h) => `${h.id} ${receiver.received(h.id)}/${hookExpected(h.id)}`).join(', ')}` +
        `, ${receiver.duplicates()} repeated; ${list.map((h) => `${h.id} ${h.active ? 'active' : 'DISABLED'} fail_count ${h.fail_count}`).join(', ')}` +
        ` (waited ${drainSeconds.toFixed(1)} s after the load)`,
    );
    report(`MCP sessions opened: ${mcp.sessionsOpened}`);

    const third = options.seconds / 3;
    const within = (from: number, to: number) => rss.filter((s) => s.t >= from && s.t < to).map((s) => s.rss);
    const thirds = [within(0, third), within(third, 2 * third), within(2 * third, Infinity)];
    const first = slope(rss.filter((s) => s.t < third));
    const last = slope(rss.filter((s) => s.t >= 2 * third));
    const mean = rss.reduce((sum, s) => sum + s.rss, 0) / Math.max(1, rss.length);
    // RSS saw-tooths with garbage collection, so a third's slope depends on where in a tooth it
    // starts and ends. The lowest RSS of a third (where a collection brought it back down)
    // moves with what is really kept. Levelled off: the last third's lowest is within 5 % of
    // the middle third's, or the last third grows at most a quarter as fast as the first did
    // (or by under 5 % of the RSS per minute).
    const floorRise = Math.min(...thirds[2]!) / Math.min(...thirds[1]!) - 1;
    const levelled = floorRise <= 0.05 || last <= Math.max(first / 4, mean * 0.05);
    const signed = (value: number, digits = 1) => `${value >= 0 ? '+' : ''}${value.toFixed(digits)}`;
    report(
      `RSS: ${rss[0]?.rss.toFixed(0)} MB at start, ${rss[rss.length - 1]?.rss.toFixed(0)} MB at the end; by thirds lowest ` +
        `${thirds.map((t) => Math.min(...t).toFixed(0)).join(' / ')} MB, highest ${thirds.map((t) => Math.max(...t).toFixed(0)).join(' / ')} MB`,
    );
    report(
      `RSS slope: first third ${signed(first)} MB/min, last third ${signed(last)} MB/min; lowest RSS, last third against the middle: ` +
        `${signed(floorRise * 100, 0)} % → ${levelled ? 'memory levelled off' : 'memory STILL GROWING'}`,
    );
    const errors = totalErrors();
    const missing = Math.max(0, wsExpected() - wsReceived) + hooks.reduce((n, h) => n + Math.max(0, hookExpected(h.id) - receiver.received(h.id)), 0);
    report(`${errors === 0 ? 'PASS' : 'MISS'} errors: ${errors}`);
    report(`${missing === 0 ? 'PASS' : 'MISS'} every event delivered to every subscriber and webhook${missing ? ` (${missing} missing)` : ''}`);
    report(`${levelled ? 'PASS' : 'MISS'} memory levelled off`);
    const [load] = loadavg();
    report(
      `(load average: ${load!.toFixed(1)} on ${cpus().length} cores` +
        (load! > cpus().length ? ': the machine is busy, so the server got only the CPU shares above, and latency, backlog and RSS show that as much as the server' : '') +
        ')',
    );
  } finally {
    for (const ws of sockets) ws.terminate();
    await mcp.close().catch(() => {});
    agent.destroy();
    await stopProcess(server.child);
    await new Promise((resolve) => receiver.server.close(resolve));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

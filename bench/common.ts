// What the bench sections share: the run's options, the target table they fill, autocannon
// rounds, medians, free ports, child processes and /proc readings.
import { createServer, type Server } from 'node:http';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import autocannon from 'autocannon';

export type Report = (line: string) => void;

/** One PASS/MISS row of the closing table: a same-run ratio against its goal. */
export interface Target {
  name: string;
  /** The ratio measured (median of the rounds). */
  ratio: number;
  goal: number;
  /** 'min': the ratio must reach the goal; 'max': it must stay at or below it. */
  kind: 'min' | 'max';
  /** The figures the ratio was made of, in words. */
  detail: string;
  /** What the same-run floor itself reaches on this ratio, when that bounds the target. */
  floor?: string;
  /** Why the target could not be measured in this run (a peer that is missing). */
  skipped?: string;
}

export interface BenchOptions {
  /** Interleaved rounds per measurement (`--rounds N`). */
  rounds: number;
  /** Seconds per autocannon round (`--round-seconds S`). */
  roundSeconds: number;
  /** Try to install missing peers with the package manager (`--no-install` turns it off). */
  install: boolean;
}

export interface Bench {
  report: Report;
  target(target: Target): void;
  options: BenchOptions;
}

export const CONNECTIONS = 32;

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The middle value (mean of the two middle ones for an even count). */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * The ratio a/b round by round (each round measured both back to back, so they shared the
 * machine's load of that moment), and its median and range over the rounds. On a busy shared
 * machine a round's figures move by several times; neighbours move together, so the median of
 * the per-round ratios is steadier than the ratio of the two medians.
 */
export function pairedRatio(a: number[], b: number[]): { median: number; min: number; max: number } {
  const ratios = a.map((value, i) => value / b[i]!);
  return { median: median(ratios), min: Math.min(...ratios), max: Math.max(...ratios) };
}

export const spreadText = (r: { min: number; max: number }) => `rounds ${r.min.toFixed(2)}–${r.max.toFixed(2)}`;

export const percentile = (sorted: ArrayLike<number>, p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

export const ratioText = (ratio: number) => `${ratio.toFixed(2)}×`;

export const listen = (server: Server) =>
  new Promise<string>((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));

/** A port nobody listens on right now (the kernel picks it; it is free again once we close). */
export async function freePort(): Promise<number> {
  const probe = createServer();
  const port = Number(new URL(await listen(probe)).port);
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

export interface Figures {
  requests: number;
  p50: number;
  p99: number;
  errors: number;
}

/** One autocannon round; autocannon runs in a worker thread, off this process's event loop. */
export async function measure(url: string, seconds: number, options: Partial<autocannon.Options> = {}): Promise<Figures> {
  const result = await autocannon({ url, connections: CONNECTIONS, duration: seconds, pipelining: 1, workers: 1, ...options } as autocannon.Options);
  return {
    requests: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts + result.non2xx,
  };
}

export function medianFigures(rounds: Figures[]): Figures {
  return {
    requests: median(rounds.map((r) => r.requests)),
    p50: median(rounds.map((r) => r.p50)),
    p99: median(rounds.map((r) => r.p99)),
    errors: rounds.reduce((sum, r) => sum + r.errors, 0),
  };
}

export const figuresLine = (name: string, f: Figures, note = '') =>
  `${name.padEnd(30)} ${f.requests.toFixed(0).padStart(7)} req/s  p50 ${f.p50.toFixed(2).padStart(6)} ms  p99 ${f.p99.toFixed(2).padStart(6)} ms` +
  note +
  (f.errors ? `  (${f.errors} errors)` : '');

/**
 * A bench script or bin of this repository as its own process: compiled when benchmarking
 * dist/, through tsx when running the TypeScript sources. `script` is relative to bench/.
 */
export function spawnScript(script: string, args: string[], stdio: 'ignore' | 'pipe' = 'ignore'): ChildProcess {
  const fromSource = import.meta.url.endsWith('.ts');
  const file = fileURLToPath(new URL(`${script}.${fromSource ? 'ts' : 'js'}`, import.meta.url));
  return spawn(process.execPath, [...(fromSource ? ['--import', import.meta.resolve('tsx')] : []), file, ...args], {
    stdio: ['ignore', stdio, 'inherit'],
  });
}

/** Waits until `ready()` resolves true, or fails after `timeoutMs` (or when the child ends). */
export async function waitUntil(what: string, ready: () => Promise<boolean>, child?: ChildProcess, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null) throw new Error(`${what} exited with code ${child.exitCode} before it was ready`);
    if (await ready().catch(() => false)) return;
    await sleep(50);
  }
  throw new Error(`${what} was not ready after ${timeoutMs / 1000} s`);
}

export const answersHealth = (url: string) => async () => (await fetch(`${url}/health`)).ok;

/** Starts a bench script or bin that serves `/health` on the port it is given. */
export async function startScript(script: string, args: (port: number) => string[]): Promise<{ child: ChildProcess; url: string }> {
  const port = await freePort();
  const child = spawnScript(script, args(port));
  const url = `http://127.0.0.1:${port}`;
  await waitUntil(script, answersHealth(url), child);
  return { child, url };
}

/** koor-server in its own process on a free port, with extra flags after the defaults. */
export const startServerProcess = (dataDir: string, extra: string[] = []) =>
  startScript('../src/bin/koor-server', (port) => ['--bind', `127.0.0.1:${port}`, '--dashboard-bind', '', '--data-dir', dataDir, '--log-level', 'warn', ...extra]);

export async function stopProcess(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill(signal);
  const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(killer);
}

/** CPU seconds a process has used so far (Linux; clock ticks are 100 per second there). */
export function cpuSeconds(pid: number): number | null {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

export function rssMegabytes(pid: number): number | null {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/** A 2 KB JSON document like an agent's plan (the value every store is given). */
export function twoKilobyteJson(): string {
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

/**
 * The SQLite durability setting a server reports in `GET /api/metrics`: any field whose name
 * mentions `sync` (synchronous) or `durab` (durability), wherever it sits. Null when the server does not say.
 */
export async function reportedDurability(base: string): Promise<string | null> {
  const metrics = (await (await fetch(`${base}/api/metrics`)).json()) as unknown;
  const found: string[] = [];
  const walk = (value: unknown, path: string) => {
    if (value === null || typeof value !== 'object') return;
    for (const [key, inner] of Object.entries(value)) {
      const here = path ? `${path}.${key}` : key;
      if (/sync|durab/i.test(key) && (typeof inner !== 'object' || inner === null)) found.push(`${here}=${String(inner)}`);
      else walk(inner, here);
    }
  };
  walk(metrics, '');
  return found.length ? found.join(', ') : null;
}

// The real peers the state bench measures Koor against: etcd (its v3 HTTP/JSON gateway) and
// Redis (with its own redis-benchmark). Each runs privately: a temporary data directory, free
// ports on 127.0.0.1, started here and stopped afterwards. A Redis or etcd the machine already
// runs (say on 6379) is never touched. A peer that is missing is installed with the machine's
// package manager when this process may (root, or password-less sudo), else skipped with a note.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CONNECTIONS, freePort, stopProcess, waitUntil, type Report } from './common.js';

const onPath = (command: string) => spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;

/** How this process can run the package manager as root: no prefix, `sudo -n`, or not at all. */
function rootPrefix(): string[] | null {
  if (process.getuid?.() === 0) return [];
  if (onPath('sudo') && spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' }).status === 0) return ['sudo', '-n'];
  return null;
}

/**
 * Makes sure `commands` are on the PATH, installing `packages` with apt-get when they are not.
 * Returns null when they are there, else why not (for the skip note).
 */
export function ensureInstalled(commands: string[], packages: string[], install: boolean, report: Report): string | null {
  const missing = () => commands.filter((command) => !onPath(command));
  if (missing().length === 0) return null;
  const what = missing().join(', ');
  if (!install) return `${what} not installed (--no-install)`;
  if (process.platform !== 'linux' || !onPath('apt-get')) return `${what} not installed and no apt-get here (install ${packages.join(' ')} yourself)`;
  const prefix = rootPrefix();
  if (!prefix) return `${what} not installed; installing ${packages.join(' ')} needs root or password-less sudo`;
  const aptGet = (args: string[]) => {
    const [command, ...rest] = [...prefix, 'apt-get', ...args];
    return spawnSync(command!, rest, { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, timeout: 600_000 }).status === 0;
  };
  report(`installing ${packages.join(' ')} with apt-get (${what} missing)…`);
  const install1 = ['install', '-y', '-q', '--no-install-recommends', ...packages];
  // A fresh machine's package lists may be empty or old: update once, then try again.
  if (!aptGet(install1) && !(aptGet(['update', '-q']) && aptGet(install1))) return `apt-get install ${packages.join(' ')} failed`;
  return missing().length === 0 ? null : `${missing().join(', ')} still missing after installing ${packages.join(' ')}`;
}

export interface RunningPeer {
  child: ChildProcess;
  dataDir: string;
  port: number;
  stop(): Promise<void>;
}

function stopper(child: ChildProcess, dataDir: string) {
  return async () => {
    await stopProcess(child);
    rmSync(dataDir, { recursive: true, force: true });
  };
}

/** Output a peer printed, kept for the error message should it fail to start. */
function captureOutput(child: ChildProcess): () => string {
  let output = '';
  const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-2000));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return () => output;
}

// ---- etcd -----------------------------------------------------------------------------------

export const base64 = (text: string) => Buffer.from(text).toString('base64');

/** A single-member etcd on free ports with a temporary data directory. */
export async function startEtcd(): Promise<RunningPeer & { url: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'koor-bench-etcd-'));
  const [clientPort, peerPort] = [await freePort(), await freePort()];
  const client = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const child = spawn(
    'etcd',
    [
      '--name', 'koor-bench', '--data-dir', dataDir,
      '--listen-client-urls', client, '--advertise-client-urls', client,
      '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer,
      '--initial-cluster', `koor-bench=${peer}`, '--initial-cluster-state', 'new',
      '--logger', 'zap', '--log-level', 'error',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const output = captureOutput(child);
  const stop = stopper(child, dataDir);
  try {
    await waitUntil('etcd', async () => (await fetch(`${client}/v3/kv/range`, { method: 'POST', body: JSON.stringify({ key: base64('x') }) })).ok, child);
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}: ${output().trim()}`);
  }
  return { child, dataDir, port: clientPort, url: client, stop };
}

// ---- Redis ----------------------------------------------------------------------------------

/** Sends PING to a Redis port and resolves true on +PONG. */
function pings(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => socket.write('PING\r\n'));
    socket.setTimeout(1000, () => socket.destroy());
    socket.once('data', (data) => {
      resolve(data.toString().startsWith('+PONG'));
      socket.end();
    });
    socket.once('error', () => resolve(false));
    socket.once('close', () => resolve(false));
  });
}

/**
 * A private redis-server on a free port. `fsyncEveryWrite`: the append-only file with
 * `appendfsync always` (a write is on disk before its reply); otherwise no persistence at all
 * (no AOF, no snapshots): Redis as an in-memory cache, its ceiling.
 */
export async function startRedis(fsyncEveryWrite: boolean): Promise<RunningPeer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'koor-bench-redis-'));
  const port = await freePort();
  const config = [
    `port ${port}`,
    'bind 127.0.0.1',
    `dir ${dataDir}`,
    'save ""',
    fsyncEveryWrite ? 'appendonly yes' : 'appendonly no',
    'appendfsync always',
    'daemonize no',
    'logfile ""',
  ];
  const file = join(dataDir, 'redis.conf');
  writeFileSync(file, `${config.join('\n')}\n`);
  const child = spawn('redis-server', [file], { stdio: ['ignore', 'pipe', 'pipe'] });
  const output = captureOutput(child);
  const stop = stopper(child, dataDir);
  try {
    await waitUntil('redis-server', () => pings(port), child);
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}: ${output().trim()}`);
  }
  return { child, dataDir, port, stop };
}

export interface RedisFigures {
  requests: number;
  p50: number;
  p99: number;
}

/** One redis-benchmark run of `test` (set or get) with 2 KB values at 32 connections. */
export function redisBenchmark(port: number, test: 'set' | 'get', requests: number): Promise<RedisFigures> {
  return new Promise((resolve, reject) => {
    const args = ['-h', '127.0.0.1', '-p', String(port), '-c', String(CONNECTIONS), '-d', '2048', '-n', String(Math.round(requests)), '-t', test, '--csv'];
    const child = spawn('redis-benchmark', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    child.on('error', reject);
    child.on('exit', (code) => {
      // "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
      const row = out.split('\n').find((line) => line.toUpperCase().startsWith(`"${test.toUpperCase()}"`));
      const cells = row?.split(',').map((cell) => Number(cell.replace(/"/g, '')));
      if (code !== 0 || !cells || cells.length < 7 || !Number.isFinite(cells[1])) {
        reject(new Error(`redis-benchmark ${args.join(' ')} exited ${code}: ${out.trim().slice(-500)}`));
        return;
      }
      resolve({ requests: cells[1]!, p50: cells[4]!, p99: cells[6]! });
    });
  });
}

// koor-cli start-up: `koor-cli state get KEY` as a whole process against a running server, next
// to the floors measured in the same run: `node -e ''` (bare Node start-up), a node:http
// one-liner that fetches the same value (the least any Node process pays for it: the target,
// issue 17, is koor-cli at most 1.15× that) and a bare node:net round trip.
//
// Hyperfine-style: 3 warm-up runs of each, then 4×rounds+1 interleaved runs of each (21 by
// default) so that load from other processes shifts all alike; figures are medians, the
// target's ratio the median of the run-by-run ratios.
// The CLI measured is the shipped bin, dist/src/bin/koor-cli.cjs (written by
// scripts/bundle-cli.mjs during the build; the unbundled tsc output if that is missing);
// KOOR_BENCH_CLI=path measures another build.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildApp } from '../src/server/app.js';
import { median, pairedRatio, ratioText, spreadText, type Bench } from './common.js';

const WARMUP = 3;
const TARGET = 1.15;
const KEY = 'bench/agent-plan';

function cliPath(): string {
  if (process.env.KOOR_BENCH_CLI) return process.env.KOOR_BENCH_CLI;
  // From dist/bench/ the bins are in ../src/bin; from the TypeScript sources, the built ones.
  const bin = new URL(import.meta.url.endsWith('.ts') ? '../dist/src/bin/' : '../src/bin/', import.meta.url);
  const bundle = fileURLToPath(new URL('koor-cli.cjs', bin));
  return existsSync(bundle) ? bundle : fileURLToPath(new URL('koor-cli.js', bin));
}

/** Runs one process to completion and returns its wall time in ms. */
function timeProcess(args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, args, { env, cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('exit', (code) => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if (code === 0) resolve(ms);
      else reject(new Error(`${args.join(' ')} exited ${code}: ${stderr.trim()}`));
    });
  });
}

export async function run(bench: Bench): Promise<void> {
  const { report } = bench;
  const RUNS = 4 * bench.options.rounds + 1;
  const cli = cliPath();
  if (!existsSync(cli)) {
    report(`SKIP: ${cli} not found (run npm run build)`);
    return;
  }
  const bundled = !readFileSync(cli, 'utf8').includes('../cli/main.js');
  report(`cli: ${cli} (${bundled ? 'bundled' : 'not bundled: tsc output'})`);

  const dataDir = mkdtempSync(join(tmpdir(), 'koor-bench-cli-'));
  const cwd = mkdtempSync(join(tmpdir(), 'koor-bench-cli-cwd-'));
  const app = await buildApp({ dataDir, dashboardBind: '', logLevel: 'silent' });
  try {
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.address();
    const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    const plan = JSON.stringify({ owner: 'backend', phase: 'build', tasks: Array.from({ length: 20 }, (_, i) => ({ id: i, done: i % 2 === 0 })) });
    const put = await app.inject({ method: 'PUT', url: `/api/state/${KEY}`, payload: plan, headers: { 'content-type': 'application/json' } });
    if (put.statusCode !== 200) throw new Error(`could not store the bench key: ${put.statusCode} ${put.body}`);

    // The bin keeps V8's code cache under XDG_CACHE_HOME; the warm-up runs fill it, as an
    // agent's first run would.
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, XDG_CACHE_HOME: cwd, KOOR_SERVER: url };
    const baseline = ['-e', ''];
    const getKey = [cli, 'state', 'get', KEY];
    const ifChanged = [cli, 'state', 'get', KEY, '--if-changed'];

    // Two floors, for reading the ratio: the least a Node process can do to fetch the value
    // with node:http (which the CLI uses), and with a bare TCP round trip (no HTTP client at all).
    const target = new URL(`${url}/api/state/${KEY}`);
    const httpFloor = ['-e', `require('node:http').get(${JSON.stringify(target.href)}, { agent: false }, (r) => r.pipe(process.stdout))`];
    const netFloor = ['-e', `const s = require('node:net').connect(${target.port}, '127.0.0.1', () => s.end(${JSON.stringify(
      `GET ${target.pathname} HTTP/1.1\r\nhost: ${target.host}\r\nconnection: close\r\n\r\n`,
    )})); s.pipe(process.stdout)`];
    // The CLI right after its floor, so that each pair shares the load of its moment.
    const commands = { baseline, httpFloor, get: getKey, ifChanged, netFloor };
    type Name = keyof typeof commands;
    const names = Object.keys(commands) as Name[];
    for (let i = 0; i < WARMUP; i++) for (const name of names) await timeProcess(commands[name], env, cwd);
    const times = Object.fromEntries(names.map((name) => [name, [] as number[]])) as Record<Name, number[]>;
    for (let i = 0; i < RUNS; i++) for (const name of names) times[name].push(await timeProcess(commands[name], env, cwd));
    const base = median(times.baseline);
    const row = (label: string, name: Name, note = '') => {
      const ms = median(times[name]);
      return `${label.padEnd(36)} median ${ms.toFixed(1).padStart(5)} ms  = ${(ms / base).toFixed(2)}× node${note}`;
    };
    // koor-cli against the node:http floor run by run (each pair ran back to back).
    const paired = pairedRatio(times.get, times.httpFloor);
    const ratio = paired.median;
    report(`${"node -e ''".padEnd(36)} median ${base.toFixed(1).padStart(5)} ms  (${RUNS} runs each, interleaved)`);
    report(row('koor-cli state get KEY', 'get', `  = ${ratioText(ratio)} the node:http floor`));
    report(row('koor-cli state get KEY --if-changed', 'ifChanged', '  (304: unchanged)'));
    report(row('floor: node:http GET to stdout', 'httpFloor', '  (node -e one-liner)'));
    report(row('floor: node:net round trip to stdout', 'netFloor', '  (no HTTP client at all)'));
    report(`koor-cli above the node:http floor: ${(median(times.get) - median(times.httpFloor)).toFixed(1)} ms`);
    bench.target({
      name: 'koor-cli state get ÷ node:http GET one-liner',
      ratio,
      goal: TARGET,
      kind: 'max',
      detail: `medians ${median(times.get).toFixed(1)} ms vs ${median(times.httpFloor).toFixed(1)} ms per process, ${spreadText(paired).replace('rounds', 'runs')}`,
      floor: `net round trip ${ratioText(median(times.netFloor) / median(times.httpFloor))}`,
    });
  } finally {
    await app.close();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(cwd, { recursive: true, force: true });
  }
}

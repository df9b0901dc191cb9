// The state store at 32 connections with a 2 KB JSON value, next to what the same machine
// does in the same run: a bare node:http server (the floor: answering 2 KB, or taking 2 KB
// and answering), etcd's v3 HTTP/JSON gateway (put and range of the same 2 KB value) and Redis
// (redis-benchmark SET/GET of 2 KB, with `appendfsync always` and without persistence).
//
// Targets (issue 17): durable PUT >= 1.5× etcd put; GET >= 3× etcd range and >= 0.55× the
// bare server's GET. Koor's PUT is measured twice: with synchronous=FULL (a commit survives a
// power loss; the figure the target uses) and on a second server with --sqlite-synchronous
// normal, to show what durability costs.
//
// Everything is measured in interleaved rounds (floor, Koor, etcd, Redis, floor, …) and each
// figure is the median over the rounds, so that load from other processes on the machine
// shifts them alike instead of whichever ran at a bad moment. autocannon, the load generator
// for the HTTP servers, runs in its own worker thread, off the in-process server's event loop.
// Redis speaks its own protocol, so its figures come from redis-benchmark (a C client that
// costs less per request than autocannon): read them as Redis's own best case.
import { createServer } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { buildApp } from '../src/server/app.js';
import {
  CONNECTIONS, figuresLine, listen, measure, median, medianFigures, pairedRatio, ratioText, reportedDurability, sleep, spreadText, twoKilobyteJson,
  type Bench, type Figures,
} from './common.js';
import { base64, ensureInstalled, redisBenchmark, startEtcd, startRedis, type RedisFigures, type RunningPeer } from './peers.js';

const KEY = 'bench/team-plan';

/**
 * A second after each write round: the server copies what the writes left in SQLite's
 * write-ahead log into the database file in a background thread, and that work belongs to the
 * PUT figure, not to whichever round happens to come next.
 */
const settle = () => sleep(1000);

type Name = 'bareGet' | 'barePut' | 'get' | 'put' | 'putNormal' | 'etcdRange' | 'etcdPut';
type RedisName = 'redisGet' | 'redisSet' | 'redisDurableGet' | 'redisDurableSet';

/** The peers that could be started; a missing one carries why (printed, and its targets skip). */
interface Peers {
  etcd: (RunningPeer & { url: string }) | string;
  redis: { plain: RunningPeer; durable: RunningPeer } | string;
}

async function startPeers(bench: Bench): Promise<Peers> {
  const { report, options } = bench;
  const start = async <T>(name: string, commands: string[], packages: string[], starter: () => Promise<T>): Promise<T | string> => {
    const missing = ensureInstalled(commands, packages, options.install, report);
    if (missing) return missing;
    try {
      return await starter();
    } catch (err) {
      return `${name} did not start: ${(err as Error).message}`;
    }
  };
  const etcd = await start('etcd', ['etcd'], ['etcd-server'], startEtcd);
  const redis = await start('redis-server', ['redis-server', 'redis-benchmark'], ['redis-server', 'redis-tools'], async () => {
    const plain = await startRedis(false);
    try {
      return { plain, durable: await startRedis(true) };
    } catch (err) {
      await plain.stop();
      throw err;
    }
  });
  for (const [name, peer] of Object.entries({ etcd, redis })) if (typeof peer === 'string') report(`SKIP ${name}: ${peer}`);
  return { etcd, redis };
}

async function stopPeers(peers: Peers): Promise<void> {
  if (typeof peers.etcd !== 'string') await peers.etcd.stop();
  if (typeof peers.redis !== 'string') await Promise.all([peers.redis.plain.stop(), peers.redis.durable.stop()]);
}

export async function run(bench: Bench): Promise<void> {
  const { report, options } = bench;
  const seconds = options.roundSeconds;
  const body = twoKilobyteJson();
  const bytes = Buffer.from(body);

  // The floor: answers every request with the same 2 KB, after reading whatever body came.
  const bare = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': bytes.length });
      res.end(bytes);
    });
  });
  const bareUrl = await listen(bare);
  const dataDir = mkdtempSync(join(tmpdir(), 'koor-bench-'));
  const normalDataDir = mkdtempSync(join(tmpdir(), 'koor-bench-normal-'));
  const app = await buildApp({ dataDir, dashboardBind: '', logLevel: 'silent', sqliteSynchronous: 'full' });
  const normal = await buildApp({ dataDir: normalDataDir, dashboardBind: '', logLevel: 'silent', sqliteSynchronous: 'normal' });
  const peers = await startPeers(bench);
  try {
    const listenWithKey = async (server: typeof app) => {
      await server.listen({ host: '127.0.0.1', port: 0 });
      const base = `http://127.0.0.1:${(server.server.address() as AddressInfo).port}`;
      const put = await fetch(`${base}/api/state/${KEY}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body });
      if (!put.ok) throw new Error(`could not store the bench key: ${put.status} ${await put.text()}`);
      return base;
    };
    const base = await listenWithKey(app);
    const normalBase = await listenWithKey(normal);
    const url = `${base}/api/state/${KEY}`;
    const durability = (await reportedDurability(base)) ?? 'not reported by GET /api/metrics';
    const normalDurability = (await reportedDurability(normalBase)) ?? 'not reported by GET /api/metrics';

    const json = { 'content-type': 'application/json' };
    const putOptions = { method: 'PUT' as const, headers: json, body };
    const etcdUrl = typeof peers.etcd === 'string' ? null : peers.etcd.url;
    const etcdKey = base64(KEY);
    const etcdPut = { method: 'POST' as const, headers: json, body: JSON.stringify({ key: etcdKey, value: base64(body) }) };
    if (etcdUrl) {
      const stored = await fetch(`${etcdUrl}/v3/kv/put`, etcdPut);
      if (!stored.ok) throw new Error(`etcd put answered ${stored.status} ${await stored.text()}`);
    }
    // The order of a round: reads, then writes, Koor's last and followed by a settling second
    // (so that its checkpoint work cannot land on a peer's round).
    const runs: Partial<Record<Name, () => Promise<Figures>>> = {
      bareGet: () => measure(bareUrl, seconds),
      get: () => measure(url, seconds),
      ...(etcdUrl && { etcdRange: () => measure(`${etcdUrl}/v3/kv/range`, seconds, { method: 'POST', headers: json, body: JSON.stringify({ key: etcdKey }) }) }),
      barePut: () => measure(bareUrl, seconds, putOptions),
      ...(etcdUrl && { etcdPut: () => measure(`${etcdUrl}/v3/kv/put`, seconds, etcdPut) }),
      put: () => measure(url, seconds, putOptions),
      putNormal: () => measure(`${normalBase}/api/state/${KEY}`, seconds, putOptions),
    };
    // redis-benchmark runs a request count, not a duration: a warm-up run gives each test's
    // rate, and each round then asks for about half a round's worth of requests (Redis has no
    // target of its own; it is there to read the others by).
    const redisRuns: Partial<Record<RedisName, () => Promise<RedisFigures>>> = {};
    if (typeof peers.redis !== 'string') {
      const { plain, durable } = peers.redis;
      const add = (name: RedisName, peer: RunningPeer, test: 'set' | 'get') => {
        let count = 5000;
        redisRuns[name] = async () => {
          const figures = await redisBenchmark(peer.port, test, count);
          count = Math.max(1000, (figures.requests * seconds) / 2);
          return figures;
        };
      };
      // SET before GET, so that GET reads the 2 KB value SET stored.
      add('redisSet', plain, 'set');
      add('redisGet', plain, 'get');
      add('redisDurableSet', durable, 'set');
      add('redisDurableGet', durable, 'get');
    }

    // Warm-up, then interleaved rounds.
    const names = Object.keys(runs) as Name[];
    const redisNames = Object.keys(redisRuns) as RedisName[];
    for (const name of names) await runs[name]!();
    for (const name of redisNames) await redisRuns[name]!();
    await settle();
    const rounds = Object.fromEntries(names.map((name) => [name, [] as Figures[]])) as Record<Name, Figures[]>;
    const redisRounds = Object.fromEntries(redisNames.map((name) => [name, [] as RedisFigures[]])) as Record<RedisName, RedisFigures[]>;
    for (let round = 0; round < options.rounds; round++) {
      for (const name of names) {
        rounds[name].push(await runs[name]!());
        if (name === 'put' || name === 'putNormal') await settle();
      }
      for (const name of redisNames) redisRounds[name].push(await redisRuns[name]!());
    }
    const figures = Object.fromEntries(names.map((name) => [name, medianFigures(rounds[name])])) as Partial<Record<Name, Figures>>;
    const redis = Object.fromEntries(
      redisNames.map((name) => [name, { requests: median(redisRounds[name].map((f) => f.requests)), p50: median(redisRounds[name].map((f) => f.p50)), p99: median(redisRounds[name].map((f) => f.p99)), errors: 0 }]),
    ) as Partial<Record<RedisName, Figures>>;

    // Each ratio is the median of the per-round ratios (see pairedRatio).
    const paired = (a: Name, b: Name) => pairedRatio(rounds[a].map((f) => f.requests), rounds[b].map((f) => f.requests));
    const ratio = (a: Name, b: Name) => paired(a, b).median;
    const spread = (a: Name, b: Name) => spreadText(paired(a, b));
    const etcd = figures.etcdPut !== undefined;

    report(`${CONNECTIONS} connections, 2 KB value, ${options.rounds} interleaved rounds of ${seconds} s each: median figures;`);
    report('each ratio is the median of the per-round ratios, with their range');
    report(`Koor's SQLite durability (GET /api/metrics): ${durability}; second server for PUT: ${normalDurability}`);
    report(figuresLine('bare node:http GET (floor)', figures.bareGet!));
    report(figuresLine('bare node:http PUT (floor)', figures.barePut!));
    report(figuresLine('GET /api/state/{key}', figures.get!, `  ${ratioText(ratio('get', 'bareGet'))} floor (${spread('get', 'bareGet')})`));
    report(figuresLine('PUT /api/state/{key}', figures.put!, `  ${ratioText(ratio('put', 'barePut'))} floor (${spread('put', 'barePut')})`));
    report(figuresLine('PUT, synchronous=normal', figures.putNormal!, `  ${ratioText(ratio('putNormal', 'barePut'))} floor (${spread('putNormal', 'barePut')})`));
    report(`synchronous=full PUT throughput = ${ratioText(ratio('put', 'putNormal'))} synchronous=normal (${spread('put', 'putNormal')})`);
    if (etcd) {
      report(figuresLine('etcd range (v3 gateway)', figures.etcdRange!, `  Koor GET is ${ratioText(ratio('get', 'etcdRange'))} (${spread('get', 'etcdRange')})`));
      report(figuresLine('etcd put (v3 gateway)', figures.etcdPut!, `  Koor PUT is ${ratioText(ratio('put', 'etcdPut'))} (${spread('put', 'etcdPut')})`));
    }
    const redisLine = (label: string, name: RedisName, koor: Name) =>
      redis[name] &&
      report(figuresLine(label, redis[name]!, `  Koor ${koor.toUpperCase()} is ${ratioText(pairedRatio(rounds[koor].map((f) => f.requests), redisRounds[name].map((f) => f.requests)).median)}`));
    if (redisNames.length) report('Redis (redis-benchmark, its own C client, 32 connections):');
    redisLine('redis GET, no persistence', 'redisGet', 'get');
    redisLine('redis SET, no persistence', 'redisSet', 'put');
    redisLine('redis GET, appendfsync always', 'redisDurableGet', 'get');
    redisLine('redis SET, appendfsync always', 'redisDurableSet', 'put');

    const etcdSkipped = typeof peers.etcd === 'string' ? peers.etcd : undefined;
    const rps = (name: Name) => `${figures[name]?.requests.toFixed(0)}/s`;
    bench.target({
      // The target is for power-loss durable writes (synchronous=FULL); the name says when the
      // server reported anything else.
      name: /full|extra/i.test(durability) ? 'durable PUT /api/state ÷ etcd put' : 'PUT /api/state ÷ etcd put (durability: see figures)',
      ratio: etcd ? ratio('put', 'etcdPut') : NaN,
      goal: 1.5,
      kind: 'min',
      detail: etcd ? `${rps('put')} vs ${rps('etcdPut')}, ${spread('put', 'etcdPut')}; SQLite ${durability}` : '',
      floor: etcd ? `bare PUT ${ratioText(ratio('barePut', 'etcdPut'))}` : undefined,
      skipped: etcdSkipped,
    });
    bench.target({
      name: 'GET /api/state ÷ etcd range',
      ratio: etcd ? ratio('get', 'etcdRange') : NaN,
      goal: 3,
      kind: 'min',
      detail: etcd ? `${rps('get')} vs ${rps('etcdRange')}, ${spread('get', 'etcdRange')}` : '',
      floor: etcd ? `bare GET ${ratioText(ratio('bareGet', 'etcdRange'))}` : undefined,
      skipped: etcdSkipped,
    });
    bench.target({
      name: 'GET /api/state ÷ bare node:http GET',
      ratio: ratio('get', 'bareGet'),
      goal: 0.55,
      kind: 'min',
      detail: `${rps('get')} vs ${rps('bareGet')}, ${spread('get', 'bareGet')}`,
    });
  } finally {
    await app.close();
    await normal.close();
    rmSync(normalDataDir, { recursive: true, force: true });
    await new Promise((resolve) => bare.close(resolve));
    await stopPeers(peers);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

// Leases on two koor-server replicas sharing one PostgreSQL database (SPEC §14, §16): an
// acquire's check and insert are one transaction that takes turns with every other acquirer,
// so concurrent acquires on the two replicas never both succeed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { buildApp } from '../src/server/app.js';
import { createTestDatabase } from './support/postgres.js';
import { callJson } from './support/http.js';

const serverUrl = process.env.KOOR_TEST_POSTGRES_URL;
const skip = serverUrl ? false : 'needs KOOR_TEST_POSTGRES_URL (replicas share a PostgreSQL database)';

async function startReplica(database: string) {
  const dataDir = mkdtempSync(join(tmpdir(), 'koor-replica-'));
  const app = await buildApp({ dataDir, dashboardBind: '', logLevel: 'silent', database, leaderRetryMs: 100, livenessIntervalMs: 100 });
  await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`,
    async close() {
      await app.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

test('concurrent acquires on two replicas never both succeed', { skip }, async (t) => {
  const database = await createTestDatabase(serverUrl!);
  const a = await startReplica(database.url);
  const b = await startReplica(database.url);
  t.after(async () => {
    await a.close();
    await b.close();
    await database.drop();
  });
  const agents = await Promise.all(
    Array.from({ length: 20 }, async (_, i) => (await callJson(i % 2 === 0 ? a.url : b.url, 'POST', '/api/instances/register', { name: `agent-${i}` })).json as { id: string; token: string }),
  );

  const claims = [['task:build'], ['src/api/**'], ['src/*/orders.ts'], ['db/*.sql', 'docs/**']];
  for (let round = 0; round < 10; round++) {
    const resources = claims[round % claims.length]!;
    // Every agent asks at once, half of them on each replica.
    const answers = await Promise.all(agents.map((agent, i) => callJson(i % 2 === 0 ? a.url : b.url, 'POST', '/api/leases', { resources, reason: `round ${round}` }, agent.token)));
    const winners = answers.filter((x) => x.status === 201);
    assert.equal(winners.length, 1, `round ${round}: ${winners.length} granted`);
    assert.ok(answers.every((x) => x.status === 201 || x.status === 409));
    const loser = answers.find((x) => x.status === 409)!;
    assert.equal(loser.json.conflicts[0].id, winners[0]!.json.id, 'the refusal names the winner');
    const winner = agents.find((agent) => agent.id === winners[0]!.json.holder)!;
    // Released on the other replica than the one that may have granted it.
    assert.equal((await callJson(round % 2 === 0 ? b.url : a.url, 'DELETE', `/api/leases/${winners[0]!.json.id}`, undefined, winner.token)).status, 200);
  }

  // A wait on one replica ends when the lease is released on the other.
  const [first, second] = agents;
  const held = (await callJson(a.url, 'POST', '/api/leases', { resources: ['task:handover'] }, first!.token)).json;
  const waiting = callJson(b.url, 'POST', '/api/leases?wait=20s', { resources: ['task:handover'] }, second!.token);
  await new Promise((resolve) => setTimeout(resolve, 200));
  await callJson(a.url, 'DELETE', `/api/leases/${held.id}`, undefined, first!.token);
  const handedOver = await waiting;
  assert.equal(handedOver.status, 201);
  assert.equal(handedOver.json.holder, second!.id);
  assert.ok(handedOver.json.fence > held.fence);
});

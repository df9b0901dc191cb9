// Many agents racing for overlapping claims over real HTTP (SPEC §16): whatever the
// interleaving, no path is ever held exclusively by two holders at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startListeningApp, testEngines } from './support/app.js';
import { globToSource } from '../src/rules/glob.js';
import { callJson } from './support/http.js';

const AGENTS = 50;
const ROUNDS = 3;

// Anchored globs and paths only (each has a `/`), so the rules domain's glob translation
// matches them exactly as leases do: an independent judge of which paths a claim covers.
const CLAIMS = ['src/api/**', 'src/*/orders.ts', 'src/api/orders.ts', 'src/web/**', 'src/*/*.ts', 'src/web/app.tsx', 'db/**', 'db/*.sql', 'src/{api,db}/*.ts', 'docs/**'];
const PATHS = ['src/api/orders.ts', 'src/api/users.ts', 'src/web/orders.ts', 'src/web/app.tsx', 'src/db/seed.ts', 'db/001.sql', 'db/seed/x.sql', 'docs/a.md'];

const covers = (claim: string, path: string) => new RegExp(`^(?:${globToSource(claim)})$`).test(path);

for (const engine of testEngines()) {
  test(`${AGENTS} agents racing for overlapping globs never both hold a path exclusively on ${engine}`, async (t) => {
    const server = await startListeningApp({}, engine);
    t.after(server.close);
    const agents = await Promise.all(
      Array.from({ length: AGENTS }, async (_, i) => (await callJson(server.url, 'POST', '/api/instances/register', { name: `agent-${i}` })).json as { id: string; token: string }),
    );

    let granted = 0;
    let refused = 0;
    for (let round = 0; round < ROUNDS; round++) {
      // Every agent asks for two claims at once (all or nothing), some of them shared.
      const answers = await Promise.all(agents.map((agent, i) => {
        const resources = [CLAIMS[(i + round) % CLAIMS.length]!, CLAIMS[(i * 7 + round * 3) % CLAIMS.length]!];
        const mode = i % 5 === 0 ? 'shared' : 'exclusive';
        return callJson(server.url, 'POST', '/api/leases', { resources, mode }, agent.token);
      }));
      for (const answer of answers) {
        assert.ok(answer.status === 201 || answer.status === 409, JSON.stringify(answer.json));
        if (answer.status === 201) granted++;
        else refused++;
      }

      const leases = (await callJson(server.url, 'GET', '/api/leases')).json as Array<{ id: string; holder: string; mode: string; resources: string[] }>;
      for (const path of PATHS) {
        const holding = leases.filter((l) => l.resources.some((r) => covers(r, path)));
        const exclusiveHolders = new Set(holding.filter((l) => l.mode === 'exclusive').map((l) => l.holder));
        const sharedHolders = new Set(holding.filter((l) => l.mode === 'shared').map((l) => l.holder));
        assert.ok(exclusiveHolders.size <= 1, `${path} held exclusively by ${exclusiveHolders.size} agents`);
        if (exclusiveHolders.size === 1) {
          const [holder] = exclusiveHolders;
          assert.deepEqual([...sharedHolders].filter((h) => h !== holder), [], `${path}: shared next to exclusive`);
        }
      }
      // Everyone lets go before the next round.
      const released = await Promise.all(leases.map((lease) => callJson(server.url, 'DELETE', `/api/leases/${lease.id}`, undefined, agents.find((a) => a.id === lease.holder)!.token)));
      assert.ok(released.every((r) => r.status === 200));
    }
    assert.ok(granted > 0 && refused > 0, `the race had winners (${granted}) and losers (${refused})`);
  });
}

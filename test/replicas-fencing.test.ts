// Fencing: a replica that still believes it leads the background jobs, after another has taken
// over, cannot commit a job's change; it steps down and competes again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { buildApp } from '../src/server/app.js';
import { createTestDatabase } from './support/postgres.js';

const serverUrl = process.env.KOOR_TEST_POSTGRES_URL;
const skip = serverUrl ? false : 'needs KOOR_TEST_POSTGRES_URL (leadership lives in PostgreSQL)';

const waitFor = async (check: () => boolean, what: string, ms = 15_000) => {
  const deadline = Date.now() + ms;
  while (!check() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  assert.ok(check(), what);
};

test('a leader whose term is over cannot commit a job\'s change, then steps down and leads again under a new term', { skip, timeout: 60_000 }, async (t) => {
  const database = await createTestDatabase(serverUrl!);
  const dataDir = mkdtempSync(join(tmpdir(), 'koor-fencing-'));
  const app = await buildApp({ dataDir, dashboardBind: '', logLevel: (process.env.KOOR_TEST_LOG as 'info' | undefined) ?? 'silent', database: database.url, leaderRetryMs: 200 });
  const admin = new pg.Client({ connectionString: database.url });
  await admin.connect();
  t.after(async () => {
    await admin.end();
    await app.close();
    await database.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });
  const term = async () => Number((await admin.query<{ term: string }>("select term from leader_terms where name = 'jobs'")).rows[0]?.term);

  // A leader's job that writes a row every 50 ms, recording what became of each write.
  const outcomes: Array<{ id: number; ok: boolean; error?: string }> = [];
  let next = 1;
  let timer: NodeJS.Timeout | undefined;
  app.koor.jobs.add({
    name: 'test.writer',
    start() {
      timer = setInterval(() => {
        const id = next++;
        app.koor
          .commit(async (trx) => {
            await trx.insertInto('storage_probe').values({ id, checked_at: new Date().toISOString() }).execute();
            return { value: id };
          }, { emits: false })
          .then(
            () => outcomes.push({ id, ok: true }),
            (err: Error) => outcomes.push({ id, ok: false, error: err.message }),
          );
      }, 50);
    },
    stop() {
      clearInterval(timer);
    },
  });
  await waitFor(() => outcomes.filter((o) => o.ok).length >= 3, 'the leader\'s job writes');
  const first = await term();

  // Another replica's takeover, as this one would not notice it: the term moves on.
  await admin.query("update leader_terms set term = term + 1 where name = 'jobs'");
  await waitFor(() => outcomes.some((o) => !o.ok), 'a write of the old term is refused');
  const refused = outcomes.find((o) => !o.ok)!;
  assert.match(refused.error!, /another replica leads the jobs/);

  // It stepped down and, nobody else competing, leads again under a newer term; writes resume.
  const refusedAt = outcomes.length;
  await waitFor(() => outcomes.slice(refusedAt).some((o) => o.ok), `writes resume under the new term: ${JSON.stringify(outcomes.slice(refusedAt - 2, refusedAt + 5))} of ${outcomes.length}`);
  assert.ok((await term()) >= first + 2, 'a new term after the takeover\'s');

  // What was refused left nothing behind; what was acknowledged is there.
  const stored = new Set((await admin.query<{ id: number }>('select id from storage_probe')).rows.map((r) => Number(r.id)));
  for (const o of outcomes) assert.equal(stored.has(o.id), o.ok, `write ${o.id} (${o.ok ? 'acknowledged' : 'refused'})`);
});

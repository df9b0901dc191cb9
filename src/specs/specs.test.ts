import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { startListeningApp, startTestApp, testEngines } from '../../test/support/app.js';
import type { KoorEvent } from '../events/hub.js';
import { getSpec, listSpecs, putSpec } from './specs.js';
import { checkContractDocument } from '../contracts/document.js';
import '../audit/tables.js';

const sha = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

function put(app: FastifyInstance, path: string, payload: string | Buffer, headers: Record<string, string> = {}) {
  return app.inject({ method: 'PUT', url: `/api/specs/${path}`, headers: { 'content-type': 'application/json', ...headers }, payload });
}

for (const engine of testEngines()) {
  test(`specs on ${engine}: put, get, list and delete`, async (t) => {
    const { app, close } = await startTestApp({}, engine);
    t.after(close);

    assert.deepEqual((await app.inject({ method: 'GET', url: '/api/specs/truck-wash' })).json(), { project: 'truck-wash', specs: [] });

    const doc = '{"openapi":"3.0.0","paths":{}}';
    const created = await put(app, 'truck-wash/api', doc);
    assert.equal(created.statusCode, 200);
    assert.deepEqual(created.json(), { project: 'truck-wash', name: 'api', version: 1, hash: sha(doc), updated_at: created.json().updated_at });
    assert.match(created.json().updated_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.equal((await put(app, 'truck-wash/api', '{"openapi":"3.1.0"}')).json().version, 2);
    await put(app, 'truck-wash/README', '# Readme', { 'content-type': 'text/markdown' });
    await put(app, 'other/api', '{}');

    const got = await app.inject({ method: 'GET', url: '/api/specs/truck-wash/api' });
    assert.equal(got.statusCode, 200);
    assert.equal(got.body, '{"openapi":"3.1.0"}');
    assert.equal(got.headers['content-type'], 'application/json');
    assert.equal(got.headers.etag, `"${sha('{"openapi":"3.1.0"}')}"`);
    assert.equal(got.headers['x-koor-version'], '2');
    const notModified = await app.inject({ method: 'GET', url: '/api/specs/truck-wash/api', headers: { 'if-none-match': got.headers.etag as string } });
    assert.equal(notModified.statusCode, 304);
    assert.equal(notModified.body, '');
    const markdown = await app.inject({ method: 'GET', url: '/api/specs/truck-wash/README' });
    assert.equal(markdown.body, '# Readme');
    assert.equal(markdown.headers['content-type'], 'text/markdown');

    const listed = (await app.inject({ method: 'GET', url: '/api/specs/truck-wash' })).json();
    assert.equal(listed.project, 'truck-wash');
    assert.deepEqual(listed.specs.map((s: { name: string; version: number }) => [s.name, s.version]), [['README', 1], ['api', 2]]);
    assert.deepEqual(Object.keys(listed.specs[0]).sort(), ['name', 'updated_at', 'version']);

    // Old versions stay readable.
    assert.equal((await app.inject({ method: 'GET', url: '/api/specs/truck-wash/api?version=1' })).body, doc);
    const history = (await app.inject({ method: 'GET', url: '/api/specs/truck-wash/api?history=1' })).json();
    assert.deepEqual(history.versions.map((v: { version: number }) => v.version), [2, 1]);

    const deleted = await app.inject({ method: 'DELETE', url: '/api/specs/truck-wash/api' });
    assert.equal(deleted.statusCode, 200);
    assert.deepEqual(deleted.json(), { deleted: 'truck-wash/api' });
    assert.deepEqual((await app.inject({ method: 'GET', url: '/api/specs/truck-wash/api' })).json(), {
      error: 'spec not found: truck-wash/api',
      code: 404, reason: 'not_found',
    });
    assert.equal((await app.inject({ method: 'DELETE', url: '/api/specs/truck-wash/api' })).statusCode, 404);
    assert.deepEqual((await app.inject({ method: 'GET', url: '/api/specs/truck-wash' })).json().specs.map((s: { name: string }) => s.name), ['README']);
    // A re-created spec continues its version numbers.
    assert.equal((await put(app, 'truck-wash/api', '{}')).json().version, 3);

    const actions = await app.koor.db.query
      .selectFrom('audit_log')
      .select(['action', 'resource'])
      .where('outcome', '=', 'success')
      .where('resource', '=', 'truck-wash/api')
      .orderBy('id')
      .execute();
    assert.deepEqual(actions.map((a) => a.action), ['spec.put', 'spec.put', 'spec.delete', 'spec.put']);
  });

  test(`specs on ${engine}: compare-and-swap, bad input and contracts`, async (t) => {
    const { app, close } = await startTestApp({}, engine);
    t.after(close);
    const first = await put(app, 'p/s', '{"v":1}');
    assert.equal((await put(app, 'p/s', '{"v":2}', { 'if-match': first.headers.etag as string })).statusCode, 200);
    const stale = await put(app, 'p/s', '{"v":3}', { 'if-match': '1' });
    assert.equal(stale.statusCode, 412);
    assert.equal(stale.json().current_version, 2);
    assert.equal(stale.json().current_etag, `"${sha('{"v":2}')}"`);
    assert.equal((await put(app, 'p/s', '{}', { 'if-none-match': '*' })).statusCode, 412);
    assert.equal((await put(app, 'p/new', '{}', { 'if-none-match': '*' })).statusCode, 200);
    assert.equal((await app.inject({ method: 'DELETE', url: '/api/specs/p/s', headers: { 'if-match': '1' } })).statusCode, 412);
    assert.equal((await app.inject({ method: 'DELETE', url: '/api/specs/p/s', headers: { 'if-match': '2' } })).statusCode, 200);

    const empty = await app.inject({ method: 'PUT', url: '/api/specs/p/empty' });
    assert.equal(empty.statusCode, 400);
    assert.match(empty.json().error, /empty body/);
    const slash = await put(app, 'a%2Fb/name', '{}');
    assert.equal(slash.statusCode, 400);
    assert.match(slash.json().error, /project "a\/b" must not contain \//);
    assert.equal((await put(app, 'p/a%00b', '{}')).statusCode, 400);
    // A name may carry an encoded slash.
    assert.equal((await put(app, 'p/v1%2Fapi', '{}')).json().name, 'v1/api');
    assert.equal((await app.inject({ method: 'GET', url: '/api/specs/p/v1%2Fapi' })).statusCode, 200);
    assert.equal((await put(app, 'p/big', Buffer.alloc(10 * 1024 * 1024 + 1, 32))).statusCode, 413);
    assert.equal((await app.inject({ method: 'GET', url: '/api/specs/p/s?version=0' })).statusCode, 400);

    // A document saying "kind":"contract" must be a valid contract (checked by the contracts domain).
    const badContract = { kind: 'contract', endpoints: 42 };
    const problem = checkContractDocument(badContract);
    assert.ok(problem, 'the contracts domain rejects this document');
    const refused = await put(app, 'p/contract', JSON.stringify(badContract));
    assert.equal(refused.statusCode, 400);
    assert.deepEqual(refused.json(), { error: problem, code: 400, reason: 'bad_request' });
    assert.equal((await app.inject({ method: 'GET', url: '/api/specs/p/contract' })).statusCode, 404);

    // Documents that only look like contracts, or are not JSON, are stored as they are.
    assert.equal((await put(app, 'p/notes', '{"kind":"notes"}')).statusCode, 200);
    assert.equal((await put(app, 'p/text', '{kind: contract', { 'content-type': 'text/plain' })).statusCode, 200);
  });

  test(`specs on ${engine}: events after commit, and the functions other domains use`, async (t) => {
    const { app, close } = await startTestApp({}, engine);
    t.after(close);
    const seen: KoorEvent[] = [];
    t.after(app.koor.hub.subscribe((event) => event.topic.startsWith('spec.') && seen.push(event)));

    await put(app, 'proj/api', '{"a":1}');
    await put(app, 'proj/api', '{"a":1}', { 'if-match': '5' });
    await app.inject({ method: 'DELETE', url: '/api/specs/proj/api' });
    const written = await putSpec(app.koor, { project: 'proj', name: 'contract', data: Buffer.from('{"x":1}') }, { id: 'templates', role: 'admin' });
    assert.equal(written.version, 1);
    assert.deepEqual(seen.map((e) => [e.topic, e.data]), [
      ['spec.changed', { project: 'proj', name: 'api', version: 1 }],
      ['spec.deleted', { project: 'proj', name: 'api', version: 1 }],
      ['spec.changed', { project: 'proj', name: 'contract', version: 1 }],
    ]);

    const spec = await getSpec(app.koor, 'proj', 'contract');
    assert.ok(spec);
    assert.equal(spec.data.toString(), '{"x":1}');
    assert.equal(spec.content_type, 'application/json');
    assert.equal(spec.version, 1);
    assert.equal(await getSpec(app.koor, 'proj', 'api'), null);
    assert.deepEqual((await listSpecs(app.koor, 'proj')).map((s) => s.name), ['contract']);
    const history = await app.koor.db.query.selectFrom('spec_versions').select('updated_by').where('key', '=', 'proj/contract').execute();
    assert.deepEqual(history, [{ updated_by: 'templates' }]);
  });

  test(`specs on ${engine}: concurrent writers to one spec lose no version`, async (t) => {
    const { url, close } = await startListeningApp({}, engine);
    t.after(close);
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, i) => fetch(`${url}/api/specs/p/race`, { method: 'PUT', body: JSON.stringify({ i }) })),
    );
    const versions = await Promise.all(answers.map(async (r) => ((await r.json()) as { version: number }).version));
    assert.deepEqual(versions.sort((a, b) => a - b), Array.from({ length: 30 }, (_, i) => i + 1));
  });
}

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { startListeningApp, startTestApp, testEngines } from '../../test/support/app.js';
import type { KoorEvent } from '../events/hub.js';
import '../audit/tables.js';

const sha = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

function put(app: FastifyInstance, key: string, payload: string | Buffer, headers: Record<string, string> = {}) {
  return app.inject({ method: 'PUT', url: `/api/state/${key}`, headers: { 'content-type': 'application/json', ...headers }, payload });
}

async function auditActions(app: FastifyInstance, resource: string) {
  // The audit domain's table, read directly to check the entries commit with the change.
  const rows = await app.koor.db.query
    .selectFrom('audit_log')
    .select(['action', 'actor', 'outcome'])
    .where('resource', '=', resource)
    // Failed calls are recorded too (by the audit domain's hook); here only the changes count.
    .where('outcome', '=', 'success')
    .orderBy('id')
    .execute();
  return rows.map((r) => `${r.action}:${r.outcome}:${r.actor}`);
}

for (const engine of testEngines()) {
  test(`state on ${engine}: raw values keep their bytes, content type, ETag and version`, async (t) => {
    const { app, close } = await startTestApp({}, engine);
    t.after(close);

    const json = '{ "b": 1,\n  "a": [true, null] }';
    const first = await put(app, 'config', json);
    assert.equal(first.statusCode, 200);
    const body = first.json();
    assert.equal(body.key, 'config');
    assert.equal(body.version, 1);
    assert.equal(body.hash, sha(json));
    assert.equal(body.content_type, 'application/json');
    assert.match(body.updated_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.equal(first.headers.etag, `"${sha(json)}"`);

    const got = await app.inject({ method: 'GET', url: '/api/state/config' });
    assert.equal(got.statusCode, 200);
    assert.equal(got.body, json, 'JSON is stored byte for byte, not re-serialized');
    assert.equal(got.headers['content-type'], 'application/json');
    assert.equal(got.headers.etag, `"${sha(json)}"`);
    assert.equal(got.headers['x-koor-version'], '1');

    // Malformed JSON is still just bytes to the store.
    const broken = await put(app, 'broken', '{"not json');
    assert.equal(broken.statusCode, 200);
    assert.equal((await app.inject({ method: 'GET', url: '/api/state/broken' })).body, '{"not json');

    // Any content type; binary bytes survive; no content type means application/json.
    const bytes = Buffer.from([0, 255, 1, 254, 10, 13, 0]);
    assert.equal((await put(app, 'blob', bytes, { 'content-type': 'application/octet-stream' })).statusCode, 200);
    const blob = await app.inject({ method: 'GET', url: '/api/state/blob' });
    assert.deepEqual(blob.rawPayload, bytes);
    assert.equal(blob.headers['content-type'], 'application/octet-stream');
    assert.equal((await put(app, 'note', 'hello', { 'content-type': 'text/markdown; charset=utf-8' })).json().content_type, 'text/markdown; charset=utf-8');
    assert.equal((await app.inject({ method: 'GET', url: '/api/state/note' })).headers['content-type'], 'text/markdown; charset=utf-8');
    const bare = await app.inject({ method: 'PUT', url: '/api/state/bare', payload: '{"x":1}' });
    assert.equal(bare.json().content_type, 'application/json');

    const missing = await app.inject({ method: 'GET', url: '/api/state/nope' });
    assert.equal(missing.statusCode, 404);
    assert.deepEqual(missing.json(), { error: 'state key not found: nope', code: 404, reason: 'not_found' });
  });

  test(`state on ${engine}: If-None-Match answers 304 without a body`, async (t) => {
    const { app, close } = await startTestApp({}, engine);
    t.after(close);
    const etag = (await put(app, 'k', '{"v":1}')).headers.etag as string;
    for (const value of [etag, `W/${etag}`, `"other", ${etag}`, '*']) {
      const cached = await app.inject({ method: 'GET', url: '/api/state/k', headers: { 'if-none-match': value } });
      assert.equal(cached.statusCode, 304, value);
      assert.equal(cached.body, '');
      assert.equal(cached.headers.etag, etag);
      assert.equal(cached.headers['x-koor-version'], '1');
    }
    const changed = await app.inject({ method: 'GET', url: '/api/state/k', headers: { 'if-none-match': '"stale"' } });
    assert.equal(changed.statusCode, 200);
    assert.equal(changed.body, '{"v":1}');
  });

  test(`state on ${engine}: list is sorted, filtered by prefix and leaves out deleted keys`, async (t) => {
    const { app, close } = await startTestApp({}, engine);
    t.after(close);
    assert.deepEqual((await app.inject({ method: 'GET', url: '/api/state' })).json(), []);
    for (const key of ['b', 'a/2', 'a/1', 'ab', 'c%25d', 'A']) assert.equal((await put(app, key, '1')).statusCode, 200);
    await put(app, 'a/1', '2');
    const all = (await app.inject({ method: 'GET', url: '/api/state' })).json();
    assert.deepEqual(all.map((e: { key: string }) => e.key), ['A', 'a/1', 'a/2', 'ab', 'b', 'c%d']);
    assert.deepEqual(Object.keys(all[1]).sort(), ['content_type', 'key', 'updated_at', 'version']);
    assert.equal(all[1].version, 2);
    const prefixed = (await app.inject({ method: 'GET', url: '/api/state?prefix=a/' })).json();
    assert.deepEqual(prefixed.map((e: { key: string }) => e.key), ['a/1', 'a/2']);
    // A prefix is literal text: % and _ are not wildcards.
    assert.deepEqual((await app.inject({ method: 'GET', url: '/api/state?prefix=c%25' })).json().map((e: { key: string }) => e.key), ['c%d']);
    assert.deepEqual((await app.inject({ method: 'GET', url: '/api/state?prefix=_' })).json(), []);
    // No key holds NUL, and a prefix with one is refused like any NUL in a typed field.
    assert.deepEqual((await app.inject({ method: 'GET', url: '/api/state?prefix=a%00' })).json(), {
      error: 'invalid request: querystring/prefix must not contain the NUL character (\\u0000)',
      code: 400, reason: 'invalid_request',
    });
    await app.inject({ method: 'DELETE', url: '/api/state/a/2' });
    assert.deepEqual((await app.inject({ method: 'GET', url: '/api/state?prefix=a/' })).json().map((e: { key: string }) => e.key), ['a/1']);
  });

  test(`state on ${engine}: history, old versions and who wrote them`, async (t) => {
    const { app, close } = await startTestApp({ authToken: 'tok' }, engine);
    t.after(close);
    const auth = { authorization: 'Bearer tok' };
    for (let i = 1; i <= 5; i++) assert.equal((await put(app, 'h/k', `{"n":${i}}`, auth)).json().version, i);
    await put(app, 'h/k', 'plain', { ...auth, 'content-type': 'text/plain' });

    const history = await app.inject({ method: 'GET', url: '/api/state/h/k?history=1', headers: auth });
    assert.equal(history.statusCode, 200);
    const { key, versions } = history.json();
    assert.equal(key, 'h/k');
    assert.deepEqual(versions.map((v: { version: number }) => v.version), [6, 5, 4, 3, 2, 1]);
    assert.deepEqual(versions[0], {
      version: 6,
      hash: sha('plain'),
      content_type: 'text/plain',
      updated_at: versions[0].updated_at,
      updated_by: 'admin',
    });
    const limited = (await app.inject({ method: 'GET', url: '/api/state/h/k?history=1&limit=2', headers: auth })).json();
    assert.deepEqual(limited.versions.map((v: { version: number }) => v.version), [6, 5]);

    const old = await app.inject({ method: 'GET', url: '/api/state/h/k?version=2', headers: auth });
    assert.equal(old.statusCode, 200);
    assert.equal(old.body, '{"n":2}');
    assert.equal(old.headers['x-koor-version'], '2');
    assert.equal(old.headers.etag, `"${sha('{"n":2}')}"`);
    assert.equal(old.headers['content-type'], 'application/json');

    assert.equal((await app.inject({ method: 'GET', url: '/api/state/h/k?version=99', headers: auth })).statusCode, 404);
    assert.equal((await app.inject({ method: 'GET', url: '/api/state/none?version=1', headers: auth })).statusCode, 404);
    assert.equal((await app.inject({ method: 'GET', url: '/api/state/none?history=1', headers: auth })).statusCode, 404);
  });

  test(`state on ${engine}: JSON diff between two versions`, async (t) => {
    const { app, close } = await startTestApp({}, engine);
    t.after(close);
    await put(app, 'd', JSON.stringify({ name: 'a', tags: ['x', 'y', 'z'], 'a/b': 1, nested: { keep: 1, drop: true } }));
    await put(app, 'd', JSON.stringify({ name: 'b', tags: ['x'], 'a/b': 2, nested: { keep: 1 }, added: { deep: [1] } }));
    await put(app, 'd', 'not json', { 'content-type': 'text/plain' });

    const diff = await app.inject({ method: 'GET', url: '/api/state/d?diff=1,2' });
    assert.equal(diff.statusCode, 200);
    assert.deepEqual(diff.json(), {
      key: 'd',
      v1: 1,
      v2: 2,
      diffs: [
        { operation: 'replace', path: '/name', old_value: 'a', new_value: 'b' },
        { operation: 'remove', path: '/tags/2', old_value: 'z' },
        { operation: 'remove', path: '/tags/1', old_value: 'y' },
        { operation: 'replace', path: '/a~1b', old_value: 1, new_value: 2 },
        { operation: 'remove', path: '/nested/drop', old_value: true },
        { operation: 'add', path: '/added', new_value: { deep: [1] } },
      ],
    });
    assert.deepEqual((await app.inject({ method: 'GET', url: '/api/state/d?diff=2,2' })).json().diffs, []);
    const notJson = await app.inject({ method: 'GET', url: '/api/state/d?diff=2,3' });
    assert.equal(notJson.statusCode, 400);
    assert.match(notJson.json().error, /version 3 of state key "d" is not JSON/);
    assert.equal((await app.inject({ method: 'GET', url: '/api/state/d?diff=1,9' })).statusCode, 404);
    assert.equal((await app.inject({ method: 'GET', url: '/api/state/d?diff=1' })).statusCode, 400);
    assert.equal((await app.inject({ method: 'GET', url: '/api/state/d?diff=0,1' })).statusCode, 400);
  });

  test(`state on ${engine}: rollback restores an old version as a new one`, async (t) => {
    const { app, close } = await startTestApp({}, engine);
    t.after(close);
    await put(app, 'r', '{"v":1}');
    await put(app, 'r', 'two', { 'content-type': 'text/plain' });
    const rolled = await app.inject({ method: 'POST', url: '/api/state/r?rollback=1' });
    assert.equal(rolled.statusCode, 200);
    assert.deepEqual(Object.keys(rolled.json()).sort(), ['hash', 'key', 'rolled_back', 'updated_at', 'version']);
    assert.equal(rolled.json().version, 3);
    assert.equal(rolled.json().rolled_back, 1);
    assert.equal(rolled.json().hash, sha('{"v":1}'));
    const now = await app.inject({ method: 'GET', url: '/api/state/r' });
    assert.equal(now.body, '{"v":1}');
    assert.equal(now.headers['content-type'], 'application/json');
    assert.equal(now.headers['x-koor-version'], '3');

    for (const bad of ['0', '-1', 'abc', '1.5', '']) {
      const res = await app.inject({ method: 'POST', url: `/api/state/r?rollback=${bad}` });
      assert.equal(res.statusCode, 400, `rollback=${bad}`);
      assert.match(res.json().error, /rollback/);
    }
    assert.equal((await app.inject({ method: 'POST', url: '/api/state/r' })).statusCode, 400);
    assert.equal((await app.inject({ method: 'POST', url: '/api/state/r?rollback=99999999999999999999' })).statusCode, 400);
    assert.deepEqual((await app.inject({ method: 'POST', url: '/api/state/r?rollback=7' })).json(), {
      error: 'version 7 of state key not found: r',
      code: 404, reason: 'not_found',
    });
    assert.deepEqual((await app.inject({ method: 'POST', url: '/api/state/ghost?rollback=1' })).json(), {
      error: 'state key not found: ghost',
      code: 404, reason: 'not_found',
    });
    assert.deepEqual(await auditActions(app, 'r'), [
      'state.put:success:anonymous',
      'state.put:success:anonymous',
      'state.rollback:success:anonymous',
    ]);
  });

  test(`state on ${engine}: delete, and versions keep rising across re-create`, async (t) => {
    const { app, close } = await startTestApp({}, engine);
    t.after(close);
    await put(app, 'x/y', '1');
    await put(app, 'x/y', '2');
    const deleted = await app.inject({ method: 'DELETE', url: '/api/state/x/y' });
    assert.equal(deleted.statusCode, 200);
    assert.deepEqual(deleted.json(), { deleted: 'x/y' });
    assert.equal((await app.inject({ method: 'GET', url: '/api/state/x/y' })).statusCode, 404);
    assert.deepEqual((await app.inject({ method: 'DELETE', url: '/api/state/x/y' })).json(), { error: 'state key not found: x/y', code: 404, reason: 'not_found' });
    assert.equal((await app.inject({ method: 'DELETE', url: '/api/state/never' })).statusCode, 404);

    // History survives the delete; the next write continues the numbering.
    assert.equal((await app.inject({ method: 'GET', url: '/api/state/x/y?history=1' })).json().versions.length, 2);
    assert.equal((await app.inject({ method: 'GET', url: '/api/state/x/y?version=2' })).body, '2');
    const again = await put(app, 'x/y', '3');
    assert.equal(again.json().version, 3);
    assert.equal((await app.inject({ method: 'GET', url: '/api/state/x/y' })).headers['x-koor-version'], '3');

    // Rollback of a deleted key brings it back as a new version.
    await app.inject({ method: 'DELETE', url: '/api/state/x/y' });
    const restored = await app.inject({ method: 'POST', url: '/api/state/x/y?rollback=1' });
    assert.equal(restored.json().version, 4);
    assert.equal((await app.inject({ method: 'GET', url: '/api/state/x/y' })).body, '1');

    assert.deepEqual(await auditActions(app, 'x/y'), [
      'state.put:success:anonymous',
      'state.put:success:anonymous',
      'state.delete:success:anonymous',
      'state.put:success:anonymous',
      'state.delete:success:anonymous',
      'state.rollback:success:anonymous',
    ]);
  });

  test(`state on ${engine}: compare-and-swap with If-Match and If-None-Match`, async (t) => {
    const { app, close } = await startTestApp({}, engine);
    t.after(close);
    const v1 = await put(app, 'cas', '{"v":1}');
    const etag1 = v1.headers.etag as string;

    // Matching ETag or version: the write goes through.
    const v2 = await put(app, 'cas', '{"v":2}', { 'if-match': etag1 });
    assert.equal(v2.statusCode, 200);
    assert.equal(v2.json().version, 2);
    const etag2 = v2.headers.etag as string;
    assert.equal((await put(app, 'cas', '{"v":3}', { 'if-match': '2' })).json().version, 3);
    const etag3 = `"${sha('{"v":3}')}"`;

    // Stale ETag or version: 412 with what is current, nothing written.
    const staleEtag = await put(app, 'cas', '{"v":"lost"}', { 'if-match': etag2 });
    assert.equal(staleEtag.statusCode, 412);
    assert.deepEqual(staleEtag.json(), {
      error: `If-Match "${sha('{"v":2}')}" failed: state key "cas" has ETag ${etag3}`,
      code: 412, reason: 'precondition_failed',
      current_version: 3,
      current_etag: etag3,
    });
    const staleVersion = await put(app, 'cas', '{"v":"lost"}', { 'if-match': '2' });
    assert.equal(staleVersion.statusCode, 412);
    assert.equal(staleVersion.json().current_version, 3);
    assert.equal(staleVersion.json().current_etag, etag3);
    assert.match(staleVersion.json().error, /If-Match 2 failed: state key "cas" is at version 3/);
    assert.equal((await app.inject({ method: 'GET', url: '/api/state/cas' })).body, '{"v":3}');
    assert.equal((await app.inject({ method: 'GET', url: '/api/state/cas?history=1' })).json().versions.length, 3);

    // If-Match: * needs the key to exist.
    assert.equal((await put(app, 'cas', '{"v":4}', { 'if-match': '*' })).json().version, 4);
    assert.equal((await put(app, 'nokey', '1', { 'if-match': '*' })).statusCode, 412);

    // Create-only.
    const created = await put(app, 'once', '1', { 'if-none-match': '*' });
    assert.equal(created.statusCode, 200);
    const exists = await put(app, 'once', '2', { 'if-none-match': '*' });
    assert.equal(exists.statusCode, 412);
    assert.equal(exists.json().current_version, 1);
    assert.equal(exists.json().current_etag, `"${sha('1')}"`);

    // On a key that does not exist, If-Match fails with 412 and nulls; create-only succeeds.
    const absent = await put(app, 'fresh', '1', { 'if-match': '1' });
    assert.equal(absent.statusCode, 412);
    assert.deepEqual(absent.json(), {
      error: 'If-Match failed: state key "fresh" does not exist',
      code: 412, reason: 'precondition_failed',
      current_version: null,
      current_etag: null,
    });
    await app.inject({ method: 'DELETE', url: '/api/state/once' });
    assert.equal((await put(app, 'once', '3', { 'if-match': '1' })).statusCode, 412, 'a deleted key has no current version to match');
    const recreated = await put(app, 'once', '3', { 'if-none-match': '*' });
    assert.equal(recreated.statusCode, 200);
    assert.equal(recreated.json().version, 2);

    // Conditional delete.
    const wrongDelete = await app.inject({ method: 'DELETE', url: '/api/state/cas', headers: { 'if-match': etag1 } });
    assert.equal(wrongDelete.statusCode, 412);
    assert.equal(wrongDelete.json().current_version, 4);
    assert.equal((await app.inject({ method: 'DELETE', url: '/api/state/cas', headers: { 'if-match': '3' } })).statusCode, 412);
    assert.equal((await app.inject({ method: 'DELETE', url: '/api/state/cas', headers: { 'if-match': '4' } })).statusCode, 200);
    const goneDelete = await app.inject({ method: 'DELETE', url: '/api/state/cas', headers: { 'if-match': '4' } });
    assert.equal(goneDelete.statusCode, 412);
    assert.equal(goneDelete.json().current_version, null);

    // Headers that cannot be understood are 400, naming the header.
    const badHeaders: Array<Record<string, string>> = [{ 'if-match': 'abc' }, { 'if-none-match': '"x"' }, { 'if-match': '1', 'if-none-match': '*' }];
    for (const headers of badHeaders) {
      const res = await put(app, 'cas2', '1', headers);
      assert.equal(res.statusCode, 400, JSON.stringify(headers));
      assert.match(res.json().error, /If-(None-)?Match/);
    }
    const deleteNoneMatch = await app.inject({ method: 'DELETE', url: '/api/state/once', headers: { 'if-none-match': '*' } });
    assert.equal(deleteNoneMatch.statusCode, 400);
  });

  test(`state on ${engine}: odd keys and malformed requests`, async (t) => {
    const { app, close } = await startTestApp({}, engine);
    t.after(close);
    const keys: Array<[string, string]> = [
      ['Truck-Wash/backend-task', 'Truck-Wash/backend-task'],
      ['h%C3%A9llo%20w%C3%B6rld', 'héllo wörld'],
      ['emoji%F0%9F%9A%80', 'emoji🚀'],
      ['a%2Fb', 'a/b'],
      ['deep/er/still/', 'deep/er/still/'],
      ['%3Fq%26x%3D1', '?q&x=1'],
    ];
    for (const [path, key] of keys) {
      const res = await put(app, path, JSON.stringify({ key }));
      assert.equal(res.statusCode, 200, path);
      assert.equal(res.json().key, key);
      assert.equal((await app.inject({ method: 'GET', url: `/api/state/${path}` })).json().key, key);
    }
    // %2F and a real / name the same key.
    assert.equal((await app.inject({ method: 'GET', url: '/api/state/a/b' })).headers['x-koor-version'], '1');
    const listed = (await app.inject({ method: 'GET', url: '/api/state' })).json().map((e: { key: string }) => e.key);
    assert.deepEqual([...listed].sort(), keys.map(([, key]) => key).sort());

    const longest = 'k'.repeat(1024);
    assert.equal((await put(app, longest, '1')).statusCode, 200);
    const tooLong = await put(app, `${longest}k`, '1');
    assert.equal(tooLong.statusCode, 400);
    assert.match(tooLong.json().error, /1025 characters.*1024/);
    const empty = await put(app, '', '1');
    assert.equal(empty.statusCode, 400);
    assert.deepEqual(empty.json(), { error: 'state key must not be empty', code: 400, reason: 'bad_request' });
    assert.equal((await app.inject({ method: 'GET', url: '/api/state/' })).statusCode, 400);
    const nul = await put(app, 'a%00b', '1');
    assert.equal(nul.statusCode, 400);
    assert.match(nul.json().error, /NUL/);

    const noBody = await app.inject({ method: 'PUT', url: '/api/state/k' });
    assert.equal(noBody.statusCode, 400);
    assert.match(noBody.json().error, /empty body/);
    assert.equal((await put(app, 'k', '')).statusCode, 400);

    const huge = await put(app, 'big', Buffer.alloc(10 * 1024 * 1024 + 1, 97), { 'content-type': 'text/plain' });
    assert.equal(huge.statusCode, 413);
    assert.equal(huge.json().code, 413);
    assert.equal((await app.inject({ method: 'GET', url: '/api/state/big' })).statusCode, 404);
    const atLimit = await put(app, 'big', Buffer.alloc(10 * 1024 * 1024 - 64, 97), { 'content-type': 'text/plain' });
    assert.equal(atLimit.statusCode, 200);

    for (const query of ['version=99999999999999999999', 'diff=1,99999999999999999999', 'history=yes', 'limit=0&history=1', 'limit=abc&history=1', 'version=0', 'version=x', 'diff=a,b', 'history=1&version=1']) {
      const res = await app.inject({ method: 'GET', url: `/api/state/k?${query}` });
      assert.equal(res.statusCode, 400, query);
      assert.equal(res.json().code, 400);
    }
  });

  test(`state on ${engine}: events are published after the change commits`, async (t) => {
    const { app, close } = await startTestApp({}, engine);
    t.after(close);
    const seen: Array<{ event: KoorEvent; visible: Promise<number> }> = [];
    const unsubscribe = app.koor.hub.subscribe((event) => {
      if (!event.topic.startsWith('state.')) return;
      // What a reader sees at the moment the event goes out.
      const visible = app.inject({ method: 'GET', url: '/api/state/ev' }).then((r) => r.statusCode === 200 ? Number(r.headers['x-koor-version']) : 0);
      seen.push({ event, visible });
    });
    t.after(unsubscribe);

    await put(app, 'ev', '1');
    await put(app, 'ev', '2');
    await put(app, 'ev', '3', { 'if-match': '1' }); // fails: no event
    await app.inject({ method: 'POST', url: '/api/state/ev?rollback=1' });
    await app.inject({ method: 'DELETE', url: '/api/state/ev' });

    assert.deepEqual(seen.map((s) => [s.event.topic, s.event.data]), [
      ['state.changed', { key: 'ev', version: 1 }],
      ['state.changed', { key: 'ev', version: 2 }],
      ['state.changed', { key: 'ev', version: 3 }],
      ['state.deleted', { key: 'ev', version: 3 }],
    ]);
    assert.deepEqual(await Promise.all(seen.map((s) => s.visible)), [1, 2, 3, 0]);
  });

  test(`state on ${engine}: 100 concurrent writers to one key lose no version`, async (t) => {
    const { url, close } = await startListeningApp({}, engine);
    t.after(close);
    const answers = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        fetch(`${url}/api/state/race/counter`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ writer: i }) }),
      ),
    );
    const bodies = await Promise.all(answers.map((r) => r.json() as Promise<{ version: number }>));
    assert.deepEqual(answers.map((r) => r.status), Array(100).fill(200));
    assert.deepEqual(bodies.map((b) => b.version).sort((a, b) => a - b), Array.from({ length: 100 }, (_, i) => i + 1));

    const current = await fetch(`${url}/api/state/race/counter`);
    assert.equal(current.headers.get('x-koor-version'), '100');
    const history = (await (await fetch(`${url}/api/state/race/counter?history=1&limit=1000`)).json()) as { versions: Array<{ version: number }> };
    assert.equal(history.versions.length, 100);
    assert.deepEqual(history.versions.map((v) => v.version), Array.from({ length: 100 }, (_, i) => 100 - i));
  });

  test(`state on ${engine}: 50 concurrent compare-and-swap writers, exactly one wins`, async (t) => {
    const { url, close } = await startListeningApp({}, engine);
    t.after(close);
    const first = await fetch(`${url}/api/state/race/cas`, { method: 'PUT', body: '{"owner":null}' });
    const etag = first.headers.get('etag')!;
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        fetch(`${url}/api/state/race/cas`, { method: 'PUT', headers: { 'if-match': etag }, body: JSON.stringify({ owner: i }) }),
      ),
    );
    const statuses = answers.map((r) => r.status);
    const bodies = (await Promise.all(answers.map((r) => r.json()))) as Array<{ version?: number; current_version?: number }>;
    assert.equal(statuses.filter((s) => s === 200).length, 1);
    assert.equal(statuses.filter((s) => s === 412).length, 49);
    assert.ok(bodies.filter((_, i) => statuses[i] === 412).every((b) => b.current_version === 2));
    const history = (await (await fetch(`${url}/api/state/race/cas?history=1`)).json()) as { versions: unknown[] };
    assert.equal(history.versions.length, 2);

    // The same race on a version number.
    const byVersion = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        fetch(`${url}/api/state/race/cas`, { method: 'PUT', headers: { 'if-match': '2' }, body: JSON.stringify({ second: i }) }),
      ),
    );
    await Promise.all(byVersion.map((r) => r.arrayBuffer()));
    assert.equal(byVersion.filter((r) => r.status === 200).length, 1);
    assert.equal(byVersion.filter((r) => r.status === 412).length, 49);
  });
}

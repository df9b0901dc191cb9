import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startListeningApp, testEngines } from '../../test/support/app.js';
import { callJson } from '../../test/support/http.js';
import { firstUnstorableValue } from './storable-values.js';

const rule = {
  type: 'object',
  properties: {
    limit: { type: 'integer' },
    name: { type: 'string' },
    items: { type: 'array', items: { type: 'object', properties: { size: { type: 'number' } } } },
    labels: { type: 'object', additionalProperties: { type: 'string' } },
    data: {},
  },
};

const TOO_LARGE = 'must be a whole number between -9007199254740991 and 9007199254740991';

test('typed values that cannot be stored are found at any depth, by their JSON pointer', () => {
  assert.equal(firstUnstorableValue({ limit: 50, name: 'x', items: [{ size: 1 }], labels: { a: 'b' } }, rule), undefined);
  assert.deepEqual(firstUnstorableValue({ limit: Infinity }, rule), { path: '/limit', problem: 'must be a finite number' });
  assert.deepEqual(firstUnstorableValue({ items: [{ size: 3 }, { size: -Infinity }] }, rule), { path: '/items/1/size', problem: 'must be a finite number' });
  assert.deepEqual(firstUnstorableValue({ limit: 2 ** 53 }, rule), { path: '/limit', problem: TOO_LARGE });
  assert.equal(firstUnstorableValue({ limit: 2 ** 53 - 1, items: [{ size: 2 ** 60 }] }, rule), undefined);
  assert.deepEqual(firstUnstorableValue({ name: 'a\0b' }, rule), { path: '/name', problem: 'must not contain the NUL character (\\u0000)' });
  assert.deepEqual(firstUnstorableValue({ labels: { team: 'x\0' } }, rule), { path: '/labels/team', problem: 'must not contain the NUL character (\\u0000)' });
  // Free-form parts and undeclared properties are stored as JSON text, which holds both.
  assert.equal(firstUnstorableValue({ data: { text: 'a\0b', big: Infinity }, extra: 'a\0' }, rule), undefined);
});

for (const engine of testEngines()) {
  test(`values the database cannot take ("1e309", NUL characters) are a 400 naming the field, on ${engine}`, async (t) => {
    const { url, close } = await startListeningApp({}, engine);
    t.after(close);
    const send = (method: string, path: string, body?: unknown) => callJson(url, method, path, body);
    const refused = (where: string, problem: string) => ({ status: 400, json: { error: `invalid request: ${where} ${problem}`, code: 400, reason: 'invalid_request' } });
    const NOT_FINITE = 'must be a finite number';
    const HAS_NUL = 'must not contain the NUL character (\\u0000)';

    // Query strings: ajv used to turn "1e309" into Infinity and let it through to SQL (a 500).
    assert.deepEqual(await send('GET', '/api/audit?limit=1e309'), refused('querystring/limit', NOT_FINITE));
    assert.deepEqual(await send('GET', '/api/llm/usage?limit=-1e309'), refused('querystring/limit', NOT_FINITE));
    assert.deepEqual(await send('GET', '/api/compliance/history?limit=1e309'), refused('querystring/limit', NOT_FINITE));
    assert.deepEqual(await send('GET', '/api/state/some/key?history=1&limit=1e309'), refused('querystring/limit', NOT_FINITE));
    assert.deepEqual(await send('GET', '/api/state/some/key?version=1e309'), refused('querystring/version', NOT_FINITE));
    // Ordinary numbers still pass, and other bad numbers keep their own message.
    assert.equal((await send('GET', '/api/audit?limit=1e2')).status, 200);
    assert.deepEqual(await send('GET', '/api/audit?limit=1.5'), refused('querystring/limit', 'must be integer'));

    // NUL in a path parameter or a body field used to be a 500 from PostgreSQL.
    assert.deepEqual(await send('POST', '/api/instances/a%00b/heartbeat', {}), refused('params/id', HAS_NUL));
    assert.deepEqual(await send('POST', '/api/rules/propose', { project: 'p\0', rule_id: 'r', pattern: 'x', message: 'm' }), refused('body/project', HAS_NUL));
    assert.deepEqual(await send('POST', '/api/events/publish', { topic: 'agent.note', source: 'a\0', data: 1 }), refused('body/source', HAS_NUL));
    // An event's free-form data is stored as JSON text, NUL and all.
    const note = await send('POST', '/api/events/publish', { topic: 'agent.note', data: { text: 'a\0b' } });
    assert.equal(note.status, 200);
    assert.deepEqual((note.json as { data: unknown }).data, { text: 'a\0b' });

    // A body sending a number as text is not turned into one any more: it is the wrong type.
    // (Coerced, "1e309" was stored as Infinity, after which every listing of LLM usage failed.)
    const usage = (body: Record<string, unknown>) => send('POST', '/api/llm/usage', { provider: 'anthropic', model: 'm', tokens_out: 3, ...body });
    assert.deepEqual(await usage({ tokens_in: '1e309' }), refused('body/tokens_in', 'must be integer'));
    assert.deepEqual(await usage({ tokens_in: 1, session_tag: 'x\0' }), refused('body/session_tag', HAS_NUL));
    // Past bigint's range PostgreSQL answered with a 500; SQLite stored an inexact float. (The
    // field's own bound now answers first.)
    assert.deepEqual(await usage({ tokens_in: 1e20 }), refused('body/tokens_in', 'must be <= 1000000000000'));
    assert.equal((await usage({ tokens_in: 12 })).status, 200);
    const listed = await send('GET', '/api/llm/usage');
    assert.equal(listed.status, 200);
    assert.deepEqual((listed.json as Array<{ tokens_in: number }>).map((record) => record.tokens_in), [12]);
  });
}

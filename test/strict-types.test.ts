import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startListeningApp, testEngines } from './support/app.js';
import { callJson } from './support/http.js';

// A JSON body says what type each value has. A value of the wrong type is a client's bug and
// is refused naming the field; it used to be converted quietly (`{"topic": 12345}` was stored
// as the topic "12345"). Query strings and path parameters are text and are still read as the
// numbers and booleans their schema asks for.

for (const engine of testEngines()) {
  test(`body values of the wrong JSON type are a 400 naming the field, never converted (${engine})`, async (t) => {
    const { url, close } = await startListeningApp({}, engine);
    t.after(close);
    const send = (method: string, path: string, body?: unknown) => callJson(url, method, path, body);
    const refused = (field: string, problem: string) => ({ status: 400, json: { error: `invalid request: body/${field} ${problem}`, code: 400, reason: 'invalid_request' } });

    assert.deepEqual(await send('POST', '/api/events/publish', { topic: 12345 }), refused('topic', 'must be string'));
    assert.deepEqual(await send('POST', '/api/events/publish', { topic: null }), refused('topic', 'must be string'));
    assert.deepEqual(await send('POST', '/api/events/publish', { topic: 'a.b', source: true }), refused('source', 'must be string'));
    assert.deepEqual(await send('POST', '/api/instances/register', { name: 42 }), refused('name', 'must be string'));
    assert.deepEqual(await send('POST', '/api/llm/usage', { provider: 'p', model: 'm', cost_usd: '0.5' }), refused('cost_usd', 'must be number'));
    assert.deepEqual(await send('POST', '/api/llm/usage', { provider: 'p', model: 'm', tokens_in: '12' }), refused('tokens_in', 'must be integer'));
    assert.deepEqual(await send('PUT', '/api/validate/p/rules', [{ rule_id: 7, pattern: 'x' }]), refused('0/rule_id', 'must be string'));
    assert.deepEqual(await send('POST', '/api/validate/p', { content: 1 }), refused('content', 'must be string'));

    // Nothing of the refused writes was stored.
    assert.deepEqual((await send('GET', '/api/events/history')).json, []);
    assert.equal(((await send('GET', '/api/instances')).json as unknown[]).length, 0);
    assert.deepEqual((await send('GET', '/api/validate/p/rules')).json, { project: 'p', rules: [] });

    // The right types pass, and the query string is still read as numbers.
    assert.equal((await send('POST', '/api/events/publish', { topic: 'a.b', data: '12345' })).status, 200);
    assert.equal((await send('POST', '/api/llm/usage', { provider: 'p', model: 'm', tokens_in: 12, cost_usd: 0.5 })).status, 200);
    const history = await send('GET', '/api/events/history?last=1&topic=a.b');
    assert.equal(history.status, 200);
    assert.deepEqual((history.json as { topic: string; data: unknown }[]).map((e) => [e.topic, e.data]), [['a.b', '12345']]);
  });
}

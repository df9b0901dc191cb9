import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { startTestApp, testEngines } from '../../test/support/app.js';
import { checkContractDocument } from './document.js';

const ORDERS_CONTRACT = {
  kind: 'contract',
  version: '1.0',
  endpoints: {
    'POST /orders': {
      request: {
        customer: { type: 'string', required: true },
        note: { type: 'string', nullable: true },
        priority: { type: 'string', enum: ['low', 'high'] },
        items: {
          type: 'array',
          required: true,
          items: { type: 'object', fields: { sku: { type: 'string', required: true }, qty: { type: 'integer', required: true }, price: 'number' } },
        },
        meta: { type: 'object' },
      },
      response: { id: { type: 'integer', required: true }, status: { type: 'string', required: true } },
      response_status: 201,
    },
    'GET /orders': {
      query: { limit: { type: 'string' } },
      response: { id: { type: 'integer', required: true }, total: { type: 'number', required: true } },
      response_array: true,
    },
    'GET /health': {
      response: { ok: { type: 'boolean', required: true } },
    },
    'GET /orders/{id}': {
      response: { id: { type: 'integer', required: true } },
    },
    'PUT /orders/{id}': {
      schema: {
        request: {
          type: 'object',
          required: ['status'],
          properties: { status: { enum: ['open', 'closed'] }, tags: { type: 'array', items: { type: 'string', pattern: '^[a-z]+$' } } },
          additionalProperties: false,
        },
        response: { type: 'object', required: ['id'], properties: { id: { type: 'integer' } } },
      },
    },
  },
};

async function putSpec(app: FastifyInstance, project: string, name: string, doc: unknown) {
  return app.inject({ method: 'PUT', url: `/api/specs/${project}/${name}`, payload: JSON.stringify(doc), headers: { 'content-type': 'application/json' } });
}

async function check(app: FastifyInstance, body: Record<string, unknown>, contract = 'orders') {
  const res = await app.inject({ method: 'POST', url: `/api/contracts/shop/${contract}/validate`, payload: body });
  assert.equal(res.statusCode, 200, res.body);
  return res.json() as { valid: boolean; violations: { path: string; message: string }[]; truncated?: boolean };
}

function listen(handler: Parameters<typeof createServer>[1]): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }));
  });
}

test('contract documents are checked for shape', () => {
  assert.equal(checkContractDocument(ORDERS_CONTRACT), null);
  assert.equal(checkContractDocument({ kind: 'contract', endpoints: {} }), null);
  const problems: [unknown, RegExp][] = [
    [[], /JSON object/],
    [{ kind: 'contract' }, /endpoints/],
    [{ kind: 'contract', endpoints: { 'FETCH /x': {} } }, /FETCH \/x.*METHOD \/path/],
    [{ kind: 'contract', endpoints: { 'GET x': {} } }, /METHOD \/path/],
    [{ kind: 'contract', endpoints: { 'GET /x': { reponse: {} } } }, /unknown key "reponse"/],
    [{ kind: 'contract', endpoints: { 'GET /x': { response: { a: { type: 'text' } } } } }, /response\.a\.type must be one of/],
    [{ kind: 'contract', endpoints: { 'GET /x': { response: { a: 'strin' } } } }, /response\.a: type must be one of/],
    [{ kind: 'contract', endpoints: { 'GET /x': { response: { a: { type: 'string', fields: {} } } } } }, /fields is only allowed on type object/],
    [{ kind: 'contract', endpoints: { 'GET /x': { response: { a: { type: 'array', items: { type: 'nope' } } } } } }, /a\.items\.type/],
    [{ kind: 'contract', endpoints: { 'GET /x': { response: { a: { type: 'string', required: 'yes' } } } } }, /required must be a boolean/],
    [{ kind: 'contract', endpoints: { 'GET /x': { response_status: 99 } } }, /response_status/],
    [{ kind: 'contract', endpoints: { 'GET /x': { schema: { request: { type: 'objet' } } } } }, /schema\.request: invalid JSON Schema/],
    [{ kind: 'contract', endpoints: { 'GET /x': { schema: { reply: {} } } } }, /unknown direction "reply"/],
    [{ kind: 'contract', version: [], endpoints: {} }, /version/],
  ];
  for (const [doc, expected] of problems) assert.match(checkContractDocument(doc) ?? 'null', expected, JSON.stringify(doc));
});

for (const engine of testEngines()) {
  test(`payloads are validated against a stored contract (${engine})`, async (t) => {
    const { app, close } = await startTestApp({}, engine);
    t.after(close);
    assert.equal((await putSpec(app, 'shop', 'orders', ORDERS_CONTRACT)).statusCode, 200);

    const malformed = await putSpec(app, 'shop', 'broken', { kind: 'contract', endpoints: { 'GET /x': { response: { a: { type: 'text' } } } } });
    assert.equal(malformed.statusCode, 400);
    assert.match(malformed.json().error, /endpoints\["GET \/x"\]\.response\.a\.type must be one of/);
    const badSchema = await putSpec(app, 'shop', 'broken', { kind: 'contract', endpoints: { 'GET /x': { schema: { response: { type: 12 } } } } });
    assert.equal(badSchema.statusCode, 400);
    assert.match(badSchema.json().error, /invalid JSON Schema/);

    const good = { customer: 'ada', items: [{ sku: 'a', qty: 1, price: 2.5 }], note: null, priority: 'high' };
    assert.deepEqual(await check(app, { endpoint: 'POST /orders', payload: good }), { valid: true, violations: [] });
    // direction defaults to request; the method's case does not matter.
    assert.equal((await check(app, { endpoint: 'post /orders', direction: 'request', payload: good })).valid, true);

    const bad = await check(app, {
      endpoint: 'POST /orders',
      payload: { items: [{ sku: 'a', qty: 1 }, { sku: 'b', qty: 1.5 }, { sku: 'c', qty: 2, price: '9.99', colour: 'red' }], priority: 'urgent', extra: true, meta: null },
    });
    assert.equal(bad.valid, false);
    assert.deepEqual(bad.violations, [
      { path: 'customer', message: 'required field missing' },
      { path: 'priority', message: 'must be one of "low", "high"' },
      { path: 'items[1].qty', message: 'expected integer, got number' },
      { path: 'items[2].price', message: 'expected number, got string' },
      { path: 'items[2].colour', message: 'unknown field' },
      { path: 'meta', message: 'must not be null (expected object)' },
      { path: 'extra', message: 'unknown field' },
    ]);

    const notObject = await check(app, { endpoint: 'POST /orders', payload: [1] });
    assert.deepEqual(notObject.violations, [{ path: '$', message: 'expected object, got array' }]);

    const list = await check(app, { endpoint: 'GET /orders', direction: 'response', payload: [{ id: 1, total: 3 }, { id: 'two', total: 3 }, { total: 1 }] });
    assert.deepEqual(list.violations, [
      { path: '[1].id', message: 'expected integer, got string' },
      { path: '[2].id', message: 'required field missing' },
    ]);
    const notList = await check(app, { endpoint: 'GET /orders', direction: 'response', payload: { id: 1, total: 3 } });
    assert.deepEqual(notList.violations, [{ path: '$', message: 'expected array, got object' }]);

    // JSON Schema directions: same path style, unknown fields named.
    const schemaBad = await check(app, { endpoint: 'PUT /orders/{id}', payload: { status: 'lost', tags: ['ok', 'NOT OK'], who: 1 } });
    assert.equal(schemaBad.valid, false);
    assert.deepEqual(schemaBad.violations.map((v) => v.path).sort(), ['status', 'tags[1]', 'who']);
    assert.equal(schemaBad.violations.find((v) => v.path === 'who')!.message, 'unknown field');
    const schemaMissing = await check(app, { endpoint: 'PUT /orders/{id}', payload: {} });
    assert.deepEqual(schemaMissing.violations, [{ path: 'status', message: 'required field missing' }]);
    assert.equal((await check(app, { endpoint: 'PUT /orders/{id}', payload: { status: 'open', tags: ['a'] } })).valid, true);

    const unknownEndpoint = await app.inject({ method: 'POST', url: '/api/contracts/shop/orders/validate', payload: { endpoint: 'DELETE /orders', payload: {} } });
    assert.equal(unknownEndpoint.statusCode, 400);
    assert.match(unknownEndpoint.json().error, /DELETE \/orders/);
    const badDirection = await app.inject({ method: 'POST', url: '/api/contracts/shop/orders/validate', payload: { endpoint: 'POST /orders', direction: 'sideways', payload: {} } });
    assert.equal(badDirection.statusCode, 400);
    const missing = await app.inject({ method: 'POST', url: '/api/contracts/shop/nope/validate', payload: { endpoint: 'POST /orders', payload: {} } });
    assert.equal(missing.statusCode, 404);
    await app.inject({ method: 'PUT', url: '/api/specs/shop/readme', payload: '# hello', headers: { 'content-type': 'text/markdown' } });
    const notContract = await app.inject({ method: 'POST', url: '/api/contracts/shop/readme/validate', payload: { endpoint: 'GET /x', payload: {} } });
    assert.equal(notContract.statusCode, 400);
    assert.match(notContract.json().error, /not a contract/);
  });

  test(`contract tests call a live service that conforms and one that does not (${engine})`, async (t) => {
    const { app, close } = await startTestApp({}, engine);
    t.after(close);
    assert.equal((await putSpec(app, 'shop', 'orders', ORDERS_CONTRACT)).statusCode, 200);

    const seen: { method: string; url: string; body: string }[] = [];
    const conforming = await listen((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        seen.push({ method: req.method!, url: req.url!, body });
        res.setHeader('content-type', 'application/json');
        if (req.method === 'POST' && req.url === '/orders') {
          res.statusCode = 201;
          res.end(JSON.stringify({ id: 7, status: 'open' }));
        } else if (req.url?.startsWith('/orders/')) {
          res.end(JSON.stringify({ id: Number(req.url.split('/')[2]) }));
        } else {
          res.end(JSON.stringify([{ id: 1, total: 9.5 }, { id: 2, total: 0 }]));
        }
      });
    });
    t.after(() => new Promise((resolve) => conforming.server.close(resolve)));
    const broken = await listen((req, res) => {
      res.setHeader('content-type', 'application/json');
      if (req.url === '/orders' && req.method === 'POST') {
        res.statusCode = 200;
        res.end(JSON.stringify({ id: 'x', extra: 1 }));
      } else if (req.url === '/health') {
        res.end('not json');
      } else {
        res.end(JSON.stringify([{ id: 1, total: 'a lot' }]));
      }
    });
    t.after(() => new Promise((resolve) => broken.server.close(resolve)));

    const run = async (body: Record<string, unknown>) => {
      const res = await app.inject({ method: 'POST', url: '/api/contracts/shop/orders/test', payload: body });
      assert.equal(res.statusCode, 200, res.body);
      return res.json();
    };

    const ok = await run({ endpoint: 'POST /orders', base_url: conforming.url, test_data: { customer: 'ada', items: [{ sku: 'a', qty: 1 }] } });
    assert.deepEqual(ok, { valid: true, endpoint: 'POST /orders', status_code: 201, request_violations: [], response_violations: [], error: '' });
    assert.deepEqual(JSON.parse(seen[0]!.body), { customer: 'ada', items: [{ sku: 'a', qty: 1 }] });

    const list = await run({ endpoint: 'GET /orders', base_url: `${conforming.url}/`, test_data: { limit: '2' } });
    assert.equal(list.valid, true);
    assert.equal(seen[1]!.url, '/orders?limit=2');
    const one = await run({ endpoint: 'GET /orders/{id}', base_url: conforming.url, test_data: { id: 42 } });
    assert.equal(one.valid, true);
    assert.equal(seen[2]!.url, '/orders/42');

    const wrong = await run({ endpoint: 'POST /orders', base_url: broken.url, test_data: { customer: 'ada', items: [], bogus: 1 } });
    assert.equal(wrong.valid, false);
    assert.equal(wrong.status_code, 200);
    assert.deepEqual(wrong.request_violations, [{ path: 'bogus', message: 'unknown field' }]);
    assert.deepEqual(wrong.response_violations, [
      { path: 'status', message: 'expected status 201, got 200' },
      { path: 'id', message: 'expected integer, got string' },
      { path: 'status', message: 'required field missing' },
      { path: 'extra', message: 'unknown field' },
    ]);
    const wrongList = await run({ endpoint: 'GET /orders', base_url: broken.url });
    assert.deepEqual(wrongList.response_violations, [{ path: '[0].total', message: 'expected number, got string' }]);
    const notJson = await run({ endpoint: 'GET /health', base_url: broken.url });
    assert.deepEqual(notJson.response_violations, [{ path: '$', message: 'response body is not JSON' }]);

    // Nothing listening: an answer with the reason, not a failure of the API.
    const closedPort = await listen(() => undefined);
    await new Promise((resolve) => closedPort.server.close(resolve));
    const down = await run({ endpoint: 'GET /health', base_url: closedPort.url });
    assert.equal(down.valid, false);
    assert.equal(down.status_code, 0);
    assert.match(down.error, /request failed/);

    const badUrl = await app.inject({ method: 'POST', url: '/api/contracts/shop/orders/test', payload: { endpoint: 'GET /health', base_url: 'ftp://x' } });
    assert.equal(badUrl.statusCode, 400);
    assert.match(badUrl.json().error, /base_url/);
  });
}

// Hostile sizes: a 2 MB JSON Schema used to hold the server for eleven seconds while ajv
// compiled it, a 10 MB array of wrong items answered with every one of its violations, and a
// live service's answer was read whole, however long.
test('contracts bound what they take: a JSON Schema up to 64 KB, 1000 violations listed, 1 MB of a live answer', async (t) => {
  const { app, close } = await startTestApp();
  t.after(close);
  const properties = (count: number) => Object.fromEntries(Array.from({ length: count }, (_, i) => [`field_${i}`, { type: 'string', pattern: '^[a-z]+$' }]));
  const withSchema = (count: number) => ({ kind: 'contract', version: '1', endpoints: { 'POST /x': { schema: { request: { type: 'object', properties: properties(count) } } } } });

  const huge = await putSpec(app, 'shop', 'huge', withSchema(30_000));
  assert.equal(huge.statusCode, 400);
  assert.match(huge.json().error, /endpoints\["POST \/x"\]\.schema\.request: invalid JSON Schema: it is \d+ KB as JSON; the limit is 64 KB/);
  assert.equal((await app.inject({ method: 'GET', url: '/api/specs/shop/huge' })).statusCode, 404);
  assert.equal((await putSpec(app, 'shop', 'large', withSchema(500))).statusCode, 200);

  assert.equal((await putSpec(app, 'shop', 'strings', { kind: 'contract', version: '1', endpoints: { 'POST /x': { schema: { request: { type: 'array', items: { type: 'string' } } } } } })).statusCode, 200);
  const many = await check(app, { endpoint: 'POST /x', payload: Array.from({ length: 5_000 }, (_, i) => i) }, 'strings');
  assert.equal(many.valid, false);
  assert.equal(many.truncated, true);
  assert.equal(many.violations.length, 1000);
  assert.deepEqual(many.violations[999], { path: '[999]', message: 'must be string' });
  // Below the limit nothing is cut, and the answer does not say it was.
  const few = await check(app, { endpoint: 'POST /x', payload: [1, 'a'] }, 'strings');
  assert.deepEqual(few, { valid: false, violations: [{ path: '[0]', message: 'must be string' }] });

  // A live service whose answer never ends is read up to 1 MB (SPEC §15), not until memory runs out.
  assert.equal((await putSpec(app, 'shop', 'orders', ORDERS_CONTRACT)).statusCode, 200);
  const endless = await listen((_req, res) => {
    res.setHeader('content-type', 'application/json');
    const chunk = Buffer.alloc(64 * 1024, ' ');
    const more = () => {
      while (!res.destroyed && res.write(chunk));
      if (!res.destroyed) res.once('drain', more);
    };
    res.write('[');
    more();
  });
  t.after(() => new Promise((resolve) => { endless.server.closeAllConnections(); endless.server.close(resolve); }));
  const live = await app.inject({ method: 'POST', url: '/api/contracts/shop/orders/test', payload: { endpoint: 'GET /orders', base_url: endless.url } });
  assert.equal(live.statusCode, 200);
  assert.deepEqual(live.json().response_violations, [{ path: '$', message: 'response body is larger than 1 MB: only that much is read, so it was not checked' }]);
  assert.equal(live.json().valid, false);
});

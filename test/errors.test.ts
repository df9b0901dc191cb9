import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { InjectOptions } from 'fastify';
import { HttpError, conflict, errorBody } from '../src/kernel/errors.js';
import { startTestApp } from './support/app.js';
import { packageRoot } from './support/paths.js';

test('every error answer carries a stable reason beside its numeric code', async (t) => {
  const { app, close } = await startTestApp();
  t.after(close);
  const answer = async (options: InjectOptions) => {
    const response = await app.inject(options);
    const body = response.json();
    assert.equal(body.code, response.statusCode, 'code stays the HTTP status');
    return { status: response.statusCode, reason: body.reason as string };
  };

  assert.deepEqual(await answer({ method: 'GET', url: '/api/state/missing' }), { status: 404, reason: 'not_found' });
  assert.deepEqual(await answer({ method: 'GET', url: '/api/no-such-route' }), { status: 404, reason: 'no_route' });
  assert.deepEqual(await answer({ method: 'GET', url: '/api/events/history?last=0' }), { status: 400, reason: 'invalid_request' });
  assert.deepEqual(await answer({ method: 'GET', url: '/api/events/history?after=abc' }), { status: 400, reason: 'bad_request' });
  assert.deepEqual(
    await answer({ method: 'POST', url: '/api/events/publish', headers: { 'content-type': 'application/json' }, payload: '{"topic":' }),
    { status: 400, reason: 'malformed_json' },
  );
  assert.deepEqual(
    await answer({ method: 'POST', url: '/api/events/publish', headers: { 'content-type': 'application/xml' }, payload: '<topic/>' }),
    { status: 415, reason: 'unsupported_media_type' },
  );
  assert.deepEqual(await answer({ method: 'GET', url: '/api/events/subscribe' }), { status: 426, reason: 'upgrade_required' });

  // A failed precondition keeps its extra fields after the reason.
  await app.inject({ method: 'PUT', url: '/api/state/k', payload: { v: 1 } });
  const stale = await app.inject({ method: 'PUT', url: '/api/state/k', headers: { 'if-match': '9' }, payload: { v: 2 } });
  assert.equal(stale.statusCode, 412);
  assert.deepEqual(Object.keys(stale.json()), ['error', 'code', 'reason', 'current_version', 'current_etag']);
  assert.equal(stale.json().reason, 'precondition_failed');

  const template = { id: 'starter', name: 'Starter', kind: 'rules', data: [{ rule_id: 'no-todo', pattern: 'TODO' }] };
  assert.equal((await app.inject({ method: 'POST', url: '/api/templates', payload: template })).statusCode, 200);
  assert.deepEqual(await answer({ method: 'POST', url: '/api/templates', payload: template }), { status: 409, reason: 'conflict' });

  // MCP clients read JSON-RPC errors; Koor's body rides along as the error's data.
  const mcp = await app.inject({ method: 'GET', url: '/mcp' });
  assert.equal(mcp.statusCode, 405);
  assert.deepEqual(mcp.json().error.data, { error: 'GET /mcp needs an MCP session', code: 405, reason: 'method_not_allowed' });

  // The reason is part of the documented error schema.
  const openapi = (await app.inject({ method: 'GET', url: '/api/openapi.json' })).json();
  const schemas = Object.values(openapi.components.schemas as Record<string, { title?: string; required?: string[] }>);
  const koorError = schemas.find((s) => s.title === 'KoorError');
  assert.ok(koorError, 'the OpenAPI document describes KoorError');
  assert.deepEqual(koorError.required, ['error', 'code', 'reason']);
});

test('an unauthenticated call is refused with reason unauthorized', async (t) => {
  const { app, close } = await startTestApp({ authToken: 's3cret' });
  t.after(close);
  const refused = await app.inject({ method: 'GET', url: '/api/state' });
  assert.deepEqual(refused.json(), { error: 'invalid or missing bearer token', code: 401, reason: 'unauthorized' });
});

test('a thrower may name its own reason; the builder keeps error, code and reason first', () => {
  const held = conflict('src/a.ts is leased by agent-2', { reason: 'lease_conflict', conflicts: [{ id: 'l1' }] });
  assert.equal(held.status, 409);
  assert.deepEqual(held.body(), { error: 'src/a.ts is leased by agent-2', code: 409, reason: 'lease_conflict', conflicts: [{ id: 'l1' }] });
  assert.equal(conflict('template already exists: x').body().reason, 'conflict');

  // Extra fields cannot overwrite the three that every client reads.
  assert.deepEqual(errorBody(400, 'bad', { error: 'other', code: 200, detail: 1 }), { error: 'bad', code: 400, reason: 'bad_request', detail: 1 });
  assert.equal(errorBody(418, 'teapot').reason, 'http_418');
  assert.throws(() => new HttpError(409, 'x', { reason: 'Lease Conflict' }), /lower snake_case/);
});

/** Source files under src/, tests aside. */
function sourceFiles(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) sourceFiles(path, out);
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

/** Source text without comments, and with template interpolations reduced to a placeholder. */
const normalise = (source: string) => source.replace(/\/\*[\s\S]*?\*\/|\/\/[^\n]*/g, '').replace(/\$\{[^{}]*\}/g, '_');

/**
 * Shapes of a hand-written error body: an object literal with an `error:` value (not a nested
 * object, as JSON-RPC's `error: {code, message}` is) and a `code:` key in either order, or
 * the JSON text of one.
 */
const HAND_WRITTEN_ERROR_BODY = [
  /[{,]\s*error\s*:\s*[^\s{][^;{}]*?[,\s]code\s*:/,
  /[{,]\s*code\s*:\s*[^;{}]*?[,\s]error\s*:\s*[^\s{]/,
  /["']\{\s*\\?"error\\?"\s*:/,
];

test('only the error builder in src/kernel/errors.ts writes an {error, code} body', () => {
  const root = packageRoot();
  const offenders: string[] = [];
  for (const file of sourceFiles(join(root, 'src'))) {
    const name = relative(root, file);
    if (name === join('src', 'kernel', 'errors.ts')) continue;
    // The CLI and the wizard read error bodies and print their own; they never answer HTTP.
    if (name.startsWith(join('src', 'cli')) || name.startsWith(join('src', 'wizard'))) continue;
    const text = normalise(readFileSync(file, 'utf8'));
    for (const pattern of HAND_WRITTEN_ERROR_BODY) {
      const found = pattern.exec(text);
      if (found) offenders.push(`${name}: ${found[0].replace(/\s+/g, ' ').slice(0, 80)}`);
    }
  }
  assert.deepEqual(offenders, [], 'build error bodies with errorBody()/errorJson()/HttpError from src/kernel/errors.ts');
});

test('the source check recognises the hand-written bodies it is meant to find', () => {
  const found = (source: string) => HAND_WRITTEN_ERROR_BODY.some((pattern) => pattern.test(normalise(source)));
  assert.ok(found(`reply.status(404).send({ error: \`no route for \${url}\`, code: 404 });`));
  assert.ok(found(`const body = JSON.stringify({ error: message, code: status });`));
  assert.ok(found(`send({\n  code: status,\n  error: message,\n})`));
  assert.ok(found(`response.end('{"error":"gone","code":410}')`));
  assert.ok(!found(`send({ jsonrpc: '2.0', error: { code: -32000, message }, id: null })`));
  assert.ok(!found(`return { ok: false, error: \`receiver answered \${status}\` };`));
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { startTestApp, testEngines } from './support/app.js';

async function record(app: FastifyInstance, body: object, headers: Record<string, string> = {}) {
  const res = await app.inject({ method: 'POST', url: '/api/llm/usage', payload: body, headers });
  assert.equal(res.statusCode, 200, res.body);
  return res.json() as { id: number; recorded: boolean };
}

for (const engine of testEngines()) {
  test(`LLM usage is recorded, listed and summed on ${engine}`, async (t) => {
    const { app, close } = await startTestApp({}, engine);
    t.after(close);
    const { id: instanceId, token } = (await app.inject({ method: 'POST', url: '/api/instances/register', payload: { name: 'coder' } })).json();

    const first = await record(app, { provider: 'anthropic', model: 'claude', project: 'shop', tokens_in: 1000, tokens_out: 200, cost_usd: 0.1, session_tag: 's1' },
      { 'x-koor-instance-token': token });
    assert.deepEqual(first, { id: first.id, recorded: true });
    await record(app, { provider: 'anthropic', model: 'claude', project: 'shop', tokens_in: 500, tokens_out: 100, cost_usd: 0.2, session_tag: 's2', instance_id: 'elsewhere' });
    await record(app, { provider: 'openai', model: 'gpt', project: 'blog', tokens_in: 7, cost_usd: 0.7, request_type: 'embedding' });

    const listed = (await app.inject({ method: 'GET', url: '/api/llm/usage' })).json();
    assert.equal(listed.length, 3);
    assert.deepEqual(listed.map((r: { model: string }) => r.model), ['gpt', 'claude', 'claude']);
    const mine = listed.find((r: { id: number }) => r.id === first.id);
    assert.deepEqual({ ...mine, created_at: undefined }, {
      id: first.id, created_at: undefined, provider: 'anthropic', model: 'claude', instance_id: instanceId, project: 'shop',
      tokens_in: 1000, tokens_out: 200, cost_usd: 0.1, request_type: 'completion', session_tag: 's1',
    });
    assert.equal(listed[0].tokens_out, 0);
    assert.equal(listed[0].request_type, 'embedding');

    const byInstance = (await app.inject({ method: 'GET', url: `/api/llm/usage?instance=${instanceId}` })).json();
    assert.deepEqual(byInstance.map((r: { id: number }) => r.id), [first.id]);
    assert.equal((await app.inject({ method: 'GET', url: '/api/llm/usage?project=shop' })).json().length, 2);
    assert.equal((await app.inject({ method: 'GET', url: '/api/llm/usage?session_tag=s2' })).json().length, 1);
    assert.equal((await app.inject({ method: 'GET', url: '/api/llm/usage?limit=1' })).json().length, 1);
    assert.equal((await app.inject({ method: 'GET', url: '/api/llm/usage?to=2000-01-01' })).json().length, 0);

    const byProject = (await app.inject({ method: 'GET', url: '/api/llm/usage/summary?group_by=project' })).json();
    assert.deepEqual(byProject, {
      group_by: 'project',
      from: '',
      to: '',
      groups: {
        blog: { total_tokens_in: 7, total_tokens_out: 0, total_cost_usd: 0.7, request_count: 1 },
        shop: { total_tokens_in: 1500, total_tokens_out: 300, total_cost_usd: 0.3, request_count: 2 },
      },
      total: { total_tokens_in: 1507, total_tokens_out: 300, total_cost_usd: 1, request_count: 3 },
    });
    const byModel = (await app.inject({ method: 'GET', url: '/api/llm/usage/summary?group_by=model&from=2000-01-01' })).json();
    assert.deepEqual(Object.keys(byModel.groups), ['claude', 'gpt']);
    assert.equal(byModel.from, '2000-01-01T00:00:00.000Z');
    const byInstanceSummary = (await app.inject({ method: 'GET', url: '/api/llm/usage/summary?group_by=instance' })).json();
    assert.deepEqual(Object.keys(byInstanceSummary.groups).sort(), ['', instanceId, 'elsewhere'].sort());
    const bySession = (await app.inject({ method: 'GET', url: '/api/llm/usage/summary?group_by=session_tag&to=2000-01-01' })).json();
    assert.deepEqual(bySession.groups, {});
    assert.deepEqual(bySession.total, { total_tokens_in: 0, total_tokens_out: 0, total_cost_usd: 0, request_count: 0 });

    // Each record is audited and announced.
    const audit = (await app.inject({ method: 'GET', url: '/api/audit?action=llm.usage' })).json();
    assert.deepEqual(audit.map((e: { actor: string }) => e.actor), ['anonymous', 'anonymous', instanceId]);
    const events = (await app.inject({ method: 'GET', url: '/api/events/history?topic=llm.usage.recorded' })).json();
    assert.equal(events.length, 3);
    assert.equal(events.find((e: { data: { id: number } }) => e.data.id === first.id).data.cost_usd, 0.1);
  });
}

test('bad LLM usage input and queries are refused naming the field', async (t) => {
  const { app, close } = await startTestApp();
  t.after(close);
  for (const [body, field] of [
    [{ model: 'm' }, 'provider'],
    [{ provider: 'p' }, 'model'],
    [{ provider: 'p', model: 'm', tokens_in: -1 }, 'tokens_in'],
    [{ provider: 'p', model: 'm', cost_usd: 'a lot' }, 'cost_usd'],
    // Past what any total can hold: two of 1e308 summed to Infinity, shown as null.
    [{ provider: 'p', model: 'm', cost_usd: 1e308 }, 'cost_usd'],
    [{ provider: 'p', model: 'm', tokens_out: 1e15 }, 'tokens_out'],
  ] as const) {
    const res = await app.inject({ method: 'POST', url: '/api/llm/usage', payload: body });
    assert.equal(res.statusCode, 400);
    assert.match(res.json().error, new RegExp(field));
  }
  for (const [url, field] of [
    ['/api/llm/usage/summary?group_by=provider', 'group_by'],
    ['/api/llm/usage?from=soon', 'from'],
    ['/api/llm/usage/summary?to=2026-02-16T99:00:00Z', 'to'],
    ['/api/llm/usage/summary?from=2026-02-17&to=2026-02-16', 'from'],
  ] as const) {
    const res = await app.inject({ method: 'GET', url });
    assert.equal(res.statusCode, 400, url);
    assert.match(res.json().error, new RegExp(field));
  }
  // Nothing recorded, six failures audited.
  assert.equal((await app.inject({ method: 'GET', url: '/api/llm/usage' })).json().length, 0);
  const audit = (await app.inject({ method: 'GET', url: '/api/audit/summary' })).json();
  assert.deepEqual(audit.outcome_counts, { error: 6 });

  // The largest costs allowed still add up to a number.
  for (let i = 0; i < 3; i++) await app.inject({ method: 'POST', url: '/api/llm/usage', payload: { provider: 'p', model: 'm', cost_usd: 1e9, tokens_in: 1e12 } });
  const summary = (await app.inject({ method: 'GET', url: '/api/llm/usage/summary?group_by=model' })).json();
  assert.deepEqual(summary.total, { total_tokens_in: 3e12, total_tokens_out: 0, total_cost_usd: 3e9, request_count: 3 });
});

test('koor-cli llm record stores one LLM call for this agent; a bad number is refused before anything is sent', async (t) => {
  const { startListeningApp } = await import('./support/app.js');
  const { CliWorkspace } = await import('./support/cli.js');
  const server = await startListeningApp();
  t.after(server.close);
  const admin = new CliWorkspace(server.url);
  t.after(() => admin.remove());
  const agent = await admin.json(['register', 'writer', '--workspace', 'docs']);
  // The identity register saved makes the agent's calls its own.
  const recorded = await admin.json(['llm', 'record', '--provider', 'anthropic', '--model', 'claude-sonnet', '--tokens-in', '1200', '--tokens-out', '300', '--cost-usd', '0.012', '--project', 'docs', '--session-tag', 's1']);
  assert.equal(recorded.recorded, true);
  const usage = await admin.json(['llm', 'usage', '--project', 'docs']);
  assert.equal(usage.length, 1);
  assert.equal(usage[0].instance_id, agent.id);
  assert.equal(usage[0].tokens_in, 1200);
  assert.equal(usage[0].cost_usd, 0.012);
  const bad = await admin.run(['llm', 'record', '--provider', 'anthropic', '--model', 'x', '--cost-usd', 'cheap']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--cost-usd must be a number/);
  assert.equal((await admin.json(['llm', 'usage'])).length, 1);
});

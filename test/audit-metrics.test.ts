import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp } from '../src/server/app.js';
import { startTestApp, testEngines } from './support/app.js';

const hourOf = (date: Date) => date.toISOString().slice(0, 13);

for (const engine of testEngines()) {
  test(`an agent's REST calls land in its hourly bucket on ${engine}`, async (t) => {
    const { app, close } = await startTestApp({}, engine);
    t.after(close);
    const reg = await app.inject({ method: 'POST', url: '/api/instances/register', payload: { name: 'counter' } });
    const { id, token } = reg.json() as { id: string; token: string };

    const before = hourOf(new Date());
    for (let i = 0; i < 3; i++) {
      const res = await app.inject({ method: 'GET', url: '/api/state', headers: { 'x-koor-instance-token': token } });
      assert.equal(res.statusCode, 200);
    }
    // Not REST: never counted for the agent.
    await app.inject({ method: 'GET', url: '/health', headers: { 'x-koor-instance-token': token } });
    const after = hourOf(new Date());

    // Reads include what is still in memory.
    const rows = (await app.inject({ method: 'GET', url: `/api/metrics/agents/${id}` })).json() as
      { instance_id: string; metric_name: string; metric_value: number; period: string }[];
    const restRows = rows.filter((r) => r.metric_name === 'rest_calls');
    assert.ok(restRows.length >= 1);
    assert.ok(restRows.every((r) => r.instance_id === id && (r.period === before || r.period === after)));
    assert.equal(restRows.reduce((sum, r) => sum + r.metric_value, 0), 3);

    // Counts from other places (events_published, violations) at a known time, and the views.
    app.koor.counters.addAgentMetric(id, 'violations', 2, new Date('2026-02-16T14:59:59.999Z'));
    app.koor.counters.addAgentMetric(id, 'violations', 5, new Date('2026-02-16T15:00:00.000Z'));
    app.koor.counters.addAgentMetric('other', 'events_published', 4, new Date('2026-02-16T15:30:00.000Z'));

    const hour = await app.inject({ method: 'GET', url: `/api/metrics/agents/${id}?period=2026-02-16T14` });
    assert.deepEqual(hour.json(), [{ instance_id: id, metric_name: 'violations', metric_value: 2, period: '2026-02-16T14' }]);
    const day = await app.inject({ method: 'GET', url: `/api/metrics/agents?instance_id=${id}&period=2026-02-16` });
    assert.deepEqual(day.json(), [
      { instance_id: id, metric_name: 'violations', metric_value: 2, period: '2026-02-16T14' },
      { instance_id: id, metric_name: 'violations', metric_value: 5, period: '2026-02-16T15' },
    ]);
    const summary = await app.inject({ method: 'GET', url: '/api/metrics/agents?period=2026-02' });
    assert.deepEqual(summary.json(), [
      { instance_id: id, metrics: { violations: 7 } },
      { instance_id: 'other', metrics: { events_published: 4 } },
    ]);
    // A second flush adds to the bucket instead of replacing it.
    app.koor.counters.addAgentMetric(id, 'violations', 1, new Date('2026-02-16T14:10:00.000Z'));
    const again = await app.inject({ method: 'GET', url: `/api/metrics/agents/${id}?period=2026-02-16T14` });
    assert.equal(again.json()[0].metric_value, 3);

    const bad = await app.inject({ method: 'GET', url: '/api/metrics/agents?period=last%20week' });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.json().error, /period/);
  });

  test(`server metrics and the token tax on ${engine}`, async (t) => {
    const { app, close } = await startTestApp({}, engine);
    t.after(close);
    const agent = { 'x-koor-instance-token': (await app.inject({ method: 'POST', url: '/api/instances/register', payload: { name: 'x' } })).json().token };
    await app.inject({ method: 'PUT', url: '/api/state/k1', payload: 'v', headers: { 'content-type': 'text/plain', ...agent } });
    await app.inject({ method: 'POST', url: '/api/events/publish', payload: { topic: 'build.done', data: {} }, headers: agent });
    await app.inject({ method: 'GET', url: '/api/state/k1', headers: agent });
    // A person's (or the dashboard's) calls saved no agent any tokens: not counted.
    for (let i = 0; i < 5; i++) await app.inject({ method: 'GET', url: '/api/state' });
    await app.inject({ method: 'GET', url: '/health', headers: agent });
    await app.inject({ method: 'GET', url: '/metrics', headers: agent });
    app.koor.counters.countCall('mcp');

    const metrics = (await app.inject({ method: 'GET', url: '/api/metrics' })).json();
    assert.equal(metrics.state_keys, 1);
    assert.equal(metrics.instances, 1);
    assert.ok(metrics.last_event_id >= 1);
    assert.match(metrics.uptime, /^\d+s$/, "Go's duration text");
    assert.equal(typeof metrics.uptime_seconds, 'number');
    assert.equal(metrics.api_bind, app.koor.config.bind);
    assert.equal(metrics.dashboard_bind, '');
    // 3 agent REST calls; /health and /metrics are not REST data calls; the anonymous ones are not an agent's.
    assert.deepEqual(metrics.token_tax, {
      mcp_calls: 1,
      rest_calls: 3,
      total_calls: 4,
      mcp_estimated_tokens: 500,
      rest_tokens_saved: 1500,
      savings_percent: 75,
    });

    // Resetting is the admin's (SPEC §15): an agent is refused, and the refusal is audited.
    const refused = await app.inject({ method: 'POST', url: '/api/metrics/reset', headers: agent });
    assert.equal(refused.statusCode, 403);
    assert.equal(refused.json().error, 'an agent token may not reset metrics');
    const reset = await app.inject({ method: 'POST', url: '/api/metrics/reset' });
    assert.equal(reset.statusCode, 200);
    assert.equal(reset.json().token_tax.total_calls, 0);
    await app.inject({ method: 'GET', url: '/api/state/k1', headers: agent });
    const after = (await app.inject({ method: 'GET', url: '/api/metrics' })).json();
    assert.equal(after.token_tax.rest_calls, 1); // the agent's call after the reset
    const entries = (await app.inject({ method: 'GET', url: '/api/audit?action=metrics.reset' })).json();
    assert.deepEqual(entries.map((e: { outcome: string }) => e.outcome), ['success', 'error']);
  });
}

test('GET /metrics is Prometheus text with the request, event, webhook, subscriber and instance metrics', async (t) => {
  const { app, close } = await startTestApp();
  t.after(close);
  await app.inject({ method: 'PUT', url: '/api/state/a/b', payload: 'v', headers: { 'content-type': 'text/plain' } });
  await app.inject({ method: 'PUT', url: '/api/state/c', payload: '', headers: { 'content-type': 'text/plain' } });
  await app.inject({ method: 'POST', url: '/api/instances/register', payload: { name: 'p' } });
  await app.inject({ method: 'GET', url: '/nowhere/at/all' });

  const res = await app.inject({ method: 'GET', url: '/metrics' });
  assert.equal(res.statusCode, 200);
  assert.match(String(res.headers['content-type']), /^text\/plain; version=0\.0\.4/);
  const samples = new Map<string, number>();
  const typed = new Set<string>();
  for (const line of res.body.split('\n')) {
    if (line === '') continue;
    const type = /^# TYPE (\S+) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (type) typed.add(type[1]!);
    if (line.startsWith('#')) {
      assert.match(line, /^# (HELP|TYPE) /);
      continue;
    }
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (-?[0-9.e+-]+|NaN|\+Inf|-Inf)$/.exec(line);
    assert.ok(sample, `not a Prometheus sample line: ${line}`);
    samples.set(sample[1]!, Number(sample[2]));
  }
  for (const name of [
    'koor_http_requests_total', 'koor_http_request_duration_seconds', 'koor_events_published_total',
    'koor_websocket_subscribers', 'koor_webhook_deliveries_total', 'koor_webhook_failures_total',
    'koor_instances', 'koor_token_tax_calls', 'koor_token_tax_tokens', 'koor_state_keys', 'koor_last_event_id',
  ]) assert.ok(typed.has(name), `missing metric ${name}`);

  assert.equal(samples.get('koor_http_requests_total{method="PUT",route="/api/state/*",status="200"}'), 1);
  assert.equal(samples.get('koor_http_requests_total{method="PUT",route="/api/state/*",status="400"}'), 1);
  assert.equal(samples.get('koor_http_requests_total{method="GET",route="unmatched",status="404"}'), 1);
  assert.equal(samples.get('koor_http_request_duration_seconds_count{method="PUT",route="/api/state/*",status="200"}'), 1);
  const instances = ['pending', 'active', 'stale'].map((status) => samples.get(`koor_instances{status="${status}"}`));
  assert.ok(instances.every((n) => n !== undefined));
  assert.equal(instances.reduce((sum, n) => sum! + n!, 0), 1);
  assert.equal(samples.get('koor_state_keys'), 1);
  assert.ok((samples.get('koor_events_published_total') ?? 0) >= 1);
});

test('agent counts are flushed on the interval and at shutdown', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'koor-metrics-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const config = { dataDir, dashboardBind: '', logLevel: 'silent' as const, metricsFlushIntervalMs: 20 };

  const first = await buildApp(config);
  first.koor.counters.addAgentMetric('agent-1', 'rest_calls', 2, new Date('2026-02-16T09:15:00Z'));
  // The background job writes it without any read asking for it.
  for (;;) {
    const row = await first.koor.db.query.selectFrom('agent_metrics').selectAll().executeTakeFirst();
    if (row) break;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  first.koor.counters.addAgentMetric('agent-1', 'rest_calls', 3, new Date('2026-02-16T09:45:00Z'));
  await first.close();

  const second = await buildApp(config);
  const rows = (await second.inject({ method: 'GET', url: '/api/metrics/agents/agent-1' })).json();
  await second.close();
  assert.deepEqual(rows, [{ instance_id: 'agent-1', metric_name: 'rest_calls', metric_value: 5, period: '2026-02-16T09' }]);
});

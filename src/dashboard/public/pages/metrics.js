import { useMemo, useState } from 'preact/hooks';
import { html } from '../lib/html.js';
import { api, encodePath } from '../lib/api.js';
import { useData } from '../lib/hooks.js';
import { formatNumber, formatTime, formatUsd, localInputToIso } from '../lib/format.js';
import { TimeChart } from '../lib/chart.js';
import { BarList, Empty, ErrorNote, Field, PageHeader, Section, TableWrap, Tiles } from '../lib/ui.js';
import { useNames, Who } from '../lib/names.js';
import { navigate } from '../lib/router.js';

/** Hourly rows → [hour starts (s), one array per metric name]. */
function hourlySeries(rows) {
  const names = [...new Set(rows.map((r) => r.metric_name))].sort();
  const hours = [...new Set(rows.map((r) => r.period))].sort();
  const xs = hours.map((p) => Date.parse(`${p}:00:00Z`) / 1000);
  const ys = names.map((name) => hours.map((p) => rows.filter((r) => r.period === p && r.metric_name === name).reduce((sum, r) => sum + Number(r.metric_value), 0)));
  return { names, data: [xs, ...ys] };
}

function AgentHistory({ instanceId, label }) {
  const rows = useData(() => api.get(`/api/metrics/agents/${encodePath(instanceId)}`), [instanceId], 30_000);
  const series = useMemo(() => hourlySeries(rows.data ?? []), [rows.data]);
  return html`
    <${Section} id="agent-history" title=${`Hourly metrics of ${label}`}>
      <${ErrorNote} error=${rows.error} />
      <${TimeChart} label=${`Hourly metrics of ${label}`} bars=${series.data[0].length < 3} data=${series.data} series=${series.names.map((n) => ({ label: n }))} />
    <//>`;
}

function AgentMetrics({ selected }) {
  const summary = useData(() => api.get('/api/metrics/agents'), [], 30_000);
  const instances = useData(() => api.get('/api/instances'), [], 60_000);
  const names = useMemo(() => new Map((instances.data ?? []).map((i) => [i.id, i.name])), [instances.data]);
  const rows = summary.data ?? [];
  const metricNames = useMemo(() => [...new Set(rows.flatMap((r) => Object.keys(r.metrics ?? {})))].sort(), [rows]);
  const calls = rows.map((r) => ({ label: names.get(r.instance_id) ?? r.instance_id, value: (r.metrics?.rest_calls ?? 0) + (r.metrics?.mcp_calls ?? 0) }));
  const labelOf = (id) => (names.get(id) ? `${names.get(id)} (${id})` : id);

  return html`
    <${Section} id="agent-metrics" title="Agent metrics">
      <${ErrorNote} error=${summary.error} />
      ${summary.data && rows.length === 0 && html`<${Empty}>No agent has been counted yet: metrics appear once registered instances call the API.<//>`}
      ${rows.length > 0 && html`
        <div class="grid-2">
          <div>
            <h3>Calls per agent (REST + MCP)</h3>
            <${BarList} items=${calls} label="Calls per agent" format=${(v) => formatNumber(v)} />
          </div>
          <${TableWrap} label="Agent metric totals">
            <table class="data">
              <thead><tr><th>Agent</th>${metricNames.map((n) => html`<th class="num">${n.replaceAll('_', ' ')}</th>`)}<th><span class="sr-only">Actions</span></th></tr></thead>
              <tbody>
                ${rows.map((r) => html`
                  <tr key=${r.instance_id}>
                    <td>${names.get(r.instance_id) ?? html`<span class="mono small">${r.instance_id}</span>`}</td>
                    ${metricNames.map((n) => html`<td class="num">${formatNumber(r.metrics?.[n] ?? 0)}</td>`)}
                    <td><button type="button" aria-pressed=${selected === r.instance_id} onClick=${() => navigate('metrics', { agent: r.instance_id })}>Hourly</button></td>
                  </tr>`)}
              </tbody>
            </table>
          <//>
        </div>`}
    <//>
    ${selected && html`<${AgentHistory} instanceId=${selected} label=${labelOf(selected)} />`}`;
}

/** Usage records → cost per hour: [hour starts (s), cost]. */
function costPerHour(records) {
  const buckets = new Map();
  for (const r of records) {
    const when = Date.parse(r.created_at ?? r.timestamp ?? r.recorded_at ?? '');
    if (Number.isNaN(when)) continue;
    const hour = Math.floor(when / 3_600_000) * 3600;
    buckets.set(hour, (buckets.get(hour) ?? 0) + (Number(r.cost_usd) || 0));
  }
  const hours = [...buckets.keys()].sort((a, b) => a - b);
  return [hours, hours.map((h) => Math.round(buckets.get(h) * 10000) / 10000)];
}

function LlmCost() {
  const nameOf = useNames();
  const [form, setForm] = useState({ groupBy: 'model', from: '', to: '' });
  const [applied, setApplied] = useState(form);
  const range = { from: localInputToIso(applied.from), to: localInputToIso(applied.to) };
  const summary = useData(() => api.get('/api/llm/usage/summary', { group_by: applied.groupBy, ...range }), [applied], 30_000);
  const usage = useData(() => api.get('/api/llm/usage', { limit: 1000, ...range }), [applied], 30_000);
  const groups = Object.entries(summary.data?.groups ?? {}).sort((a, b) => (b[1].total_cost_usd ?? 0) - (a[1].total_cost_usd ?? 0));
  const total = summary.data?.total;
  const perHour = useMemo(() => costPerHour(usage.data ?? []), [usage.data]);

  return html`
    <${Section} id="llm-cost" title="LLM cost">
      <form class="filters" onSubmit=${(e) => { e.preventDefault(); setApplied({ ...form }); }}>
        <${Field} label="Group by">
          <select value=${form.groupBy} onChange=${(e) => { const next = { ...form, groupBy: e.currentTarget.value }; setForm(next); setApplied(next); }}>
            <option value="model">model</option><option value="project">project</option><option value="instance">instance</option><option value="session_tag">session tag</option>
          </select>
        <//>
        <${Field} label="From"><input type="datetime-local" step="1" value=${form.from} onInput=${(e) => setForm({ ...form, from: e.currentTarget.value })} /><//>
        <${Field} label="To"><input type="datetime-local" step="1" value=${form.to} onInput=${(e) => setForm({ ...form, to: e.currentTarget.value })} /><//>
        <button type="submit">Apply</button>
      </form>
      <${ErrorNote} error=${summary.error || usage.error} />
      ${total && html`<${Tiles} items=${[
        { label: 'Total cost', value: formatUsd(total.total_cost_usd) },
        { label: 'Requests', value: formatNumber(total.request_count) },
        { label: 'Tokens in', value: formatNumber(total.total_tokens_in) },
        { label: 'Tokens out', value: formatNumber(total.total_tokens_out) },
      ]} />`}
      <div class="grid-2">
        <div>
          <h3>Cost by ${applied.groupBy.replace('_', ' ')}</h3>
          <${BarList} label="Cost per group" items=${groups.map(([label, g]) => ({ label: label || '(none)', value: g.total_cost_usd ?? 0 }))} format=${formatUsd} />
        </div>
        <div>
          <h3>Cost per hour</h3>
          <${TimeChart} label="LLM cost per hour" bars=${true} height=${200} data=${perHour} series=${[{ label: 'USD' }]} yFormat=${(v) => `$${v}`} />
        </div>
      </div>
      ${groups.length > 0 && html`
        <${TableWrap} label="LLM usage per group">
          <table class="data">
            <thead><tr><th>${applied.groupBy.replace('_', ' ')}</th><th class="num">Requests</th><th class="num">Tokens in</th><th class="num">Tokens out</th><th class="num">Cost</th></tr></thead>
            <tbody>
              ${groups.map(([label, g]) => html`
                <tr key=${label}><td>${label || html`<span class="muted">(none)</span>`}</td><td class="num">${formatNumber(g.request_count)}</td><td class="num">${formatNumber(g.total_tokens_in)}</td><td class="num">${formatNumber(g.total_tokens_out)}</td><td class="num">${formatUsd(g.total_cost_usd)}</td></tr>`)}
            </tbody>
          </table>
        <//>`}
      ${usage.data && usage.data.length > 0 && html`
        <details>
          <summary>Latest ${Math.min(usage.data.length, 50)} usage records</summary>
          <${TableWrap} label="LLM usage records">
            <table class="data">
              <thead><tr><th>When</th><th>Provider</th><th>Model</th><th>Instance</th><th>Project</th><th class="num">In</th><th class="num">Out</th><th class="num">Cost</th></tr></thead>
              <tbody>
                ${usage.data.slice(0, 50).map((r) => html`
                  <tr key=${r.id}><td class="small nowrap">${formatTime(r.created_at ?? r.timestamp)}</td><td>${r.provider}</td><td>${r.model}</td><td class="small"><${Who} id=${r.instance_id} nameOf=${nameOf} /></td><td>${r.project || '—'}</td><td class="num">${formatNumber(r.tokens_in)}</td><td class="num">${formatNumber(r.tokens_out)}</td><td class="num">${formatUsd(r.cost_usd)}</td></tr>`)}
              </tbody>
            </table>
          <//>
        </details>`}
    <//>`;
}

export function MetricsPage({ params }) {
  return html`
    <${PageHeader} title="Metrics & LLM cost" description="What each agent does through Koor, and what the models cost." />
    <${AgentMetrics} selected=${params.get('agent') ?? ''} />
    <${LlmCost} />`;
}

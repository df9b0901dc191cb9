import { useState } from 'preact/hooks';
import { html } from '../lib/html.js';
import { api } from '../lib/api.js';
import { useData } from '../lib/hooks.js';
import { compactJson, formatNumber, formatTime, localInputToIso } from '../lib/format.js';
import { BarList, Empty, ErrorNote, Field, Loading, PageHeader, Section, StatusBadge, TableWrap, Tiles } from '../lib/ui.js';
import { useNames, Who } from '../lib/names.js';

const EMPTY = { actor: '', action: '', from: '', to: '', limit: '50' };

export function AuditPage() {
  const nameOf = useNames();
  const [form, setForm] = useState(EMPTY);
  const [applied, setApplied] = useState(EMPTY);
  const range = { from: localInputToIso(applied.from), to: localInputToIso(applied.to) };
  const entries = useData(() => api.get('/api/audit', { actor: applied.actor.trim(), action: applied.action.trim(), limit: applied.limit, ...range }), [applied], 15_000);
  const summary = useData(() => api.get('/api/audit/summary', range), [applied], 30_000);
  const set = (field) => (e) => setForm({ ...form, [field]: e.currentTarget.value });
  const s = summary.data;
  const actions = Object.entries(s?.action_counts ?? {})
    .sort((a, b) => b[1] - a[1])
    .slice(0, 12)
    .map(([label, value]) => ({ label, value }));

  return html`
    <${PageHeader} title="Audit log" description="Every change and every refused change, append-only.">
      <${Loading} when=${entries.loading && !entries.data} />
    <//>
    <form class="filters" onSubmit=${(e) => { e.preventDefault(); setApplied({ ...form }); }}>
      <${Field} label="Actor"><input name="actor" value=${form.actor} onInput=${set('actor')} placeholder="admin, anonymous or an instance id" /><//>
      <${Field} label="Action"><input name="action" value=${form.action} onInput=${set('action')} placeholder="state.put" spellcheck="false" /><//>
      <${Field} label="From"><input type="datetime-local" step="1" value=${form.from} onInput=${set('from')} /><//>
      <${Field} label="To"><input type="datetime-local" step="1" value=${form.to} onInput=${set('to')} /><//>
      <${Field} label="Limit"><input type="number" min="1" max="1000" value=${form.limit} onInput=${set('limit')} /><//>
      <button type="submit">Filter</button>
      <button type="button" onClick=${() => { setForm(EMPTY); setApplied(EMPTY); }}>Reset</button>
    </form>
    <${ErrorNote} error=${entries.error || summary.error} />
    ${s && html`
      <div class="grid-2">
        <${Tiles} items=${[
          { label: 'Entries', value: formatNumber(s.total_entries) },
          { label: 'Actors', value: formatNumber(s.unique_actors) },
          { label: 'Resources', value: formatNumber(s.unique_resources) },
          { label: 'Failures', value: formatNumber(s.outcome_counts?.error ?? 0) },
        ]} />
        <${Section} id="audit-actions" title="Most frequent actions"><${BarList} items=${actions} label="Audit entries per action" format=${(v) => formatNumber(v)} /><//>
      </div>`}
    ${entries.data && entries.data.length === 0 && html`<${Empty}>No audit entry matches.<//>`}
    ${entries.data && entries.data.length > 0 && html`
      <${TableWrap} label="Audit entries">
        <table class="data">
          <thead><tr><th>When</th><th>Actor</th><th>Action</th><th>Resource</th><th>Outcome</th><th>Detail</th></tr></thead>
          <tbody>
            ${entries.data.map((e) => html`
              <tr key=${e.id}>
                <td class="nowrap small">${formatTime(e.timestamp)}</td>
                <td class="small"><${Who} id=${e.actor} nameOf=${nameOf} /></td>
                <td><code>${e.action}</code></td>
                <td class="mono small">${e.resource}</td>
                <td><${StatusBadge} status=${e.outcome} /></td>
                <td class="small detail">${compactJson(e.detail, 200)}</td>
              </tr>`)}
          </tbody>
        </table>
      <//>`}`;
}

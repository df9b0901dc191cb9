import { useMemo, useState } from 'preact/hooks';
import { html } from '../lib/html.js';
import { api } from '../lib/api.js';
import { useAction, useData } from '../lib/hooks.js';
import { formatAgo, formatNumber, formatTime } from '../lib/format.js';
import { ActionResult, Empty, ErrorNote, Field, Loading, PageHeader, StatusBadge, TableWrap, Tiles } from '../lib/ui.js';

function violationText(v) {
  if (typeof v === 'string') return v;
  return `${v.path ? `${v.path}: ` : ''}${v.message ?? JSON.stringify(v)}`;
}

function asList(violations) {
  if (Array.isArray(violations)) return violations;
  if (typeof violations === 'string') {
    try {
      const parsed = JSON.parse(violations);
      return Array.isArray(parsed) ? parsed : [parsed];
    } catch {
      return violations ? [violations] : [];
    }
  }
  return violations ? [violations] : [];
}

export function CompliancePage() {
  const [filter, setFilter] = useState({ instance: '', limit: '50' });
  const [applied, setApplied] = useState(filter);
  const history = useData(() => api.get('/api/compliance/history', { instance_id: applied.instance.trim(), limit: applied.limit }), [applied], 15_000);
  const instances = useData(() => api.get('/api/instances'), [], 60_000);
  const names = useMemo(() => new Map((instances.data ?? []).map((i) => [i.id, i.name])), [instances.data]);
  const run = useAction();
  const runs = history.data ?? [];
  const passed = useMemo(() => runs.filter((r) => r.pass).length, [runs]);

  const runNow = () => run.run(() => api.post('/api/compliance/run', {}), (r) => `Checked ${r.count ?? 0} contract(s) against active instances.`).then(history.reload);

  return html`
    <${PageHeader} title="Compliance" description="Active instances checked against their project's contracts (every 5 minutes and on demand).">
      <${Loading} when=${history.loading && !history.data} />
      <button type="button" class="primary" onClick=${runNow} disabled=${run.busy}>Run checks now</button>
    <//>
    <form class="filters" onSubmit=${(e) => { e.preventDefault(); setApplied({ ...filter }); }}>
      <${Field} label="Instance id"><input value=${filter.instance} onInput=${(e) => setFilter({ ...filter, instance: e.currentTarget.value })} spellcheck="false" /><//>
      <${Field} label="Limit"><input type="number" min="1" max="1000" value=${filter.limit} onInput=${(e) => setFilter({ ...filter, limit: e.currentTarget.value })} /><//>
      <button type="submit">Filter</button>
    </form>
    <${ErrorNote} error=${history.error} />
    <${ActionResult} action=${run} />
    <${Tiles} items=${[
      { label: 'Checks shown', value: formatNumber(runs.length) },
      { label: 'Passed', value: formatNumber(passed) },
      { label: 'Failed', value: formatNumber(runs.length - passed) },
      { label: 'Pass rate', value: runs.length ? `${formatNumber((100 * passed) / runs.length, 1)}%` : '—' },
    ]} />
    ${history.data && runs.length === 0 && html`<${Empty}>No compliance checks recorded yet.<//>`}
    ${runs.length > 0 && html`
      <${TableWrap} label="Compliance checks">
        <table class="data">
          <thead><tr><th>When</th><th>Instance</th><th>Project</th><th>Contract</th><th>Result</th><th>Violations</th></tr></thead>
          <tbody>
            ${runs.map((r) => {
              const violations = asList(r.violations);
              return html`
                <tr key=${r.id}>
                  <td title=${formatTime(r.run_at)}>${formatAgo(r.run_at)}</td>
                  <td>${names.get(r.instance_id) ?? ''}<div class="mono small muted">${r.instance_id}</div></td>
                  <td>${r.project}</td>
                  <td class="mono">${r.contract}</td>
                  <td><${StatusBadge} status=${r.pass ? 'pass' : 'fail'} /></td>
                  <td>${violations.length === 0 ? html`<span class="muted">none</span>` : html`
                    <details><summary>${violations.length} violation${violations.length === 1 ? '' : 's'}</summary>
                      <ul class="violations">${violations.map((v, i) => html`<li key=${i}>${violationText(v)}</li>`)}</ul>
                    </details>`}</td>
                </tr>`;
            })}
          </tbody>
        </table>
      <//>`}`;
}

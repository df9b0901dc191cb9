import { useEffect, useMemo, useState } from 'preact/hooks';
import { html } from '../lib/html.js';
import { api } from '../lib/api.js';
import { useAction, useData } from '../lib/hooks.js';
import { formatDuration, formatNumber } from '../lib/format.js';
import { getSamples, recordMetrics, subscribeSamples } from '../lib/samples.js';
import { TimeChart } from '../lib/chart.js';
import { ActionResult, ConfirmButton, ErrorNote, Loading, PageHeader, Section, StatusBadge, Tiles } from '../lib/ui.js';
import { hrefFor } from '../lib/router.js';

const WINDOW_MINUTES = 30;

/** Events of the last half hour counted per minute: [minute starts (s), counts]. */
function eventsPerMinute(events, now = Date.now()) {
  const end = Math.floor(now / 60000) * 60;
  const starts = Array.from({ length: WINDOW_MINUTES }, (_, i) => end - (WINDOW_MINUTES - 1 - i) * 60);
  const counts = starts.map(() => 0);
  for (const event of events) {
    const minute = Math.floor(new Date(event.created_at).getTime() / 60000) * 60;
    const index = starts.indexOf(minute);
    if (index >= 0) counts[index] += 1;
  }
  return [starts, counts];
}

function useSamples() {
  const [samples, setSamples] = useState(getSamples);
  useEffect(() => subscribeSamples((next) => setSamples([...next])), []);
  return samples;
}

export function OverviewPage() {
  const metrics = useData(async () => {
    const answer = await api.get('/api/metrics');
    recordMetrics(answer);
    return answer;
  }, [], 10_000);
  const instances = useData(() => api.get('/api/instances'), [], 10_000);
  const events = useData(
    () => api.get('/api/events/history', { last: 1000, from: new Date(Date.now() - WINDOW_MINUTES * 60000).toISOString() }),
    [],
    15_000,
  );
  const samples = useSamples();
  const reset = useAction();

  const byStatus = useMemo(() => {
    const counts = { active: 0, pending: 0, stale: 0 };
    for (const instance of instances.data ?? []) counts[instance.status] = (counts[instance.status] ?? 0) + 1;
    return counts;
  }, [instances.data]);
  const perMinute = useMemo(() => eventsPerMinute(events.data ?? []), [events.data]);
  const lastMinute = perMinute[1][perMinute[1].length - 1] ?? 0;
  const tax = metrics.data?.token_tax;
  const savings = useMemo(
    () => [samples.map((s) => s.t / 1000), samples.map((s) => s.saved), samples.map((s) => s.percent)],
    [samples],
  );

  return html`
    <${PageHeader} title="Overview" description="The team of agents at a glance.">
      <${Loading} when=${metrics.loading && !metrics.data} />
    <//>
    <${ErrorNote} error=${metrics.error || instances.error || events.error} />
    <${Tiles} items=${[
      { label: 'Instances', value: formatNumber((instances.data ?? []).length), hint: html`<a href=${hrefFor('instances')}>${byStatus.active} active · ${byStatus.pending} pending · ${byStatus.stale} stale</a>` },
      { label: 'Events in the last minute', value: formatNumber(lastMinute), hint: `last id ${metrics.data?.last_event_id ?? '—'}` },
      { label: 'State keys', value: formatNumber(metrics.data?.state_keys) },
      { label: 'Token-tax savings', value: tax ? `${formatNumber(tax.savings_percent, 1)}%` : '—', hint: tax ? `${formatNumber(tax.rest_tokens_saved)} tokens saved` : '' },
      { label: 'Uptime', value: metrics.data ? formatDuration(metrics.data.uptime) : '—', hint: metrics.data?.api_bind ? `API ${metrics.data.api_bind}` : '' },
    ]} />

    <div class="grid-2">
      <${Section} id="instances-by-status" title="Instances by status">
        <ul class="status-list">
          ${['active', 'pending', 'stale'].map((status) => html`
            <li key=${status}>
              <a href=${hrefFor('instances', { status })}><${StatusBadge} status=${status} /></a>
              <span class="status-count">${byStatus[status] ?? 0}</span>
            </li>`)}
        </ul>
      <//>
      <${Section} id="events-per-minute" title=${`Events per minute (last ${WINDOW_MINUTES} min)`}>
        <${TimeChart} label="Events per minute" bars=${true} height=${180} data=${perMinute} series=${[{ label: 'events' }]} />
      <//>
    </div>

    <${Section} id="token-tax" title="Token-tax savings over time"
      actions=${html`<${ConfirmButton} label="Reset counters" confirmLabel="Yes, reset token-tax counters"
        onConfirm=${() => reset.run(() => api.post('/api/metrics/reset', {}), 'Token-tax counters reset.').then(metrics.reload)} />`}>
      <p class="muted">
        REST calls move data without passing it through a model's context; MCP calls do not. Sampled every 15 s while this tab is open.
        ${tax && html` Now: ${formatNumber(tax.rest_calls)} REST calls, ${formatNumber(tax.mcp_calls)} MCP calls, ≈${formatNumber(tax.mcp_estimated_tokens)} MCP tokens.`}
      </p>
      <${ActionResult} action=${reset} />
      <${TimeChart} label="Token-tax savings over time" data=${savings}
        series=${[{ label: 'tokens saved' }, { label: 'savings %', scale: 'right' }]}
        rightFormat=${(v) => `${v}%`} />
    <//>`;
}

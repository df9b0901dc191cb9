import { useMemo, useState } from 'preact/hooks';
import { html } from '../lib/html.js';
import { api, encodePath } from '../lib/api.js';
import { useAction, useData } from '../lib/hooks.js';
import { formatAgo, formatTime } from '../lib/format.js';
import { ActionResult, Chips, ConfirmButton, Empty, ErrorNote, Field, Loading, PageHeader, StatusBadge, TableWrap } from '../lib/ui.js';
import { navigate } from '../lib/router.js';

export function InstancesPage({ params }) {
  const status = params.get('status') ?? '';
  const [search, setSearch] = useState('');
  const list = useData(() => api.get('/api/instances', { status }), [status], 5000);
  const action = useAction();

  const shown = useMemo(() => {
    const needle = search.trim().toLowerCase();
    const all = list.data ?? [];
    if (!needle) return all;
    return all.filter((i) =>
      [i.id, i.name, i.workspace, i.intent, i.stack, ...(i.capabilities ?? [])].some((v) => String(v ?? '').toLowerCase().includes(needle)),
    );
  }, [list.data, search]);

  const deregister = (instance) =>
    action.run(() => api.delete(`/api/instances/${encodePath(instance.id)}`), `Deregistered ${instance.name} (${instance.id}).`).then(list.reload);
  const checkLiveness = () =>
    action.run(() => api.post('/api/liveness/check', {}), (r) => `Liveness checked: ${r?.count ?? 0} newly stale.`).then(list.reload);

  return html`
    <${PageHeader} title="Instances" description="Agents registered with this server and whether they are still heard from.">
      <${Loading} when=${list.loading && !list.data} />
      <button type="button" onClick=${checkLiveness} disabled=${action.busy}>Run liveness check</button>
    <//>
    <form class="filters" onSubmit=${(e) => e.preventDefault()}>
      <${Field} label="Status">
        <select value=${status} onChange=${(e) => navigate('instances', { status: e.currentTarget.value })}>
          <option value="">all</option>
          <option value="active">active</option>
          <option value="pending">pending</option>
          <option value="stale">stale</option>
        </select>
      <//>
      <${Field} label="Search" hint="name, workspace, intent, stack or capability">
        <input type="search" value=${search} onInput=${(e) => setSearch(e.currentTarget.value)} />
      <//>
    </form>
    <${ErrorNote} error=${list.error} />
    <${ActionResult} action=${action} />
    ${list.data && shown.length === 0
      ? html`<${Empty}>${list.data.length === 0 ? 'No instances registered yet. Agents register with koor-cli register or the register_instance MCP tool.' : 'No instance matches the filter.'}<//>`
      : html`
        <${TableWrap} label="Instances">
          <table class="data instances-table">
            <thead><tr><th>Name</th><th>Status</th><th>Intent</th><th>Workspace</th><th>Stack</th><th>Capabilities</th><th>Last seen</th><th>Registered</th><th><span class="sr-only">Actions</span></th></tr></thead>
            <tbody>
              ${shown.map((i) => html`
                <tr key=${i.id} data-instance=${i.id}>
                  <td><strong>${i.name}</strong><div class="muted small mono">${i.id}</div></td>
                  <td><${StatusBadge} status=${i.status} /></td>
                  <td class="intent">${i.intent || html`<span class="muted">—</span>`}</td>
                  <td>${i.workspace || '—'}</td>
                  <td>${i.stack || '—'}</td>
                  <td><${Chips} values=${i.capabilities} /></td>
                  <td title=${formatTime(i.last_seen)}>${formatAgo(i.last_seen)}</td>
                  <td title=${formatTime(i.registered_at)}>${formatAgo(i.registered_at)}</td>
                  <td><${ConfirmButton} label="Deregister" confirmLabel=${`Deregister ${i.name}`} onConfirm=${() => deregister(i)} /></td>
                </tr>`)}
            </tbody>
          </table>
        <//>`}`;
}

import { useMemo, useState } from 'preact/hooks';
import { html } from '../lib/html.js';
import { api, encodePath } from '../lib/api.js';
import { useAction, useData } from '../lib/hooks.js';
import { compactJson, formatAgo, formatClock, formatTime } from '../lib/format.js';
import { ActionResult, Chips, ConfirmButton, Empty, ErrorNote, Field, Loading, PageHeader, Section, StatusBadge, TableWrap } from '../lib/ui.js';

const REFRESH_MS = 3000;

/** One lease as a line: what, until when, why, and a way to end it. */
function LeaseLine({ lease, onRelease }) {
  return html`
    <li class="lease" data-lease=${lease.id}>
      <span class="mono small">${lease.resources.join(', ')}</span>
      ${lease.mode === 'shared' && html` <span class="badge badge-info">shared</span>`}
      <span class="muted small" title=${formatTime(lease.expires_at)}> until ${formatClock(lease.expires_at)}</span>
      ${lease.reason && html`<span class="small"> — ${lease.reason}</span>`}
      <${ConfirmButton} label="Release" confirmLabel=${`Release ${lease.resources[0]}${lease.resources.length > 1 ? '…' : ''}`} onConfirm=${() => onRelease(lease)} />
    </li>`;
}

function Compose({ agents, onSent }) {
  const [to, setTo] = useState('*');
  const [subject, setSubject] = useState('');
  const [body, setBody] = useState('');
  const action = useAction();
  const capabilities = useMemo(() => [...new Set(agents.flatMap((a) => a.capabilities ?? []))].sort(), [agents]);

  const send = async (event) => {
    event.preventDefault();
    const sent = await action.run(
      () => api.post('/api/messages', { to: [to], body, subject: subject.trim() || undefined }),
      (r) => `Sent message ${r.id} to ${r.recipients.length} ${r.recipients.length === 1 ? 'agent' : 'agents'}.`,
    );
    if (sent) {
      setBody('');
      setSubject('');
      onSent();
    }
  };

  return html`
    <${Section} id="team-compose" title="Message the team">
      <form class="compose" onSubmit=${send}>
        <div class="filters">
          <${Field} label="To">
            <select value=${to} onChange=${(e) => setTo(e.currentTarget.value)}>
              <option value="*">everyone</option>
              ${agents.length > 0 && html`<optgroup label="Agents">${agents.map((a) => html`<option key=${a.id} value=${a.id}>${a.name}</option>`)}</optgroup>`}
              ${capabilities.length > 0 && html`<optgroup label="Capabilities">${capabilities.map((c) => html`<option key=${c} value=${`capability:${c}`}>${`capability: ${c}`}</option>`)}</optgroup>`}
            </select>
          <//>
          <${Field} label="Subject"><input value=${subject} maxLength="200" onInput=${(e) => setSubject(e.currentTarget.value)} /><//>
        </div>
        <${Field} label="Message" wide>
          <textarea rows="3" required value=${body} onInput=${(e) => setBody(e.currentTarget.value)}></textarea>
        <//>
        <div class="actions">
          <button type="submit" class="primary" disabled=${action.busy || !body.trim() || agents.length === 0}>Send</button>
        </div>
      </form>
      <${ActionResult} action=${action} />
    <//>`;
}

/** What the agents wrote to the human. */
function Inbox({ inbox, onRead }) {
  const action = useAction();
  const markRead = (message) => action.run(() => api.post(`/api/messages/${message.id}/read`, {}), '').then(onRead);
  const messages = inbox.data ?? [];
  return html`
    <${Section} id="team-inbox" title="Messages to you">
      <${ErrorNote} error=${inbox.error} />
      <${ActionResult} action=${action} />
      ${messages.length === 0
        ? html`<${Empty}>No message to you yet. Agents write to you with koor-cli send human TEXT.<//>`
        : html`
          <ul class="inbox">
            ${messages.map((m) => html`
              <li key=${m.id} data-message=${m.id} class=${m.read_at ? 'read' : 'unread'}>
                <div><strong>${m.from_name}</strong>${m.subject && html` · ${m.subject}`}
                  <span class="muted small" title=${formatTime(m.created_at)}> ${formatAgo(m.created_at)}</span>
                  ${m.importance === 'high' && html` <span class="badge badge-warn">important</span>`}</div>
                <div class="body">${typeof m.body === 'string' ? m.body : compactJson(m.body, 400)}</div>
                ${!m.read_at && html`<button type="button" onClick=${() => markRead(m)}>Mark read</button>`}
              </li>`)}
          </ul>`}
    <//>`;
}

export function TeamPage() {
  const instances = useData(() => api.get('/api/instances'), [], REFRESH_MS);
  const leases = useData(() => api.get('/api/leases'), [], REFRESH_MS);
  const unread = useData(() => api.get('/api/messages/unread'), [], REFRESH_MS);
  const inbox = useData(() => api.get('/api/messages/inbox', { limit: 20 }), [], REFRESH_MS);
  const action = useAction();

  const agents = instances.data ?? [];
  const leasesOf = (holder) => (leases.data ?? []).filter((l) => l.holder === holder);
  const unreadOf = (id) => (unread.data ?? []).find((u) => u.instance === id)?.unread ?? 0;
  const humanLeases = (leases.data ?? []).filter((l) => !agents.some((a) => a.id === l.holder));

  const release = (lease) =>
    action.run(() => api.delete(`/api/leases/${encodePath(lease.id)}`), `Released ${lease.holder_name}'s lease on ${lease.resources.join(', ')}.`).then(leases.reload);

  return html`
    <${PageHeader} title="Team" description="Who is working on what: every agent, its claims and its unread messages.">
      <${Loading} when=${instances.loading && !instances.data} />
    <//>
    <${ErrorNote} error=${instances.error ?? leases.error} />
    <${ActionResult} action=${action} />
    ${instances.data && agents.length === 0
      ? html`<${Empty}>No agent registered yet. Agents register with koor-cli register NAME or the register_instance MCP tool.<//>`
      : html`
        <${TableWrap} label="Agents">
          <table class="data team-table">
            <thead><tr><th>Agent</th><th>Status</th><th>Intent</th><th>Last seen</th><th>Leases</th><th>Unread</th></tr></thead>
            <tbody>
              ${agents.map((a) => {
                const held = leasesOf(a.id);
                const count = unreadOf(a.id);
                return html`
                  <tr key=${a.id} data-instance=${a.id}>
                    <td><strong>${a.name}</strong>${a.workspace && html`<div class="muted small">${a.workspace}</div>`}<${Chips} values=${a.capabilities} /></td>
                    <td><${StatusBadge} status=${a.status} /></td>
                    <td class="intent">${a.intent || html`<span class="muted">—</span>`}</td>
                    <td class="nowrap" title=${formatTime(a.last_seen)}>${formatAgo(a.last_seen)}</td>
                    <td>${held.length === 0 ? html`<span class="muted">—</span>` : html`<ul class="leases">${held.map((l) => html`<${LeaseLine} key=${l.id} lease=${l} onRelease=${release} />`)}</ul>`}</td>
                    <td class="unread">${count > 0 ? html`<span class="badge badge-warn">${count}</span>` : html`<span class="muted">0</span>`}</td>
                  </tr>`;
              })}
            </tbody>
          </table>
        <//>`}
    ${humanLeases.length > 0 && html`
      <${Section} id="team-human-leases" title="Leases held by people">
        <ul class="leases">${humanLeases.map((l) => html`<${LeaseLine} key=${l.id} lease=${l} onRelease=${release} />`)}</ul>
      <//>`}
    <div class="stack">
      <${Compose} agents=${agents} onSent=${unread.reload} />
      <${Inbox} inbox=${inbox} onRead=${inbox.reload} />
    </div>`;
}

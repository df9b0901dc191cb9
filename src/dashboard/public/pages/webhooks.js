import { useState } from 'preact/hooks';
import { html } from '../lib/html.js';
import { api, encodePath } from '../lib/api.js';
import { useAction, useData } from '../lib/hooks.js';
import { formatAgo, formatTime, splitList } from '../lib/format.js';
import { ActionResult, Chips, ConfirmButton, Empty, ErrorNote, Field, Loading, PageHeader, Section, StatusBadge, TableWrap } from '../lib/ui.js';

function NewWebhook({ onCreated }) {
  const [form, setForm] = useState({ id: '', url: '', patterns: '*', secret: '' });
  const action = useAction();
  const set = (field) => (e) => setForm({ ...form, [field]: e.currentTarget.value });
  const submit = async (e) => {
    e.preventDefault();
    const body = { id: form.id.trim(), url: form.url.trim(), patterns: splitList(form.patterns) };
    if (form.secret) body.secret = form.secret;
    if (await action.run(() => api.post('/api/webhooks', body), (w) => `Created webhook ${w.id}.`)) {
      setForm({ id: '', url: '', patterns: '*', secret: '' });
      onCreated();
    }
  };
  return html`
    <${Section} id="webhook-new" title="Add a webhook">
      <form class="filters" onSubmit=${submit}>
        <${Field} label="Id"><input required value=${form.id} onInput=${set('id')} spellcheck="false" /><//>
        <${Field} label="URL"><input required type="url" value=${form.url} onInput=${set('url')} placeholder="https://example.test/hook" /><//>
        <${Field} label="Patterns" hint="comma-separated topic patterns"><input value=${form.patterns} onInput=${set('patterns')} spellcheck="false" /><//>
        <${Field} label="Secret" hint="signs deliveries (HMAC-SHA256)"><input type="password" autocomplete="new-password" value=${form.secret} onInput=${set('secret')} /><//>
        <button type="submit" class="primary" disabled=${action.busy}>Add</button>
      </form>
      <${ActionResult} action=${action} />
    <//>`;
}

export function WebhooksPage() {
  const list = useData(() => api.get('/api/webhooks'), [], 10_000);
  const action = useAction();
  const path = (id) => `/api/webhooks/${encodePath(id)}`;
  const test = (hook) => action.run(() => api.post(`${path(hook.id)}/test`, {}), (r) => `Test delivery to ${r.tested}: ${r.status}.`).then(list.reload);
  const remove = (hook) => action.run(() => api.delete(path(hook.id)), `Deleted webhook ${hook.id}.`).then(list.reload);

  return html`
    <${PageHeader} title="Webhooks" description="HTTP endpoints that receive matching events (retried with backoff, disabled after 10 failures in a row).">
      <${Loading} when=${list.loading && !list.data} />
    <//>
    <${ErrorNote} error=${list.error} />
    <${ActionResult} action=${action} />
    ${list.data && list.data.length === 0 && html`<${Empty}>No webhooks yet.<//>`}
    ${list.data && list.data.length > 0 && html`
      <${TableWrap} label="Webhooks">
        <table class="data">
          <thead><tr><th>Id</th><th>URL</th><th>Signed</th><th>Patterns</th><th>State</th><th>Failures</th><th>Last fired</th><th>Created</th><th><span class="sr-only">Actions</span></th></tr></thead>
          <tbody>
            ${list.data.map((w) => html`
              <tr key=${w.id}>
                <td class="mono"><strong>${w.id}</strong></td>
                <td class="mono small url">${w.url}</td>
                <td title=${w.has_secret ? 'deliveries carry X-Koor-Signature' : 'no secret: deliveries are not signed'}>${w.has_secret ? 'yes' : 'no'}</td>
                <td><${Chips} values=${w.patterns} /></td>
                <td><${StatusBadge} status=${w.active ? 'active' : 'disabled'} /></td>
                <td>${w.fail_count ?? 0}</td>
                <td title=${formatTime(w.last_fired)}>${w.last_fired ? formatAgo(w.last_fired) : 'never'}</td>
                <td title=${formatTime(w.created_at)}>${formatAgo(w.created_at)}</td>
                <td class="row-actions">
                  <button type="button" onClick=${() => test(w)} disabled=${action.busy}>Send test</button>
                  <${ConfirmButton} label="Delete" confirmLabel=${`Delete ${w.id}`} onConfirm=${() => remove(w)} />
                </td>
              </tr>`)}
          </tbody>
        </table>
      <//>`}
    <${NewWebhook} onCreated=${list.reload} />`;
}

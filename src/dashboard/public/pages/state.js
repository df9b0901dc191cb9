import { useEffect, useState } from 'preact/hooks';
import { html } from '../lib/html.js';
import { api, encodePath, request } from '../lib/api.js';
import { useAction, useData } from '../lib/hooks.js';
import { compactJson, formatAgo, formatTime, prettyText } from '../lib/format.js';
import { ActionResult, ConfirmButton, Empty, ErrorNote, Field, Loading, Notice, PageHeader, Section, TableWrap } from '../lib/ui.js';
import { useNames, Who } from '../lib/names.js';
import { hrefFor, navigate } from '../lib/router.js';

/** A diff value as JSON (strings keep their quotes, so "1" and 1 differ visibly). */
const jsonCell = (value) => (value === undefined ? '' : compactJson(JSON.stringify(value), 200));

const statePath = (key) => `/api/state/${encodePath(key)}`;

/** The raw value of a key (or one version) with the facts its headers carry. */
async function readValue(key, version) {
  const response = await request('GET', statePath(key), { query: { version }, raw: true });
  return {
    text: await response.text(),
    version: Number(response.headers.get('x-koor-version')),
    etag: response.headers.get('etag') ?? '',
    contentType: response.headers.get('content-type') ?? '',
  };
}

/** Explains a refused compare-and-swap in words a person acts on. */
function conflictMessage(error, key) {
  if (error?.status !== 412) return null;
  const now = error.body?.current_version;
  if (now === null) return `Someone else deleted "${key}" while you were editing — reload.`;
  return `Someone else changed this key (now v${now ?? '?'}) — reload to see their change, then edit again.`;
}

function KeyList({ prefix, selected, revision }) {
  const [draft, setDraft] = useState(prefix);
  const keys = useData(() => api.get('/api/state', { prefix }), [prefix, revision], 10_000);
  useEffect(() => setDraft(prefix), [prefix]);

  return html`
    <${Section} id="state-keys" title="Keys">
      <form class="filters compact" onSubmit=${(e) => { e.preventDefault(); navigate('state', { prefix: draft, key: selected }); }}>
        <${Field} label="Prefix"><input type="search" name="prefix" value=${draft} onInput=${(e) => setDraft(e.currentTarget.value)} spellcheck="false" /><//>
        <button type="submit">Filter</button>
      </form>
      <${ErrorNote} error=${keys.error} />
      <${Loading} when=${keys.loading && !keys.data} />
      ${keys.data && keys.data.length === 0 && html`<${Empty}>No keys${prefix ? ` starting with "${prefix}"` : ''}.<//>`}
      <ul class="key-list">
        ${(keys.data ?? []).map((k) => html`
          <li key=${k.key}>
            <a href=${hrefFor('state', { prefix, key: k.key })} aria-current=${k.key === selected ? 'true' : undefined}>
              <span class="mono key-name">${k.key}</span>
              <span class="muted small">v${k.version} · ${formatAgo(k.updated_at)}</span>
            </a>
          </li>`)}
      </ul>
    <//>`;
}

function NewKey({ prefix, onCreated }) {
  const [form, setForm] = useState({ key: prefix, contentType: 'application/json', value: '' });
  const action = useAction();
  const submit = (e) => {
    e.preventDefault();
    const key = form.key.trim();
    action
      .run(() => api.put(statePath(key), form.value, { headers: { 'content-type': form.contentType, 'if-none-match': '*' } }), (r) => `Created ${r.key} v${r.version}.`)
      .then((r) => {
        if (!r) return;
        onCreated();
        navigate('state', { prefix, key });
      });
  };
  return html`
    <details class="panel">
      <summary>New key</summary>
      <form class="stack" onSubmit=${submit}>
        <div class="filters">
          <${Field} label="Key"><input required value=${form.key} onInput=${(e) => setForm({ ...form, key: e.currentTarget.value })} spellcheck="false" /><//>
          <${Field} label="Content type"><input required value=${form.contentType} onInput=${(e) => setForm({ ...form, contentType: e.currentTarget.value })} /><//>
        </div>
        <${Field} label="Value" wide><textarea required rows="5" class="mono" value=${form.value} onInput=${(e) => setForm({ ...form, value: e.currentTarget.value })} spellcheck="false"></textarea><//>
        <div><button type="submit" class="primary" disabled=${action.busy}>Create</button></div>
      </form>
      ${action.error?.status === 412 ? html`<${ErrorNote}>That key already exists — pick it in the list to edit it.<//>` : html`<${ActionResult} action=${action} />`}
    </details>`;
}

/** Shows the current value; editing sends `If-Match: <version it was read at>`. */
function ValuePanel({ keyName, value, onChanged }) {
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState('');
  const save = useAction();
  const remove = useAction();
  const data = value.data;

  const startEdit = () => {
    setDraft(data.text);
    save.clear();
    setEditing(true);
  };
  const submit = async (e) => {
    e.preventDefault();
    const written = await save.run(
      () => api.put(statePath(keyName), draft, { headers: { 'content-type': data.contentType || 'application/json', 'if-match': String(data.version) } }),
      (r) => `Saved as v${r.version}.`,
    );
    if (written) {
      setEditing(false);
      onChanged();
    }
  };
  const doDelete = () =>
    remove.run(() => api.delete(statePath(keyName), { headers: { 'if-match': String(data.version) } }), `Deleted ${keyName}.`).then((r) => {
      if (!r) return;
      onChanged();
      navigate('state', {});
    });

  const conflict = conflictMessage(save.error, keyName) ?? conflictMessage(remove.error, keyName);
  return html`
    <${Section} id="state-value" title="Value"
      actions=${data && !editing && html`
        <button type="button" onClick=${startEdit}>Edit</button>
        <${ConfirmButton} label="Delete" confirmLabel=${`Delete ${keyName}`} onConfirm=${doDelete} />`}>
      <${ErrorNote} error=${value.error} />
      ${data && html`
        <p class="muted small">
          <span class="version-tag">v${data.version}</span> · ${data.contentType} · ETag <code>${data.etag.slice(0, 14)}…</code>
        </p>`}
      ${conflict
        ? html`<div class="note error conflict" role="alert">
            <span>${conflict}</span>
            <button type="button" onClick=${() => { save.clear(); remove.clear(); setEditing(false); onChanged(); }}>Reload</button>
          </div>`
        : html`<${ActionResult} action=${save} /><${ErrorNote} error=${remove.error} />`}
      ${data && !editing && html`<pre class="value">${prettyText(data.text)}</pre>`}
      ${data && editing && html`
        <form class="stack" onSubmit=${submit}>
          <${Field} label=${`New value (saving requires the key to still be at v${data.version})`} wide>
            <textarea name="value" rows="12" class="mono" value=${draft} onInput=${(e) => setDraft(e.currentTarget.value)} spellcheck="false"></textarea>
          <//>
          <div class="actions">
            <button type="submit" class="primary" disabled=${save.busy}>Save</button>
            <button type="button" onClick=${() => { setEditing(false); save.clear(); }}>Cancel</button>
          </div>
        </form>`}
    <//>`;
}

function DiffView({ keyName, versions }) {
  const newest = versions[0]?.version;
  const [pair, setPair] = useState({ a: versions[1]?.version ?? newest, b: newest });
  const diff = useAction();
  const [result, setResult] = useState(null);
  useEffect(() => setPair({ a: versions[1]?.version ?? newest, b: newest }), [newest]);

  const show = (e) => {
    e?.preventDefault();
    diff.run(async () => setResult(await api.get(statePath(keyName), { diff: `${pair.a},${pair.b}` })));
  };
  const options = versions.map((v) => html`<option value=${v.version}>v${v.version}</option>`);
  return html`
    <form class="filters" onSubmit=${show} aria-label="Compare versions">
      <${Field} label="From"><select name="from" value=${pair.a} onChange=${(e) => setPair({ ...pair, a: Number(e.currentTarget.value) })}>${options}</select><//>
      <${Field} label="To"><select name="to" value=${pair.b} onChange=${(e) => setPair({ ...pair, b: Number(e.currentTarget.value) })}>${options}</select><//>
      <button type="submit" disabled=${diff.busy}>Show diff</button>
    </form>
    <${ErrorNote} error=${diff.error} />
    ${result && html`
      <div class="diff" aria-live="polite">
        <p class="muted small">Changes from v${result.v1} to v${result.v2}: ${result.diffs.length === 0 ? 'none' : result.diffs.length}</p>
        ${result.diffs.length > 0 && html`
          <${TableWrap} label="Differences">
            <table class="data diff-table">
              <thead><tr><th>Change</th><th>Path</th><th>Old value</th><th>New value</th></tr></thead>
              <tbody>
                ${result.diffs.map((d, i) => html`
                  <tr key=${i} class=${`op-${d.operation}`}>
                    <td><span class=${`badge op op-${d.operation}`}>${d.operation}</span></td>
                    <td class="mono">${d.path || '/'}</td>
                    <td class="mono old">${jsonCell(d.old_value)}</td>
                    <td class="mono new">${jsonCell(d.new_value)}</td>
                  </tr>`)}
              </tbody>
            </table>
          <//>`}
      </div>`}`;
}

function HistoryPanel({ keyName, currentVersion, onChanged }) {
  const nameOf = useNames();
  const history = useData(() => api.get(statePath(keyName), { history: 1, limit: 50 }), [keyName, currentVersion]);
  const [viewing, setViewing] = useState(null);
  const rollback = useAction();
  const versions = history.data?.versions ?? [];

  const view = async (version) => {
    try {
      setViewing({ version, ...(await readValue(keyName, version)) });
    } catch (error) {
      setViewing({ version, error });
    }
  };
  const restore = (version) =>
    rollback.run(() => api.post(statePath(keyName), {}, { query: { rollback: version } }), (r) => `Restored v${r.rolled_back ?? version} as v${r.version}.`).then((r) => r && onChanged());

  return html`
    <${Section} id="state-history" title="Version history">
      <${ErrorNote} error=${history.error} />
      <${ActionResult} action=${rollback} />
      ${versions.length > 0 && html`
        <${TableWrap} label="Versions">
          <table class="data history-table">
            <thead><tr><th>Version</th><th>Written</th><th>By</th><th>Type</th><th>Hash</th><th><span class="sr-only">Actions</span></th></tr></thead>
            <tbody>
              ${versions.map((v) => html`
                <tr key=${v.version} data-version=${v.version}>
                  <td><strong>v${v.version}</strong>${v.version === currentVersion && html` <span class="badge badge-ok">current</span>`}</td>
                  <td class="nowrap" title=${formatTime(v.updated_at)}>${formatAgo(v.updated_at)}</td>
                  <td><${Who} id=${v.updated_by} nameOf=${nameOf} /></td>
                  <td class="small">${v.content_type}</td>
                  <td class="mono small">${String(v.hash ?? '').slice(0, 10)}</td>
                  <td class="row-actions">
                    <button type="button" onClick=${() => view(v.version)}>View</button>
                    ${v.version !== currentVersion && html`<${ConfirmButton} class="" label="Roll back" confirmLabel=${`Restore v${v.version}`} onConfirm=${() => restore(v.version)} />`}
                  </td>
                </tr>`)}
            </tbody>
          </table>
        <//>`}
      ${viewing && html`
        <div class="subpanel">
          <div class="panel-head"><h3>v${viewing.version}</h3><button type="button" onClick=${() => setViewing(null)}>Close</button></div>
          ${viewing.error ? html`<${ErrorNote} error=${viewing.error} />` : html`<pre class="value">${prettyText(viewing.text)}</pre>`}
        </div>`}
      ${versions.length > 1 && html`<h3>Compare versions</h3><${DiffView} keyName=${keyName} versions=${versions} />`}
    <//>`;
}

function KeyDetail({ keyName, onChanged }) {
  const value = useData(() => readValue(keyName), [keyName]);
  // A write here also refreshes the key list (its version and time).
  const changed = () => {
    value.reload();
    onChanged();
  };
  return html`
    <div class="stack">
      <h2 class="key-title mono">${keyName}</h2>
      <${ValuePanel} keyName=${keyName} value=${value} onChanged=${changed} />
      ${value.data && html`<${HistoryPanel} keyName=${keyName} currentVersion=${value.data.version} onChanged=${changed} />`}
    </div>`;
}

export function StatePage({ params }) {
  const prefix = params.get('prefix') ?? '';
  const key = params.get('key') ?? '';
  const [revision, setRevision] = useState(0);
  const bump = () => setRevision((n) => n + 1);
  return html`
    <${PageHeader} title="State" description="Versioned key/value state shared by the agents." />
    <div class="split">
      <div class="stack">
        <${KeyList} prefix=${prefix} selected=${key} revision=${revision} />
        <${NewKey} prefix=${prefix} onCreated=${bump} />
      </div>
      <div>
        ${key ? html`<${KeyDetail} key=${key} keyName=${key} onChanged=${bump} />` : html`<${Notice} kind="info">Pick a key to see its value, history and diffs.<//>`}
      </div>
    </div>`;
}

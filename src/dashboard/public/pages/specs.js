import { useEffect, useMemo, useState } from 'preact/hooks';
import { html } from '../lib/html.js';
import { api, encodePath, request } from '../lib/api.js';
import { useAction, useData } from '../lib/hooks.js';
import { formatAgo, formatTime, prettyText } from '../lib/format.js';
import { knownProjects, rememberProject } from '../lib/projects.js';
import { ProjectPicker } from '../lib/project-picker.js';
import { ActionResult, Badge, ConfirmButton, Empty, ErrorNote, Field, Notice, PageHeader, Section, TableWrap } from '../lib/ui.js';
import { hrefFor, navigate } from '../lib/router.js';

const specPath = (project, name) => `/api/specs/${encodeURIComponent(project)}/${encodePath(name)}`;

function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function ContractTools({ project, name, contract }) {
  const endpoints = Object.keys(contract.endpoints ?? {});
  const [form, setForm] = useState({ endpoint: endpoints[0] ?? '', direction: 'request', payload: '{}', baseUrl: '' });
  const validate = useAction();
  const live = useAction();
  const [outcome, setOutcome] = useState(null);
  const set = (field) => (e) => setForm({ ...form, [field]: e.currentTarget.value });

  const runValidate = (e) => {
    e.preventDefault();
    let payload;
    try {
      payload = JSON.parse(form.payload);
    } catch (err) {
      validate.setError(new Error(`payload is not valid JSON: ${err.message}`));
      return;
    }
    validate.run(async () => setOutcome({ kind: 'validate', ...(await api.post(`/api/contracts/${encodeURIComponent(project)}/${encodePath(name)}/validate`, { endpoint: form.endpoint, direction: form.direction, payload })) }));
  };
  const runLive = () =>
    live.run(async () => setOutcome({ kind: 'test', ...(await api.post(`/api/contracts/${encodeURIComponent(project)}/${encodePath(name)}/test`, { endpoint: form.endpoint, base_url: form.baseUrl })) }));

  const violations = outcome ? [...(outcome.violations ?? []), ...(outcome.request_violations ?? []), ...(outcome.response_violations ?? [])] : [];
  return html`
    <${Section} id="contract-tools" title="Contract">
      <${TableWrap} label="Endpoints">
        <table class="data">
          <thead><tr><th>Endpoint</th><th>Checks</th></tr></thead>
          <tbody>
            ${endpoints.map((ep) => html`<tr key=${ep}><td class="mono">${ep}</td><td class="small">${Object.keys(contract.endpoints[ep] ?? {}).join(', ') || '—'}</td></tr>`)}
          </tbody>
        </table>
      <//>
      <h3>Check a payload</h3>
      <form class="stack" onSubmit=${runValidate}>
        <div class="filters">
          <${Field} label="Endpoint"><select value=${form.endpoint} onChange=${set('endpoint')}>${endpoints.map((ep) => html`<option value=${ep}>${ep}</option>`)}</select><//>
          <${Field} label="Direction"><select value=${form.direction} onChange=${set('direction')}><option value="request">request</option><option value="response">response</option><option value="query">query</option></select><//>
        </div>
        <${Field} label="Payload (JSON)" wide><textarea rows="5" class="mono" value=${form.payload} onInput=${set('payload')} spellcheck="false"></textarea><//>
        <div class="actions"><button type="submit" disabled=${validate.busy}>Validate</button></div>
      </form>
      <div class="filters">
        <${Field} label="Live service base URL" hint="calls the endpoint and checks status and body"><input type="url" value=${form.baseUrl} onInput=${set('baseUrl')} placeholder="http://localhost:3000" /><//>
        <button type="button" onClick=${runLive} disabled=${live.busy || !form.baseUrl}>Test live</button>
      </div>
      <${ErrorNote} error=${validate.error || live.error} />
      ${outcome && html`
        <div aria-live="polite">
          ${outcome.valid ? html`<${Notice}>Valid${outcome.status_code ? ` (status ${outcome.status_code})` : ''}.<//>` : html`<${ErrorNote}>Not valid${outcome.error ? `: ${outcome.error}` : ''}.<//>`}
          ${violations.length > 0 && html`<ul class="violations">${violations.map((v, i) => html`<li key=${i}><code>${v.path || '/'}</code> ${v.message}</li>`)}</ul>`}
        </div>`}
    <//>`;
}

function SpecDetail({ project, name, onChanged }) {
  const spec = useData(async () => {
    const response = await request('GET', specPath(project, name), { raw: true });
    return { text: await response.text(), version: Number(response.headers.get('x-koor-version')), contentType: response.headers.get('content-type') ?? '' };
  }, [project, name]);
  const [draft, setDraft] = useState(null);
  const save = useAction();
  const remove = useAction();
  const parsed = useMemo(() => (spec.data ? parseJson(spec.data.text) : undefined), [spec.data]);
  const isContract = parsed && parsed.kind === 'contract';

  const submit = async (e) => {
    e.preventDefault();
    const written = await save.run(
      () => api.put(specPath(project, name), draft, { headers: { 'content-type': spec.data.contentType || 'application/json', 'if-match': String(spec.data.version) } }),
      (r) => `Saved as v${r.version}.`,
    );
    if (written) {
      setDraft(null);
      spec.reload();
      onChanged();
    }
  };
  const conflict = save.error?.status === 412 ? `Someone else changed this spec (now v${save.error.body?.current_version ?? '?'}) — reload.` : null;

  return html`
    <${Section} id="spec-detail" title=${html`<span class="mono">${project}/${name}</span> ${isContract && html`<${Badge} kind="info">contract<//>`}`}
      actions=${spec.data && draft === null && html`
        <button type="button" onClick=${() => { save.clear(); setDraft(spec.data.text); }}>Edit</button>
        <${ConfirmButton} label="Delete" confirmLabel=${`Delete ${name}`} onConfirm=${() => remove.run(() => api.delete(specPath(project, name))).then((r) => { if (r) { onChanged(); navigate('specs', { project }); } })} />`}>
      <${ErrorNote} error=${spec.error || remove.error} />
      ${conflict ? html`<div class="note error" role="alert">${conflict} <button type="button" onClick=${() => { save.clear(); setDraft(null); spec.reload(); }}>Reload</button></div>` : html`<${ActionResult} action=${save} />`}
      ${spec.data && html`<p class="muted small"><span class="version-tag">v${spec.data.version}</span> · ${spec.data.contentType}</p>`}
      ${spec.data && draft === null && html`<pre class="value">${prettyText(spec.data.text)}</pre>`}
      ${draft !== null && html`
        <form class="stack" onSubmit=${submit}>
          <${Field} label="Spec" wide><textarea rows="14" class="mono" value=${draft} onInput=${(e) => setDraft(e.currentTarget.value)} spellcheck="false"></textarea><//>
          <div class="actions"><button type="submit" class="primary" disabled=${save.busy}>Save</button><button type="button" onClick=${() => setDraft(null)}>Cancel</button></div>
        </form>`}
    <//>
    ${isContract && html`<${ContractTools} project=${project} name=${name} contract=${parsed} />`}`;
}

function NewSpec({ project, onCreated }) {
  const [form, setForm] = useState({ name: '', body: '' });
  const action = useAction();
  const submit = (e) => {
    e.preventDefault();
    action
      .run(() => api.put(specPath(project, form.name.trim()), form.body, { headers: { 'content-type': parseJson(form.body) === undefined ? 'text/plain' : 'application/json' } }), (r) => `Stored ${r.project}/${r.name} v${r.version}.`)
      .then((r) => { if (r) { onCreated(); navigate('specs', { project, spec: r.name }); } });
  };
  return html`
    <details class="panel">
      <summary>New spec or contract</summary>
      <form class="stack" onSubmit=${submit}>
        <${Field} label="Name"><input required value=${form.name} onInput=${(e) => setForm({ ...form, name: e.currentTarget.value })} spellcheck="false" /><//>
        <${Field} label="Content" hint='JSON with "kind":"contract" is checked as a contract' wide>
          <textarea required rows="8" class="mono" value=${form.body} onInput=${(e) => setForm({ ...form, body: e.currentTarget.value })} spellcheck="false"></textarea>
        <//>
        <div><button type="submit" class="primary" disabled=${action.busy}>Store</button></div>
      </form>
      <${ActionResult} action=${action} />
    </details>`;
}

export function SpecsPage({ params }) {
  const project = params.get('project') ?? knownProjects()[0] ?? '';
  const selected = params.get('spec') ?? '';
  const list = useData(() => (project ? api.get(`/api/specs/${encodeURIComponent(project)}`) : Promise.resolve(null)), [project]);
  useEffect(() => { if (list.data) rememberProject(project); }, [list.data]);
  const specs = list.data?.specs ?? [];

  return html`
    <${PageHeader} title="Specs & contracts" description="Per-project documents, versioned like state; contracts are checked against payloads and live services." />
    <${ProjectPicker} page="specs" project=${project} />
    ${!project ? html`<${Notice} kind="info">Enter a project name to see its specs.<//>` : html`
      <div class="split">
        <div class="stack">
          <${Section} id="spec-list" title=${`Specs of ${project}`}>
            <${ErrorNote} error=${list.error} />
            ${list.data && specs.length === 0 && html`<${Empty}>No specs in ${project} yet.<//>`}
            <ul class="key-list">
              ${specs.map((s) => html`
                <li key=${s.name}>
                  <a href=${hrefFor('specs', { project, spec: s.name })} aria-current=${s.name === selected ? 'true' : undefined}>
                    <span class="mono key-name">${s.name}</span>
                    <span class="muted small" title=${formatTime(s.updated_at)}>v${s.version} · ${formatAgo(s.updated_at)}</span>
                  </a>
                </li>`)}
            </ul>
          <//>
          <${NewSpec} project=${project} onCreated=${list.reload} />
        </div>
        <div class="stack">
          ${selected ? html`<${SpecDetail} key=${`${project}/${selected}`} project=${project} name=${selected} onChanged=${list.reload} />` : html`<${Notice} kind="info">Pick a spec to read it.<//>`}
        </div>
      </div>`}`;
}

import { useEffect, useMemo, useState } from 'preact/hooks';
import { html } from '../lib/html.js';
import { api } from '../lib/api.js';
import { useAction, useData } from '../lib/hooks.js';
import { formatAgo, formatTime, splitList } from '../lib/format.js';
import { rememberProject } from '../lib/projects.js';
import { ActionResult, Badge, Chips, ConfirmButton, Empty, ErrorNote, Field, PageHeader, Section, StatusBadge, TableWrap } from '../lib/ui.js';
import { useNames, Who } from '../lib/names.js';
import { navigate } from '../lib/router.js';
import { ProjectPicker } from '../lib/project-picker.js';

const EMPTY_RULE = { rule_id: '', severity: 'error', match_type: 'regex', pattern: '', message: '', applies_to: '', stack: '' };

/** The fields PUT /api/validate/{project}/rules takes for one local rule. */
function localRuleBody(rule) {
  const body = {
    rule_id: rule.rule_id,
    severity: rule.severity || 'error',
    match_type: rule.match_type || 'regex',
    pattern: rule.pattern,
    message: rule.message ?? '',
    applies_to: Array.isArray(rule.applies_to) ? rule.applies_to : splitList(rule.applies_to),
  };
  if (rule.stack) body.stack = rule.stack;
  return body;
}

function RuleEditor({ project, localRules, editing, onDone }) {
  const [form, setForm] = useState(EMPTY_RULE);
  const action = useAction();
  useEffect(() => {
    setForm(editing ? { ...EMPTY_RULE, ...editing, applies_to: (editing.applies_to ?? []).join(', '), stack: editing.stack ?? '' } : EMPTY_RULE);
  }, [editing]);
  const set = (field) => (e) => setForm({ ...form, [field]: e.currentTarget.value });

  const submit = async (e) => {
    e.preventDefault();
    const rule = localRuleBody({ ...form, rule_id: form.rule_id.trim() });
    const others = localRules.filter((r) => r.rule_id !== (editing?.rule_id ?? rule.rule_id) && r.rule_id !== rule.rule_id).map(localRuleBody);
    const done = await action.run(() => api.put(`/api/validate/${encodeURIComponent(project)}/rules`, [...others, rule]), `Saved ${rule.rule_id}.`);
    if (done) {
      setForm(EMPTY_RULE);
      onDone();
    }
  };

  return html`
    <${Section} id="rule-editor" title=${editing ? `Edit local rule ${editing.rule_id}` : `Add a local rule to ${project}`}>
      <form class="stack" onSubmit=${submit}>
        <div class="filters">
          <${Field} label="Rule id"><input name="rule_id" required value=${form.rule_id} onInput=${set('rule_id')} spellcheck="false" /><//>
          <${Field} label="Severity"><select value=${form.severity} onChange=${set('severity')}><option>error</option><option>warning</option></select><//>
          <${Field} label="Match"><select value=${form.match_type} onChange=${set('match_type')}><option>regex</option><option>missing</option><option>custom</option></select><//>
          <${Field} label="Stack" hint="empty = every stack"><input value=${form.stack} onInput=${set('stack')} /><//>
        </div>
        <${Field} label="Pattern" hint="RE2 syntax, e.g. (?i)todo" wide><input name="pattern" required class="mono" value=${form.pattern} onInput=${set('pattern')} spellcheck="false" /><//>
        <${Field} label="Message" wide><input name="message" value=${form.message} onInput=${set('message')} /><//>
        <${Field} label="Applies to" hint="comma-separated globs; empty = every file" wide><input value=${form.applies_to} onInput=${set('applies_to')} spellcheck="false" /><//>
        <div class="actions">
          <button type="submit" class="primary" disabled=${action.busy}>${editing ? 'Save rule' : 'Add rule'}</button>
          ${editing && html`<button type="button" onClick=${() => onDone()}>Cancel</button>`}
        </div>
      </form>
      <${ActionResult} action=${action} />
    <//>`;
}

function RuleTable({ rules, label, project, actions }) {
  const nameOf = useNames();
  return html`
    <${TableWrap} label=${label}>
      <table class="data rules-table">
        <thead><tr><th>Rule</th><th>Severity</th><th>Pattern</th><th>Message</th><th>Applies to</th><th>Stack</th><th>Source</th><th>Created</th><th><span class="sr-only">Actions</span></th></tr></thead>
        <tbody>
          ${rules.map((r) => html`
            <tr key=${`${r.project}/${r.rule_id}`} data-rule=${r.rule_id}>
              <td><strong class="mono">${r.rule_id}</strong>${r.project !== project && html`<div class="small muted">${r.project}</div>`}
                ${r.proposed_by && html`<div class="small muted">by <${Who} id=${r.proposed_by} nameOf=${nameOf} /></div>`}</td>
              <td><${StatusBadge} status=${r.severity} /></td>
              <td class="mono small pattern">${r.match_type !== 'regex' && html`<${Badge} kind="neutral">${r.match_type}<//> `}${r.pattern}</td>
              <td>${r.message}${r.context && html`<div class="small muted">${r.context}</div>`}</td>
              <td><${Chips} values=${r.applies_to} /></td>
              <td>${r.stack || '—'}</td>
              <td>${r.source}</td>
              <td title=${formatTime(r.created_at)}>${formatAgo(r.created_at)}</td>
              <td class="row-actions">${actions(r)}</td>
            </tr>`)}
        </tbody>
      </table>
    <//>`;
}

function ExportRules() {
  const [sources, setSources] = useState({ local: true, learned: true, external: false });
  const action = useAction();
  const download = () =>
    action.run(async () => {
      const chosen = Object.keys(sources).filter((s) => sources[s]).join(',');
      const rules = await api.get('/api/rules/export', { source: chosen });
      const url = URL.createObjectURL(new Blob([JSON.stringify(rules, null, 2)], { type: 'application/json' }));
      const link = Object.assign(document.createElement('a'), { href: url, download: 'koor-rules.json' });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 1000);
      return rules;
    }, (rules) => `Exported ${rules.length} accepted rule(s) to koor-rules.json.`);
  return html`
    <${Section} id="rules-export" title="Export accepted rules">
      <div class="filters">
        ${Object.keys(sources).map((s) => html`
          <label class="check" key=${s}><input type="checkbox" checked=${sources[s]} onChange=${(e) => setSources({ ...sources, [s]: e.currentTarget.checked })} /> ${s}</label>`)}
        <button type="button" onClick=${download} disabled=${action.busy || !Object.values(sources).some(Boolean)}>Download JSON</button>
      </div>
      <${ActionResult} action=${action} />
    <//>`;
}

export function RulesPage({ params }) {
  const project = params.get('project') || '_global';
  const stack = params.get('stack') ?? '';
  const [source, setSource] = useState('');
  const [status, setStatus] = useState('');
  const [search, setSearch] = useState('');
  const [editing, setEditing] = useState(null);
  const list = useData(() => api.get(`/api/validate/${encodeURIComponent(project)}/rules`, { status: 'all', stack }), [project, stack], 15_000);
  // Other projects with rules waiting for review: a project's proposals are easy to miss when
  // the page opens on _global.
  const projects = useData(() => api.get('/api/projects'), [], 15_000);
  const waiting = (projects.data ?? []).filter((p) => p.name !== project && p.rules.proposed > 0);
  const decide = useAction();
  useEffect(() => { if (list.data) rememberProject(project); }, [list.data]);

  const rules = useMemo(() => {
    const needle = search.trim().toLowerCase();
    return (list.data?.rules ?? []).filter((r) =>
      (!source || r.source === source) &&
      (!needle || [r.rule_id, r.pattern, r.message, r.context].some((v) => String(v ?? '').toLowerCase().includes(needle))));
  }, [list.data, source, search]);
  const localRules = (list.data?.rules ?? []).filter((r) => r.project === project && r.source === 'local');
  const byStatus = (s) => rules.filter((r) => r.status === s);

  const act = (rule, verb) =>
    decide.run(() => api.post(`/api/rules/${encodeURIComponent(rule.project)}/${encodeURIComponent(rule.rule_id)}/${verb}`, {}), (r) => `${r.rule_id} is now ${r.status}.`).then(list.reload);
  // Learned and external rules (and rejected ones) have no editor to leave through: delete them.
  const removeRule = (rule) =>
    decide.run(() => api.delete(`/api/rules/${encodeURIComponent(rule.project)}/${encodeURIComponent(rule.rule_id)}`), `Deleted ${rule.rule_id}.`).then(list.reload);
  const removeLocal = (rule) =>
    decide.run(() => api.put(`/api/validate/${encodeURIComponent(project)}/rules`, localRules.filter((r) => r.rule_id !== rule.rule_id).map(localRuleBody)), `Removed ${rule.rule_id}.`).then(list.reload);

  const groups = [
    { status: 'proposed', title: 'Proposed — awaiting review', empty: 'No proposed rules. Agents propose rules with the propose_rule MCP tool or POST /api/rules/propose.' },
    { status: 'accepted', title: 'Accepted', empty: 'No accepted rules match.' },
    { status: 'rejected', title: 'Rejected', empty: 'No rejected rules.' },
  ].filter((g) => !status || g.status === status);

  const actionsFor = (rule) => {
    if (rule.status === 'proposed') {
      return html`<button type="button" class="primary" onClick=${() => act(rule, 'accept')}>Accept</button>
        <button type="button" class="danger" onClick=${() => act(rule, 'reject')}>Reject</button>`;
    }
    if (rule.source === 'local' && rule.project === project) {
      return html`<button type="button" onClick=${() => { setEditing(rule); document.getElementById('rule-editor')?.scrollIntoView({ block: 'start' }); }}>Edit</button>
        <${ConfirmButton} label="Remove" confirmLabel="Yes, remove" onConfirm=${() => removeLocal(rule)} />`;
    }
    return html`<${ConfirmButton} label="Delete" confirmLabel=${`Delete ${rule.rule_id}`} onConfirm=${() => removeRule(rule)} />`;
  };

  return html`
    <${PageHeader} title="Rules" description="Validation rules per project (rules of _global apply everywhere). Review what agents propose." />
    <${ProjectPicker} page="rules" project=${project} extra=${{ stack }} />
    ${waiting.length > 0 && html`
      <p class="note info" data-testid="projects-waiting">Proposed rules are waiting in ${waiting.map((p, i) => html`${i > 0 ? ', ' : ''}<a href=${`#/rules?project=${encodeURIComponent(p.name)}`}>${p.name} (${p.rules.proposed})</a>`)}.</p>`}
    <form class="filters" onSubmit=${(e) => e.preventDefault()} aria-label="Rule filters">
      <${Field} label="Stack">
        <input value=${stack} onChange=${(e) => navigate('rules', { project, stack: e.currentTarget.value.trim() })} placeholder="any" />
      <//>
      <${Field} label="Source">
        <select value=${source} onChange=${(e) => setSource(e.currentTarget.value)}><option value="">any</option><option>local</option><option>learned</option><option>external</option></select>
      <//>
      <${Field} label="Status">
        <select value=${status} onChange=${(e) => setStatus(e.currentTarget.value)}><option value="">any</option><option>proposed</option><option>accepted</option><option>rejected</option></select>
      <//>
      <${Field} label="Search"><input type="search" value=${search} onInput=${(e) => setSearch(e.currentTarget.value)} /><//>
    </form>
    <${ErrorNote} error=${list.error} />
    <${ActionResult} action=${decide} />
    ${groups.map((g) => {
      const shown = byStatus(g.status);
      return html`
        <${Section} key=${g.status} id=${`rules-${g.status}`} title=${`${g.title} (${shown.length})`}>
          ${shown.length === 0 ? html`<${Empty}>${g.empty}<//>` : html`<${RuleTable} rules=${shown} label=${g.title} project=${project} actions=${actionsFor} />`}
        <//>`;
    })}
    <div class="grid-2">
      <${RuleEditor} project=${project} localRules=${localRules} editing=${editing} onDone=${() => { setEditing(null); list.reload(); }} />
      <${ExportRules} />
    </div>`;
}

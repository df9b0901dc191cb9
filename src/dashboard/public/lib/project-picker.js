import { useEffect, useState } from 'preact/hooks';
import { html } from './html.js';
import { knownProjects } from './projects.js';
import { navigate } from './router.js';
import { Field } from './ui.js';

/** Project name field (suggesting projects seen before); submitting puts it in the page's URL. */
export function ProjectPicker({ page, project, extra = {} }) {
  const [draft, setDraft] = useState(project);
  useEffect(() => setDraft(project), [project]);
  const listId = `${page}-projects`;
  return html`
    <form class="filters" onSubmit=${(e) => { e.preventDefault(); navigate(page, { ...extra, project: draft.trim() }); }}>
      <${Field} label="Project">
        <input name="project" list=${listId} value=${draft} required onInput=${(e) => setDraft(e.currentTarget.value)} spellcheck="false" />
        <datalist id=${listId}>${knownProjects().map((p) => html`<option value=${p} />`)}</datalist>
      <//>
      <button type="submit">Show</button>
    </form>`;
}

import { useMemo } from 'preact/hooks';
import { html } from './html.js';
import { api } from './api.js';
import { useData } from './hooks.js';

// People read names, not UUIDs: wherever the API answers with who did something (an event's
// source, a version's author, an audit actor, a rule's proposer), the pages show the instance's
// name, with the id in a tooltip. The admin (and anyone in local mode) is the human.

const PEOPLE = new Set(['admin', 'anonymous', 'human']);

/** The registry, refreshed every 10 s: `nameOf(id)` → the name a person reads. */
export function useNames() {
  const list = useData(() => api.get('/api/instances'), [], 10_000);
  return useMemo(() => {
    const byId = new Map((list.data ?? []).map((i) => [i.id, i.name]));
    return (id) => {
      if (!id) return '';
      if (PEOPLE.has(id)) return 'human';
      return byId.get(id) ?? id;
    };
  }, [list.data]);
}

/** Who did it, by name; the id (when it differs) is in the tooltip. */
export function Who({ id, nameOf }) {
  if (!id) return html`<span class="muted">—</span>`;
  const name = nameOf(id);
  return name === id ? html`<span>${id}</span>` : html`<span class="who" title=${id}>${name}</span>`;
}

import { useEffect, useRef, useState } from 'preact/hooks';
import { html } from '../lib/html.js';
import { api, eventStreamUrl } from '../lib/api.js';
import { useAction } from '../lib/hooks.js';
import { compactJson, formatClock, formatTime, localInputToIso, prettyJson } from '../lib/format.js';
import { ActionResult, Empty, ErrorNote, Field, Notice, PageHeader, Section, StatusBadge, TableWrap } from '../lib/ui.js';
import { hrefFor, navigate } from '../lib/router.js';
import { useNames, Who } from '../lib/names.js';

const KEEP = 500;
const RECENT = 25;

function EventRow({ event, nameOf }) {
  return html`
    <tr data-event-id=${event.id}>
      <td class="mono nowrap" title=${formatTime(event.created_at)}>${formatClock(event.created_at)}</td>
      <td class="mono">${event.id}</td>
      <td><code>${event.topic}</code></td>
      <td><${Who} id=${event.source} nameOf=${nameOf} /></td>
      <td class="data-cell">
        ${event.data === undefined || event.data === null
          ? html`<span class="muted">—</span>`
          : html`<details><summary class="mono">${compactJson(event.data, 120)}</summary><pre>${prettyJson(event.data)}</pre></details>`}
      </td>
    </tr>`;
}

function EventTable({ events, label }) {
  const nameOf = useNames();
  return html`
    <${TableWrap} label=${label}>
      <table class="data events-table">
        <thead><tr><th>Time</th><th>Id</th><th>Topic</th><th>Source</th><th>Data</th></tr></thead>
        <tbody>${events.map((e) => html`<${EventRow} key=${e.id} event=${e} nameOf=${nameOf} />`)}</tbody>
      </table>
    <//>`;
}

/**
 * Follows the live stream over WebSocket. On a dropped connection it reconnects with
 * `?after=<last id>` so no event is missed or shown twice.
 */
function useEventStream(pattern) {
  const [events, setEvents] = useState([]);
  const [status, setStatus] = useState({ state: 'connecting', detail: '' });
  const [dropped, setDropped] = useState(0);
  const lastId = useRef(0);

  useEffect(() => {
    let socket;
    let retry;
    let delay = 500;
    let stopped = false;
    setEvents([]);
    lastId.current = 0;

    // Start with the latest stored events for context, then follow from the newest of them.
    // The stream resumes after the newest stored event of ANY topic, so a matching event
    // published while we connect is replayed rather than lost.
    const start = async () => {
      setStatus({ state: 'connecting', detail: '' });
      try {
        const [recent, newest] = await Promise.all([
          api.get('/api/events/history', { last: RECENT, topic: pattern }),
          api.get('/api/events/history', { last: 1 }),
        ]);
        if (stopped) return;
        lastId.current = Math.max(0, ...[...recent, ...newest].map((e) => e.id));
        setEvents(recent);
      } catch {
        // The stream still works without the backlog.
      }
      if (!stopped) connect();
    };

    const connect = () => {
      setStatus({ state: 'connecting', detail: '' });
      socket = new WebSocket(eventStreamUrl(pattern, lastId.current || undefined));
      socket.onopen = () => {
        delay = 500;
        setStatus({ state: 'live', detail: '' });
      };
      socket.onmessage = (message) => {
        let frame;
        try {
          frame = JSON.parse(message.data);
        } catch {
          return;
        }
        if (typeof frame.dropped === 'number') {
          // The server dropped events because we were slow: fetch them from history.
          setDropped((n) => n + frame.dropped);
          return;
        }
        if (typeof frame.id !== 'number' || frame.id <= lastId.current) return;
        lastId.current = frame.id;
        setEvents((list) => [frame, ...list].slice(0, KEEP));
      };
      socket.onclose = (close) => {
        if (stopped) return;
        if (close.code === 4401) {
          // Token refused: a REST call will bring up the login field.
          setStatus({ state: 'closed', detail: close.reason || 'unauthorized' });
          api.get('/api/metrics').catch(() => {});
          return;
        }
        setStatus({ state: 'closed', detail: `${close.reason || 'connection lost'} — reconnecting` });
        retry = setTimeout(connect, delay);
        delay = Math.min(delay * 2, 10_000);
      };
    };
    start();
    return () => {
      stopped = true;
      clearTimeout(retry);
      socket?.close(1000, 'page left');
    };
  }, [pattern]);

  return { events, status, dropped, clear: () => setEvents([]) };
}

function LiveStream({ pattern }) {
  const [draft, setDraft] = useState(pattern);
  const [paused, setPaused] = useState(false);
  const [frozen, setFrozen] = useState([]);
  const stream = useEventStream(pattern);

  useEffect(() => setDraft(pattern), [pattern]);
  const togglePause = () => {
    if (!paused) setFrozen(stream.events);
    setPaused(!paused);
  };
  const shown = paused ? frozen : stream.events;
  const held = paused ? stream.events.filter((e) => e.id > (frozen[0]?.id ?? 0)).length : 0;

  return html`
    <${Section} id="live-events" title="Live stream"
      actions=${html`
        <span class="stream-status" aria-live="polite">
          <${StatusBadge} status=${paused ? 'paused' : stream.status.state} />
          ${stream.status.detail && html` <span class="muted small">${stream.status.detail}</span>`}
        </span>
        <button type="button" aria-pressed=${paused} onClick=${togglePause}>${paused ? 'Resume' : 'Pause'}</button>
        <button type="button" onClick=${() => { stream.clear(); setFrozen([]); }}>Clear</button>`}>
      <form class="filters" onSubmit=${(e) => { e.preventDefault(); navigate('events', { pattern: draft.trim() || '*' }); }}>
        <${Field} label="Topic pattern" hint="Go-style glob: * any characters (api.* = everything under api.), ? one character, [abc] a class">
          <input name="pattern" value=${draft} onInput=${(e) => setDraft(e.currentTarget.value)} spellcheck="false" />
        <//>
        <button type="submit">Apply</button>
      </form>
      ${held > 0 && html`<${Notice} kind="info">${held} new event${held === 1 ? '' : 's'} held while paused — resume to show.<//>`}
      ${stream.dropped > 0 && html`<${Notice} kind="warn">The server dropped ${stream.dropped} event(s) this page was too slow for; see History for them.<//>`}
      ${shown.length === 0
        ? html`<${Empty}>Waiting for events matching <code>${pattern}</code>…<//>`
        : html`<${EventTable} events=${shown} label="Live events" />`}
    <//>`;
}

function History() {
  const [form, setForm] = useState({ topic: '', source: '', from: '', to: '', last: '50' });
  const [result, setResult] = useState(null);
  const action = useAction();
  const set = (name) => (e) => setForm({ ...form, [name]: e.currentTarget.value });

  const search = (e) => {
    e?.preventDefault();
    action.run(async () =>
      setResult(await api.get('/api/events/history', {
        topic: form.topic.trim(), source: form.source.trim(), last: form.last,
        from: localInputToIso(form.from), to: localInputToIso(form.to),
      })),
    );
  };
  useEffect(() => search(), []);

  return html`
    <${Section} id="event-history" title="History">
      <form class="filters" onSubmit=${search}>
        <${Field} label="Topic pattern"><input value=${form.topic} onInput=${set('topic')} placeholder="*" spellcheck="false" /><//>
        <${Field} label="Source"><input value=${form.source} onInput=${set('source')} /><//>
        <${Field} label="From"><input type="datetime-local" step="1" value=${form.from} onInput=${set('from')} /><//>
        <${Field} label="To"><input type="datetime-local" step="1" value=${form.to} onInput=${set('to')} /><//>
        <${Field} label="Newest"><input type="number" min="1" max="1000" value=${form.last} onInput=${set('last')} /><//>
        <button type="submit" disabled=${action.busy}>Search</button>
      </form>
      <${ErrorNote} error=${action.error} />
      ${result && (result.length === 0 ? html`<${Empty}>No stored event matches.<//>` : html`<${EventTable} events=${result} label="Event history" />`)}
    <//>`;
}

function Publish() {
  const [form, setForm] = useState({ topic: '', data: '', source: '' });
  const action = useAction();
  const submit = (e) => {
    e.preventDefault();
    let data;
    if (form.data.trim()) {
      try {
        data = JSON.parse(form.data);
      } catch (err) {
        action.setError(new Error(`data is not valid JSON: ${err.message}`));
        return;
      }
    }
    action.run(() => api.post('/api/events/publish', { topic: form.topic.trim(), data, source: form.source.trim() || undefined }), (ev) => `Published event ${ev.id} on ${ev.topic}.`);
  };
  return html`
    <details class="panel">
      <summary>Publish an event</summary>
      <form class="filters" onSubmit=${submit}>
        <${Field} label="Topic"><input required value=${form.topic} onInput=${(e) => setForm({ ...form, topic: e.currentTarget.value })} spellcheck="false" /><//>
        <${Field} label="Source"><input value=${form.source} onInput=${(e) => setForm({ ...form, source: e.currentTarget.value })} /><//>
        <${Field} label="Data (JSON)" wide><textarea rows="3" value=${form.data} onInput=${(e) => setForm({ ...form, data: e.currentTarget.value })} spellcheck="false"></textarea><//>
        <button type="submit" disabled=${action.busy}>Publish</button>
      </form>
      <${ActionResult} action=${action} />
    </details>`;
}

export function EventsPage({ params }) {
  const view = params.get('view') === 'history' ? 'history' : 'live';
  const pattern = params.get('pattern') || '*';
  return html`
    <${PageHeader} title="Events" description="The event bus: follow it live or search what is stored." />
    <div class="tabs" role="tablist" aria-label="Event views">
      <a role="tab" href=${hrefFor('events', { pattern: params.get('pattern') ?? undefined })} aria-selected=${view === 'live'}>Live</a>
      <a role="tab" href=${hrefFor('events', { view: 'history' })} aria-selected=${view === 'history'}>History</a>
    </div>
    ${view === 'live' ? html`<${LiveStream} pattern=${pattern} />` : html`<${History} />`}
    <${Publish} />`;
}

import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { html } from './lib/html.js';
import { api, auth, onUnauthorized } from './lib/api.js';
import { hrefFor, useRoute } from './lib/router.js';
import { startSampling, stopSampling } from './lib/samples.js';
import { TeamPage } from './pages/team.js';
import { OverviewPage } from './pages/overview.js';
import { InstancesPage } from './pages/instances.js';
import { EventsPage } from './pages/events.js';
import { StatePage } from './pages/state.js';
import { SpecsPage } from './pages/specs.js';
import { RulesPage } from './pages/rules.js';
import { WebhooksPage } from './pages/webhooks.js';
import { CompliancePage } from './pages/compliance.js';
import { AuditPage } from './pages/audit.js';
import { MetricsPage } from './pages/metrics.js';

const PAGES = [
  // Team first: it is what a person steering the agents looks at first.
  { id: 'team', title: 'Team', component: TeamPage },
  { id: 'overview', title: 'Overview', component: OverviewPage },
  { id: 'instances', title: 'Instances', component: InstancesPage },
  { id: 'events', title: 'Events', component: EventsPage },
  { id: 'state', title: 'State', component: StatePage },
  { id: 'specs', title: 'Specs & contracts', component: SpecsPage },
  { id: 'rules', title: 'Rules', component: RulesPage },
  { id: 'webhooks', title: 'Webhooks', component: WebhooksPage },
  { id: 'compliance', title: 'Compliance', component: CompliancePage },
  { id: 'audit', title: 'Audit log', component: AuditPage },
  { id: 'metrics', title: 'Metrics & LLM cost', component: MetricsPage },
];

/** Asks for the server token; it is kept in sessionStorage for this tab only. */
function Login({ reason, onSignedIn }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState(reason);
  const [busy, setBusy] = useState(false);

  async function submit(event) {
    event.preventDefault();
    setBusy(true);
    auth.set(token.trim());
    try {
      await api.get('/api/metrics');
      onSignedIn();
    } catch (err) {
      auth.clear();
      setError(err.status === 401 ? 'That token was refused by the server.' : err.message);
    } finally {
      setBusy(false);
    }
  }

  return html`
    <main class="login" id="main">
      <form class="panel login-form" onSubmit=${submit} aria-labelledby="login-title">
        <h1 id="login-title">Koor dashboard</h1>
        <p class="muted">This server requires a token. Enter the server token (or a live instance token); it is kept only for this browser tab.</p>
        ${error && html`<p class="note error" role="alert">${error}</p>`}
        <label class="field wide">
          <span class="field-label">Token</span>
          <input type="password" name="token" autocomplete="current-password" required autofocus
            value=${token} onInput=${(e) => setToken(e.currentTarget.value)} />
        </label>
        <button type="submit" class="primary" disabled=${busy || !token.trim()}>Sign in</button>
      </form>
    </main>`;
}

function Shell({ signOut, version }) {
  const route = useRoute();
  const page = PAGES.find((p) => p.id === route.page) ?? PAGES[0];
  const Page = page.component;

  useEffect(() => {
    document.title = `${page.title} · Koor`;
  }, [page]);

  return html`
    <a class="skip-link" href="#main" onClick=${(e) => { e.preventDefault(); document.getElementById('main')?.focus(); }}>Skip to content</a>
    <header class="topbar">
      <a class="brand" href=${hrefFor('team')}><img src="/favicon.svg" alt="" width="22" height="22" /> Koor</a>
      <span class="muted version">${version ? `v${version}` : ''}</span>
      <span class="spacer"></span>
      ${auth.token && html`<button type="button" class="link" onClick=${signOut}>Sign out</button>`}
    </header>
    <div class="layout">
      <nav class="sidenav" aria-label="Sections">
        <ul>
          ${PAGES.map((p) => html`
            <li key=${p.id}>
              <a href=${hrefFor(p.id)} aria-current=${p.id === page.id ? 'page' : undefined}>${p.title}</a>
            </li>`)}
        </ul>
      </nav>
      <main id="main" tabindex="-1">
        <${Page} key=${page.id} params=${route.params} />
      </main>
    </div>`;
}

function App() {
  // 'checking' until we know whether the API wants a token.
  const [phase, setPhase] = useState('checking');
  const [reason, setReason] = useState('');
  const [version, setVersion] = useState('');

  useEffect(() => {
    onUnauthorized((message) => {
      // A first visit without a token just gets the login field; a refused token says why.
      setReason(auth.token ? `The server refused the token: ${message}` : '');
      auth.clear();
      stopSampling();
      setPhase('login');
    });
    fetch('/health')
      .then((r) => r.json())
      .then((h) => setVersion(h.version ?? ''))
      .catch(() => {});
    api
      .get('/api/metrics')
      .then(() => setPhase('ready'))
      .catch((err) => {
        if (err.status !== 401) setPhase('ready'); // the pages show other errors themselves
      });
  }, []);

  useEffect(() => {
    if (phase === 'ready') startSampling();
  }, [phase]);

  if (phase === 'checking') return html`<p class="boot">Connecting to Koor…</p>`;
  if (phase === 'login') return html`<${Login} reason=${reason} onSignedIn=${() => { setReason(''); setPhase('ready'); }} />`;
  return html`<${Shell} version=${version} signOut=${() => { auth.clear(); stopSampling(); setReason(''); setPhase('login'); }} />`;
}

render(html`<${App} />`, document.getElementById('root'));

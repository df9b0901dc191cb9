import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { startListeningApp, startTestApp } from './support/app.js';
import { launchChromium, saveScreenshot, startDashboardStack } from './support/dashboard.js';

// Issue 16's browser findings, tried by a real page: Chromium opens a page of another origin
// (served here on its own port), whose script tries what any web page the user visits could:
// a no-cors POST, a form POST, a text/plain import and a WebSocket, at the API and through the
// dashboard. None may change anything or read anything, while the dashboard itself still works.

let browser: Browser;
before(async () => {
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
});

/** The attacking page's script: every attempt, each waited for to its end, results in `window.outcome`. */
const ATTACK = `
const params = new URLSearchParams(location.search);
const api = params.get('api');
const dashboard = params.get('dashboard');
const dump = document.getElementById('dump').textContent;

function formPost(action) {
  return new Promise((resolve) => {
    const frame = document.createElement('iframe');
    frame.name = 'sink-' + Math.random().toString(36).slice(2);
    frame.onload = () => resolve('answered');
    document.body.append(frame);
    const form = document.createElement('form');
    form.method = 'POST';
    form.enctype = 'text/plain';
    form.action = action;
    form.target = frame.name;
    document.body.append(form);
    form.submit();
  });
}

function socket(base) {
  return new Promise((resolve) => {
    const seen = { opened: false, frames: [] };
    const ws = new WebSocket(base.replace(/^http/, 'ws') + '/api/events/subscribe?after=0');
    ws.onopen = () => (seen.opened = true);
    ws.onmessage = (message) => seen.frames.push(message.data);
    ws.onclose = (event) => resolve({ ...seen, code: event.code });
    // An open socket has replayed the history within a second; then it is closed.
    setTimeout(() => ws.close(), 1000);
  });
}

const noCors = (url, init) => fetch(url, { mode: 'no-cors', method: 'POST', ...init }).then((r) => r.type, (e) => 'failed: ' + e.message);

window.outcome = (async () => ({
  rollback: await noCors(api + '/api/state/plan?rollback=1'),
  textImport: await noCors(api + '/api/import?merge=1', { headers: { 'content-type': 'text/plain' }, body: dump }),
  formRollback: await formPost(api + '/api/state/plan?rollback=1'),
  apiSocket: await socket(api),
  dashboardRollback: await noCors(dashboard + '/api/state/plan?rollback=1'),
  dashboardSocket: await socket(dashboard),
}))();
`;

/** Serves the attacking page, with the export to import in it, on a port of its own. */
async function attackerSite(dump: string): Promise<{ origin: string; server: Server }> {
  const page = `<!doctype html><meta charset="utf-8"><title>cute cats</title><script type="text/plain" id="dump">${dump.replace(/</g, '\\u003c')}</script><script type="module">${ATTACK}</script>`;
  const server = createServer((_request, response) => response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { origin: `http://localhost:${(server.address() as AddressInfo).port}`, server };
}

async function json(url: string) {
  const response = await fetch(url);
  assert.equal(response.status, 200, url);
  return response.json();
}

test('a page of another origin in Chromium can neither write, import nor subscribe, at the API or through the dashboard; the dashboard still works', async (t) => {
  const stack = await startDashboardStack();
  t.after(stack.close);
  const { url: api } = stack.api;
  const put = (body: string) => fetch(`${api}/api/state/plan`, { method: 'PUT', headers: { 'content-type': 'text/plain' }, body });
  assert.equal((await put('launch on monday')).status, 200);
  assert.equal((await put('launch on tuesday')).status, 200);

  // An export that plants a webhook (exfiltration) and a _global rule, as issue 16's import did.
  const scratch = await startTestApp();
  t.after(scratch.close);
  await scratch.app.inject({ method: 'POST', url: '/api/webhooks', payload: { id: 'exfil', url: 'http://127.0.0.1:9/hook', patterns: ['*'] } });
  await scratch.app.inject({ method: 'POST', url: '/api/rules/import?project=_global', payload: [{ rule_id: 'planted', pattern: 'x', message: 'planted', source: 'external' }] });
  const dump = (await scratch.app.inject({ method: 'GET', url: '/api/export' })).body;

  const attacker = await attackerSite(dump);
  t.after(() => new Promise<void>((resolve) => attacker.server.close(() => resolve())));
  const context = await browser.newContext();
  t.after(() => context.close());

  // The control: the same page against a server that lists its origin in --allowed-origins
  // does roll the key back and read the history, so the refusals below are Koor's, not the browser's.
  const trusting = await startListeningApp({ allowedOrigins: [attacker.origin] });
  t.after(trusting.close);
  await fetch(`${trusting.url}/api/state/plan`, { method: 'PUT', headers: { 'content-type': 'text/plain' }, body: 'v1' });
  await fetch(`${trusting.url}/api/state/plan`, { method: 'PUT', headers: { 'content-type': 'text/plain' }, body: 'v2' });
  const control = await context.newPage();
  await control.goto(`${attacker.origin}/?api=${encodeURIComponent(trusting.url)}&dashboard=${encodeURIComponent(stack.dashboard.url)}`);
  const allowed = await control.evaluate(() => (window as unknown as { outcome: Promise<any> }).outcome);
  assert.equal(allowed.apiSocket.opened, true);
  assert.match(allowed.apiSocket.frames.join('\n'), /state\.changed/);
  assert.ok(Number((await fetch(`${trusting.url}/api/state/plan`)).headers.get('x-koor-version')) >= 3, 'the trusted page rolled the key back');

  const page = await context.newPage();
  await page.goto(`${attacker.origin}/?api=${encodeURIComponent(api)}&dashboard=${encodeURIComponent(stack.dashboard.url)}`);
  const outcome = await page.evaluate(() => (window as unknown as { outcome: Promise<any> }).outcome);
  assert.equal(outcome.rollback, 'opaque', 'the no-cors POST was sent (and its answer hidden from the page)');
  assert.equal(outcome.formRollback, 'answered');
  for (const name of ['apiSocket', 'dashboardSocket']) {
    assert.equal(outcome[name].opened, false, `${name}: ${JSON.stringify(outcome[name])}`);
    assert.deepEqual(outcome[name].frames, []);
  }

  // Nothing changed on the server, and nothing was read from it.
  const plan = await fetch(`${api}/api/state/plan`);
  assert.equal(await plan.text(), 'launch on tuesday');
  assert.equal(plan.headers.get('x-koor-version'), '2');
  assert.deepEqual(await json(`${api}/api/webhooks`), []);
  assert.deepEqual((await json(`${api}/api/validate/_global/rules?status=all`)).rules, []);
  const audit = (await json(`${api}/api/audit?limit=100`)) as Array<{ outcome: string }>;
  assert.deepEqual(audit.filter((entry) => entry.outcome === 'error'), [], 'the refused attempts left no audit entries');

  // The dashboard, on its own origin: its live stream connects, and a write from its page goes through.
  const dashboard = await context.newPage();
  await dashboard.goto(`${stack.dashboard.url}/#/events`);
  await dashboard.locator('.stream-status', { hasText: 'live' }).waitFor();
  const status = await dashboard.evaluate(() =>
    fetch('/api/events/publish', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ topic: 'dashboard.write', source: 'dashboard-page' }) }).then((r) => r.status));
  assert.equal(status, 200);
  await dashboard.locator('table.events-table tbody tr', { hasText: 'dashboard.write' }).waitFor();
  await saveScreenshot(dashboard, 'browser-safety-dashboard');
  const topics = ((await json(`${api}/api/events/history`)) as Array<{ topic: string }>).map((event) => event.topic);
  assert.deepEqual(topics.filter((topic) => topic !== 'state.changed'), ['dashboard.write']);
});

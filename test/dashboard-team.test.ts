// The dashboard's Team page (SPEC §16–17): the person steering the agents sees each one with
// its intent, leases and unread messages, messages them, and releases a stuck lease.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { launchChromium, saveScreenshot, startDashboardStack } from './support/dashboard.js';
import { CliWorkspace } from './support/cli.js';

let browser: Browser;
before(async () => {
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
});

test('a message sent from the Team page arrives in koor-cli inbox, and a stuck lease is released there', async (t) => {
  const stack = await startDashboardStack();
  t.after(stack.close);
  const backend = new CliWorkspace(stack.api.url);
  const frontend = new CliWorkspace(stack.api.url);
  t.after(() => {
    backend.remove();
    frontend.remove();
  });
  const agent = await backend.json(['register', 'claude-backend', '--intent', 'booking API', '--capabilities', 'api']);
  await frontend.json(['register', 'cursor-frontend', '--capabilities', 'ui']);
  const lease = await backend.json(['lease', 'acquire', 'src/api/**', '--reason', 'bookings refactor']);
  await frontend.json(['send', 'claude-backend', 'Is /bookings ready?']);
  await backend.json(['send', 'human', 'Waiting for the schema decision', '--subject', 'blocked']);
  await backend.json(['state', 'set', 'shop/plan', '--data', '{"step":1}']);

  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  t.after(() => context.close());
  const page = await context.newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (err) => pageErrors.push(err.message));
  t.after(() => assert.deepEqual(pageErrors, [], 'no JavaScript error on the page'));

  // The Team page is where the dashboard opens.
  await page.goto(`${stack.dashboard.url}/`);
  await page.getByRole('heading', { name: 'Team', level: 1 }).waitFor();
  const row = page.locator(`tr[data-instance="${agent.id}"]`);
  await row.locator('text=bookings refactor').waitFor();
  const text = await row.innerText();
  assert.match(text, /claude-backend/);
  assert.match(text, /booking API/);
  assert.match(text, /src\/api\/\*\*/);
  assert.match(await row.locator('td.unread').innerText(), /^1$/, 'one unread message');
  await page.locator('section[aria-labelledby="team-inbox"] li', { hasText: 'Waiting for the schema decision' }).waitFor();

  // Message one agent from the page; it arrives in that agent's koor-cli inbox, from the human.
  const compose = page.locator('section[aria-labelledby="team-compose"]');
  await compose.getByLabel('To').selectOption({ label: 'claude-backend' });
  await compose.getByLabel('Subject').fill('priorities');
  await compose.getByLabel('Message').fill('Ship /bookings before the refactor, please.');
  await compose.getByRole('button', { name: 'Send' }).click();
  await page.getByText('to 1 agent.').waitFor();
  const inbox = await backend.json(['inbox', '--unread']);
  assert.deepEqual(inbox.map((m: { from: string; subject: string; body: string }) => [m.from, m.subject, m.body])[0], ['human', 'priorities', 'Ship /bookings before the refactor, please.']);
  await row.locator('td.unread', { hasText: '2' }).waitFor();

  // Everyone with a capability.
  await compose.getByLabel('To').selectOption({ label: 'capability: ui' });
  await compose.getByLabel('Message').fill('Freeze the UI for the demo.');
  await compose.getByRole('button', { name: 'Send' }).click();
  await page.getByText('to 1 agent.').waitFor();
  assert.equal((await frontend.json(['inbox', '--unread']))[0].body, 'Freeze the UI for the demo.');

  // Release the stuck lease.
  await row.getByRole('button', { name: 'Release' }).click();
  await row.getByRole('button', { name: 'Release src/api/**' }).click();
  await page.getByText("Released claude-backend's lease on src/api/**.").waitFor();
  assert.deepEqual(await backend.json(['lease', 'list']), []);
  assert.equal((await backend.run(['lease', 'renew', lease.id])).code, 3, 'the released lease is gone');
  await saveScreenshot(page, 'dashboard-team');

  // Names, not ids, where a person reads who did something.
  await page.goto(`${stack.dashboard.url}/#/state?key=shop/plan`);
  await page.locator('table.history-table td', { hasText: 'claude-backend' }).waitFor();
  await page.goto(`${stack.dashboard.url}/#/audit`);
  await page.locator('td', { hasText: 'claude-backend' }).first().waitFor();
});

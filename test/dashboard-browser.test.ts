import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, BrowserContextOptions, Page } from 'playwright-core';
import { launchChromium, saveScreenshot, startDashboardStack, type DashboardStack } from './support/dashboard.js';

let browser: Browser;
before(async () => {
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
});

/** A fresh browser tab on a fresh stack; JavaScript errors on the page fail the test. */
async function openDashboard(t: { after(fn: () => unknown): void }, stack: DashboardStack, options: BrowserContextOptions = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, ...options });
  t.after(() => context.close());
  const page = await context.newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (err) => pageErrors.push(err.message));
  t.after(() => assert.deepEqual(pageErrors, [], 'no JavaScript error on the page'));
  return page;
}

async function rest(stack: DashboardStack, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${stack.api.url}${path}`, {
    method,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  assert.ok(response.ok, `${method} ${path} answered ${response.status}: ${text}`);
  return text ? JSON.parse(text) : null;
}

const section = (page: Page, id: string) => page.locator(`section[aria-labelledby="${id}"]`);

test('a live event published over REST appears on the events page', async (t) => {
  const stack = await startDashboardStack();
  t.after(stack.close);
  const page = await openDashboard(t, stack);

  await page.goto(`${stack.dashboard.url}/#/events`);
  await page.locator('.stream-status', { hasText: 'live' }).waitFor();
  await rest(stack, 'POST', '/api/events/publish', { topic: 'deploy.finished', data: { build: 42, ok: true }, source: 'ci-runner' });

  const row = page.locator('table.events-table tbody tr', { hasText: 'deploy.finished' });
  await row.waitFor();
  assert.match(await row.innerText(), /ci-runner/);
  assert.match(await row.innerText(), /"build":42/);

  // A pattern that does not match hides new events of other topics.
  await page.getByLabel('Topic pattern').fill('api.*');
  await page.getByRole('button', { name: 'Apply' }).click();
  await page.locator('.stream-status', { hasText: 'live' }).waitFor();
  await rest(stack, 'POST', '/api/events/publish', { topic: 'deploy.started' });
  await rest(stack, 'POST', '/api/events/publish', { topic: 'api.change', data: { endpoint: 'POST /bookings' }, source: 'claude-backend' });
  await page.locator('table.events-table tbody tr', { hasText: 'api.change' }).waitFor();
  assert.equal(await page.locator('table.events-table tbody tr', { hasText: 'deploy.started' }).count(), 0);

  // Pause holds new events back until resumed.
  await page.getByRole('button', { name: 'Pause' }).click();
  await rest(stack, 'POST', '/api/events/publish', { topic: 'api.removed', source: 'claude-backend' });
  await page.getByText('1 new event held while paused').waitFor();
  assert.equal(await page.locator('table.events-table tbody tr', { hasText: 'api.removed' }).count(), 0);
  await page.getByRole('button', { name: 'Resume' }).click();
  await page.locator('table.events-table tbody tr', { hasText: 'api.removed' }).waitFor();
  await saveScreenshot(page, 'dashboard-events-live');
});

test('accepting a proposed rule moves it to the accepted list', async (t) => {
  const stack = await startDashboardStack();
  t.after(stack.close);
  await rest(stack, 'POST', '/api/rules/propose', {
    project: 'truck-wash', rule_id: 'no-todo', pattern: '(?i)todo', message: 'No TODOs in committed code', proposed_by: 'claude-backend',
  });
  await rest(stack, 'POST', '/api/rules/propose', {
    project: 'truck-wash', rule_id: 'no-sleep', pattern: 'time\\.Sleep', message: 'Use a ticker', proposed_by: 'claude-backend',
  });
  const page = await openDashboard(t, stack);
  await page.goto(`${stack.dashboard.url}/#/rules?project=truck-wash`);

  const proposed = section(page, 'rules-proposed');
  const accepted = section(page, 'rules-accepted');
  await proposed.locator('tr[data-rule="no-todo"]').waitFor();
  assert.equal(await accepted.locator('tr[data-rule="no-todo"]').count(), 0);

  await proposed.locator('tr[data-rule="no-todo"]').getByRole('button', { name: 'Accept' }).click();
  await accepted.locator('tr[data-rule="no-todo"]').waitFor();
  await proposed.locator('tr[data-rule="no-todo"]').waitFor({ state: 'detached' });
  await page.getByText('no-todo is now accepted').waitFor();

  await proposed.locator('tr[data-rule="no-sleep"]').getByRole('button', { name: 'Reject' }).click();
  await section(page, 'rules-rejected').locator('tr[data-rule="no-sleep"]').waitFor();

  const stored = await rest(stack, 'GET', '/api/validate/truck-wash/rules?status=all');
  const status = Object.fromEntries(stored.rules.map((r: { rule_id: string; status: string }) => [r.rule_id, r.status]));
  assert.deepEqual(status, { 'no-todo': 'accepted', 'no-sleep': 'rejected' });
  await saveScreenshot(page, 'dashboard-rules-accepted');
});

test('a learned or an external rule can be deleted from the rules page', async (t) => {
  const stack = await startDashboardStack();
  t.after(stack.close);
  await rest(stack, 'POST', '/api/rules/propose', {
    project: 'truck-wash', rule_id: 'no-todo', pattern: '(?i)todo', message: 'No TODOs', proposed_by: 'claude-backend',
  });
  await rest(stack, 'POST', '/api/rules/truck-wash/no-todo/accept', {});
  await rest(stack, 'POST', '/api/rules/import?project=truck-wash', [{ rule_id: 'ext-no-eval', pattern: 'eval\\(', message: 'No eval', source: 'external' }]);
  const page = await openDashboard(t, stack);
  await page.goto(`${stack.dashboard.url}/#/rules?project=truck-wash`);

  const accepted = section(page, 'rules-accepted');
  for (const ruleId of ['no-todo', 'ext-no-eval']) {
    const row = accepted.locator(`tr[data-rule="${ruleId}"]`);
    await row.getByRole('button', { name: 'Delete' }).click();
    await row.getByRole('button', { name: `Delete ${ruleId}` }).click();
    await row.waitFor({ state: 'detached' });
    await page.getByText(`Deleted ${ruleId}.`).waitFor();
  }

  const stored = await rest(stack, 'GET', '/api/validate/truck-wash/rules?status=all');
  assert.deepEqual(stored.rules, []);
  const audit = await rest(stack, 'GET', '/api/audit?action=rule.delete');
  assert.deepEqual(audit.map((e: { resource: string }) => e.resource).sort(), ['truck-wash/ext-no-eval', 'truck-wash/no-todo']);
});

test('adding a local rule through the form stores it for the project', async (t) => {
  const stack = await startDashboardStack();
  t.after(stack.close);
  const page = await openDashboard(t, stack);
  await page.goto(`${stack.dashboard.url}/#/rules?project=truck-wash`);

  const editor = section(page, 'rule-editor');
  await editor.getByLabel('Rule id').fill('no-console');
  await editor.getByLabel('Pattern').fill('console\\.log');
  await editor.getByLabel('Message').fill('Use the logger');
  await editor.getByLabel('Applies to').fill('*.ts, *.js');
  await editor.getByRole('button', { name: 'Add rule' }).click();
  await section(page, 'rules-accepted').locator('tr[data-rule="no-console"]').waitFor();

  const stored = await rest(stack, 'GET', '/api/validate/truck-wash/rules');
  const rule = stored.rules.find((r: { rule_id: string }) => r.rule_id === 'no-console');
  assert.equal(rule.source, 'local');
  assert.equal(rule.pattern, 'console\\.log');
  assert.deepEqual(rule.applies_to, ['*.ts', '*.js']);
});

test('editing state makes a new version, a stale edit is refused, and the diff shows the change', async (t) => {
  const stack = await startDashboardStack();
  t.after(stack.close);
  await rest(stack, 'PUT', '/api/state/team/plan', { step: 1, owner: 'ana' });
  const page = await openDashboard(t, stack);
  await page.goto(`${stack.dashboard.url}/#/state?key=team/plan`);

  const value = section(page, 'state-value');
  await value.locator('.version-tag', { hasText: 'v1' }).waitFor();
  await value.getByRole('button', { name: 'Edit' }).click();
  await value.locator('textarea').fill('{"step": 2, "owner": "ana", "done": false}');
  await value.getByRole('button', { name: 'Save' }).click();
  await value.getByText('Saved as v2.').waitFor();
  await value.locator('.version-tag', { hasText: 'v2' }).waitFor();
  assert.deepEqual(await rest(stack, 'GET', '/api/state/team/plan'), { step: 2, owner: 'ana', done: false });

  // Start an edit at v2; another agent writes v3 meanwhile; saving must be refused.
  await value.getByRole('button', { name: 'Edit' }).click();
  await value.locator('textarea').fill('{"step": 3, "owner": "me"}');
  await rest(stack, 'PUT', '/api/state/team/plan', { step: 3, owner: 'bob' });
  await value.getByRole('button', { name: 'Save' }).click();
  const conflict = value.getByRole('alert');
  await conflict.waitFor();
  assert.match(await conflict.innerText(), /Someone else changed this key \(now v3\) — reload/);
  assert.deepEqual(await rest(stack, 'GET', '/api/state/team/plan'), { step: 3, owner: 'bob' }, 'the other agent\'s write survives');
  await saveScreenshot(page, 'dashboard-state-conflict');

  await value.getByRole('button', { name: 'Reload' }).click();
  await value.locator('.version-tag', { hasText: 'v3' }).waitFor();
  assert.match(await value.locator('pre.value').innerText(), /"bob"/);

  // Diff v1 → v3 in the history panel.
  const history = section(page, 'state-history');
  await history.locator('tr[data-version="3"]').waitFor();
  await history.getByLabel('From').selectOption('1');
  await history.getByLabel('To').selectOption('3');
  await history.getByRole('button', { name: 'Show diff' }).click();
  const diff = history.locator('table.diff-table');
  await diff.waitFor();
  const rows = await diff.locator('tbody tr').allInnerTexts();
  assert.ok(rows.some((r) => /replace\s+\/step\s+1\s+3/.test(r)), `step replaced 1 → 3 in ${JSON.stringify(rows)}`);
  assert.ok(rows.some((r) => /replace\s+\/owner\s+"ana"\s+"bob"/.test(r)), `owner replaced in ${JSON.stringify(rows)}`);
  await saveScreenshot(page, 'dashboard-state-diff');

  // Rolling back to v1 makes v4 with v1's value.
  await history.locator('tr[data-version="1"]').getByRole('button', { name: 'Roll back' }).click();
  await history.getByRole('button', { name: 'Restore v1' }).click();
  await value.locator('.version-tag', { hasText: 'v4' }).waitFor();
  assert.deepEqual(await rest(stack, 'GET', '/api/state/team/plan'), { step: 1, owner: 'ana' });
});

test('with auth on, the page asks for the token once and uses it for REST and the live stream', async (t) => {
  const stack = await startDashboardStack({ authToken: 'open-sesame' });
  t.after(stack.close);
  const page = await openDashboard(t, stack);
  await page.goto(`${stack.dashboard.url}/#/events`);

  const token = page.getByLabel('Token');
  await token.waitFor();
  await token.fill('wrong-token');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText('That token was refused by the server.').waitFor();
  await saveScreenshot(page, 'dashboard-login');

  await token.fill('open-sesame');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Events', level: 1 }).waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.getItem('koor.token')), 'open-sesame');

  await page.locator('.stream-status', { hasText: 'live' }).waitFor();
  await rest(stack, 'POST', '/api/events/publish', { topic: 'secure.ping', source: 'ops' }, { authorization: 'Bearer open-sesame' });
  await page.locator('table.events-table tbody tr', { hasText: 'secure.ping' }).waitFor();

  // A reload keeps the session: no second login.
  await page.reload();
  await page.getByRole('heading', { name: 'Events', level: 1 }).waitFor();
  assert.equal(await page.getByLabel('Token').count(), 0);
  await saveScreenshot(page, 'dashboard-after-login');

  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByLabel('Token').waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.getItem('koor.token')), null);
});

test('every page renders, fits a narrow window, reads in dark mode and is reachable by keyboard', async (t) => {
  const stack = await startDashboardStack();
  t.after(stack.close);
  const agent = await rest(stack, 'POST', '/api/instances/register', { name: 'claude-backend', workspace: 'Truck-Wash/backend', intent: 'booking API', stack: 'go', capabilities: ['code', 'tests'] });
  await rest(stack, 'PUT', '/api/state/Truck-Wash/backend-task', { step: 1 }, { 'x-koor-instance-token': agent.token });
  await rest(stack, 'POST', '/api/llm/usage', { provider: 'anthropic', model: 'claude-sonnet', project: 'truck-wash', tokens_in: 12000, tokens_out: 800, cost_usd: 0.048 });

  const pages: Array<[string, string]> = [
    ['team', 'Team'], ['overview', 'Overview'], ['instances', 'Instances'], ['events', 'Events'], ['state', 'State'],
    ['specs', 'Specs & contracts'], ['rules', 'Rules'], ['webhooks', 'Webhooks'], ['compliance', 'Compliance'],
    ['audit', 'Audit log'], ['metrics', 'Metrics & LLM cost'],
  ];
  const wide = await openDashboard(t, stack, { colorScheme: 'dark' });
  for (const [id, title] of pages) {
    await wide.goto(`${stack.dashboard.url}/#/${id}`);
    await wide.getByRole('heading', { name: title, level: 1 }).waitFor();
  }
  await wide.goto(`${stack.dashboard.url}/#/instances`);
  await wide.locator('tr', { hasText: 'claude-backend' }).waitFor();
  const background = await wide.evaluate(() => getComputedStyle(document.body).backgroundColor);
  assert.equal(background, 'rgb(18, 21, 27)', 'dark colours follow prefers-color-scheme');
  await saveScreenshot(wide, 'dashboard-instances-dark');

  // Keyboard: the first Tab reaches the skip link, the next ones the navigation links.
  await wide.keyboard.press('Tab');
  assert.equal(await wide.evaluate(() => document.activeElement?.textContent), 'Skip to content');
  await wide.keyboard.press('Tab');
  await wide.keyboard.press('Tab');
  assert.equal(await wide.evaluate(() => document.activeElement?.textContent), 'Team');

  const narrow = await openDashboard(t, stack, { viewport: { width: 390, height: 800 } });
  for (const [id, title] of pages) {
    await narrow.goto(`${stack.dashboard.url}/#/${id}`);
    await narrow.getByRole('heading', { name: title, level: 1 }).waitFor();
    const overflow = await narrow.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `${id} does not scroll sideways at 390 px (overflow ${overflow}px)`);
  }
  await narrow.goto(`${stack.dashboard.url}/#/overview`);
  await narrow.locator('.tile', { hasText: 'Instances' }).waitFor();
  await saveScreenshot(narrow, 'dashboard-overview-narrow');
});

test("at 1400 px the rules table shows its Remove buttons whole; the audit page counts failures from the API's outcome_counts.error", async (t) => {
  const stack = await startDashboardStack();
  t.after(stack.close);
  const long = 'Every request handler must validate its input with the shared schema helpers before touching the database or calling another service';
  await rest(stack, 'PUT', '/api/validate/truck-wash/rules', [
    { rule_id: 'handlers-validate-input-with-shared-schema-helpers', pattern: 'app\\.(get|post|put|delete)\\(\\s*["\x27][^"\x27]+["\x27]\\s*,\\s*async'.repeat(2), message: long, applies_to: ['src/server/handlers/**/*.ts', 'src/server/routes/**/*.ts'], severity: 'error' },
    { rule_id: 'no-console', pattern: 'console\\.log', message: 'Use the logger', severity: 'warning' },
  ]);
  // Two refused writes: a stale compare-and-swap is audited as an error.
  await rest(stack, 'PUT', '/api/state/team/plan', { step: 1 });
  for (let i = 0; i < 2; i++) {
    const stale = await fetch(`${stack.api.url}/api/state/team/plan`, { method: 'PUT', headers: { 'content-type': 'application/json', 'if-match': '99' }, body: '{}' });
    assert.equal(stale.status, 412);
  }
  const summary = await rest(stack, 'GET', '/api/audit/summary');
  assert.ok(summary.outcome_counts.error >= 2, JSON.stringify(summary.outcome_counts));

  const page = await openDashboard(t, stack, { viewport: { width: 1400, height: 900 } });
  await page.goto(`${stack.dashboard.url}/#/rules?project=truck-wash`);
  const accepted = section(page, 'rules-accepted');
  const remove = accepted.locator('tr[data-rule="handlers-validate-input-with-shared-schema-helpers"]').getByRole('button', { name: 'Remove' });
  await remove.waitFor();
  const wrap = accepted.locator('.table-wrap');
  const inside = async (name: string) => {
    const button = await accepted.locator('tr[data-rule="handlers-validate-input-with-shared-schema-helpers"]').getByRole('button', { name, exact: true }).boundingBox();
    const box = await wrap.boundingBox();
    assert.ok(button && box && button.x + button.width <= box.x + box.width + 0.5, `"${name}" (${JSON.stringify(button)}) lies inside the table (${JSON.stringify(box)})`);
    assert.ok(await wrap.evaluate((el) => el.scrollWidth <= el.clientWidth), `no horizontal scrolling hides "${name}" at 1400 px`);
  };
  await inside('Remove');
  // Asking to confirm: both buttons stay in view.
  await remove.click();
  await inside('Yes, remove');
  await inside('Cancel');
  await saveScreenshot(page, 'dashboard-rules-remove-1400');

  await page.goto(`${stack.dashboard.url}/#/audit`);
  const failures = page.locator('.tile', { hasText: 'Failures' }).locator('dd');
  await failures.first().waitFor();
  assert.equal(await failures.first().innerText(), String(summary.outcome_counts.error));
});

test("the Rules page, opened on _global, points to other projects' proposed rules (from GET /api/projects)", async (t) => {
  const stack = await startDashboardStack();
  t.after(stack.close);
  await rest(stack, 'POST', '/api/rules/propose', { project: 'truck-wash', rule_id: 'no-sleep', pattern: 'sleep\\(', message: 'no sleeps' });
  const page = await openDashboard(t, stack);
  await page.goto(`${stack.dashboard.url}/#/rules`);
  const notice = page.getByTestId('projects-waiting');
  await notice.waitFor();
  assert.match(await notice.innerText(), /truck-wash \(1\)/);
  await notice.getByRole('link', { name: 'truck-wash (1)' }).click();
  await section(page, 'rules-proposed').locator('tr[data-rule="no-sleep"]').waitFor();
});

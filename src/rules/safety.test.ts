import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startListeningApp, testEngines } from '../../test/support/app.js';
import { probeHealthDuring } from '../../test/support/health-probe.js';
import { MAX_VIOLATIONS, scanContent } from './scan.js';
import { patternWeight } from './validate.js';
import type { Rule } from './rules.js';

const rule = (rule_id: string, pattern: string): Rule => ({
  project: 'p', rule_id, severity: 'error', match_type: 'regex', pattern, message: rule_id,
  applies_to: [], stack: '', source: 'local', status: 'accepted', proposed_by: '', context: '', created_at: '',
});

// Ordinary source lines, every one of them matching `value`: as many as fit in the 10 MB
// body limit once JSON-encoded (each newline becomes two bytes).
const LINE = 'const value = computeSomething(alpha, beta); // an ordinary line of code\n';
const TEN_MB = LINE.repeat(Math.floor((10 * 1024 * 1024 - 1024) / (LINE.length + 1)));

/** TEN_MB with `word` in place of "ordinary" on every `nth` line; returns the text and its line count. */
function marked(word: string, nth: number): { text: string; lines: number } {
  const lines = TEN_MB.split('\n');
  for (let i = nth - 1; i < lines.length; i += nth) lines[i] = lines[i]!.replace('ordinary', word);
  return { text: lines.join('\n'), lines: lines.length };
}

/** Replaces a project's (by default `p`'s) local rules through the API. */
async function putRules(url: string, rules: { rule_id: string; pattern: string; match_type?: string }[], project = 'p'): Promise<void> {
  const put = await fetch(`${url}/api/validate/${project}/rules`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(rules) });
  assert.equal(put.status, 200);
}

test('a scan reports every hit of a big text, line numbers right to the last', () => {
  // A hit on every 200th line: fewer than MAX_VIOLATIONS, so the whole text is scanned.
  const { text } = marked('flagged', 200);
  const total = TEN_MB.length / LINE.length;
  const { violations, truncated } = scanContent([rule('flagged', 'flagged'), rule('absent', 'zzz')], text);
  assert.equal(truncated, false);
  assert.equal(violations.length, Math.floor(total / 200));
  assert.equal(violations.at(-1)!.line, Math.floor(total / 200) * 200);
});

test('line numbers stay right across chunk boundaries and for multi-byte text', async () => {
  const lines = Array.from({ length: 30_000 }, (_, i) => (i % 997 === 0 ? `ünïcödé ✓ hit ${i}` : `plain line ${i} ✓`));
  const { violations: found } = scanContent([rule('hit', String.raw`hit \d+`)], lines.join('\n'));
  const expected = lines.flatMap((text, i) => (text.includes('hit') ? [{ line: i + 1, match: `hit ${i}` }] : []));
  assert.deepEqual(found.map((v) => ({ line: v.line, match: v.match })), expected);
});

test('a missing rule finds a pattern that spans the boundary between two scanned chunks', async () => {
  const missing = (rule_id: string, pattern: string): Rule => ({ ...rule(rule_id, pattern), match_type: 'missing' });
  // Chunks are 256 K characters, cut after the next newline: this first line fills the first
  // chunk exactly, so "BEGIN" ends it and "END" starts the second.
  const first = 'a'.repeat(256 * 1024 - 'BEGIN'.length) + 'BEGIN';
  const text = `${first}\nEND of the block\n${'filler line\n'.repeat(1000)}`;
  assert.deepEqual((scanContent([missing('block', String.raw`BEGIN\nEND`)], text)).violations, []);
  // Still reported when it really is absent.
  const { violations: absent } = scanContent([missing('other', String.raw`BEGIN\nSTART`)], text);
  assert.deepEqual(absent.map((v) => v.rule_id), ['other']);
});

for (const engine of testEngines()) {
  test(`a catastrophic pattern on a hostile line returns promptly (${engine})`, { timeout: 60_000 }, async (t) => {
    const { url, close } = await startListeningApp({}, engine);
    t.after(close);
    await putRules(url, [
      { rule_id: 'nested', pattern: '(a+)+$' },
      { rule_id: 'nested-bang', pattern: '(a+)+!' },
      { rule_id: 'alternation', pattern: '^(a|aa)+$' },
    ]);
    const hostile = 'a'.repeat(50_000) + '!';
    const res = await fetch(`${url}/api/validate/p`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ filename: 'x.txt', content: hostile }),
    });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { violations: { rule_id: string; line: number }[] };
    // Only `(a+)+!` can match; the others fail on the final '!' — in linear time.
    assert.deepEqual(body.violations.map((v) => [v.rule_id, v.line]), [['nested-bang', 1]]);
  });

  test(`/health answers while 10 MB are being validated (${engine})`, { timeout: 120_000 }, async (t) => {
    const { url, close } = await startListeningApp({}, engine);
    t.after(close);
    await putRules(url, [
      { rule_id: 'todo', pattern: String.raw`\bTODO\b` },
      { rule_id: 'password', pattern: String.raw`(?i)password\s*=\s*"[^"]+"` },
      { rule_id: 'license', match_type: 'missing', pattern: '^// License' },
    ]);
    // A TODO on every 200th line of the 10 MB body (fewer than MAX_VIOLATIONS in all).
    const { text: content, lines } = marked('TODO', 200);

    const validation = fetch(`${url}/api/validate/p`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ content }),
    }).then(async (res) => ({ status: res.status, body: (await res.json()) as { count: number; violations: { rule_id: string; line?: number }[] } }));

    // The scan runs in a worker thread: /health keeps answering while it runs.
    const probes = await probeHealthDuring(url, validation);
    t.diagnostic(`/health answered ${probes.answeredWhileRunning} probes during the scan, the slowest in ${probes.slowestMs} ms`);
    assert.deepEqual(probes.failed, []);
    assert.ok(probes.answeredWhileRunning > 0, '/health never answered during the validation');
    const result = await validation;
    assert.equal(result.status, 200);
    const todos = result.body.violations.filter((v) => v.rule_id === 'todo');
    assert.equal(todos.length, Math.floor(lines / 200));
    assert.equal(todos[0]!.line, 200);
    assert.deepEqual(result.body.violations.filter((v) => v.rule_id !== 'todo').map((v) => v.rule_id), ['license']);
  });
}

test('patterns anchored to the text (\\A, \\z) are applied to each line on its own', async () => {
  const text = 'foo 1\nx foo\nfoo bar\nbar x\n';
  const { violations: found } = scanContent([rule('starts', String.raw`\Afoo`), rule('ends', String.raw`bar\z`), rule('caret', '^x|x$')], text);
  assert.deepEqual(found.map((v) => [v.rule_id, v.line]), [['starts', 1], ['starts', 3], ['ends', 3], ['caret', 2], ['caret', 4]]);
});

for (const engine of testEngines()) {
  test(`a rule that matches every line of 10 MB gets a short, cut answer, not hundreds of megabytes (${engine})`, { timeout: 60_000 }, async (t) => {
    const { url, close } = await startListeningApp({}, engine);
    t.after(close);
    await putRules(url, [
      { rule_id: 'every-line', pattern: 'value' },
      { rule_id: 'also-every-line', pattern: 'code$' },
    ]);
    const validate = async (content: string) => {
      const res = await fetch(`${url}/api/validate/p`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ content }) });
      assert.equal(res.status, 200);
      const text = await res.text();
      return { bytes: text.length, body: JSON.parse(text) as { count: number; truncated?: boolean; violations: { rule_id: string; line: number }[] } };
    };

    const { bytes, body } = await validate(TEN_MB);
    assert.equal(body.truncated, true);
    assert.equal(body.count, MAX_VIOLATIONS);
    assert.equal(body.violations.length, MAX_VIOLATIONS);
    // The first violations in the usual order (rule by rule, lines ascending): all of the first
    // rule's, lines 1 to 1000.
    const first = body.violations[0]!.rule_id;
    assert.deepEqual(body.violations.map((v) => [v.rule_id, v.line]), Array.from({ length: MAX_VIOLATIONS }, (_, i) => [first, i + 1]));
    assert.ok(bytes < 200_000, `the answer is ${bytes} bytes`);

    // Below the limit nothing is cut, and the answer does not say it was.
    const small = await validate(LINE.repeat(10));
    assert.equal(small.body.count, 20);
    assert.equal('truncated' in small.body, false);
  });
}

// RE2 is linear, but its cost per byte grows with the compiled pattern: 300 rules of this one
// over 10 MB is hours of work (one call over one 256 KB chunk took 2-4 s, and a call cannot be
// interrupted), and /health used to wait 5.9 s behind it. The scan now runs in a worker thread
// that the work budget ends.
const HOSTILE_PATTERN = '(?:[a-z][a-z]?){1000}Q';

for (const engine of testEngines()) {
  test(`300 rules of a costly pattern over 10 MB: /health answers throughout, and the scan ends at the work budget with a 422 (${engine})`, { timeout: 120_000 }, async (t) => {
    const { url, close } = await startListeningApp({ workBudgetMs: 1000 }, engine);
    t.after(close);
    await putRules(url, Array.from({ length: 300 }, (_, i) => ({ rule_id: `costly-${i}`, pattern: HOSTILE_PATTERN })));
    const content = 'abcdefghij'.repeat(1024 * 1024 - 200); // 10 MB less room for the JSON around it
    const validate = (text: string) => fetch(`${url}/api/validate/p`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ content: text }) })
      .then(async (res) => ({ status: res.status, body: (await res.json()) as Record<string, unknown> }));

    const probes = await probeHealthDuring(url, validate(content));
    t.diagnostic(`/health answered ${probes.answeredWhileRunning} probes during the scan, the slowest in ${probes.slowestMs} ms`);
    assert.deepEqual(probes.result, {
      status: 422,
      body: { error: 'rule scan exceeded the 1s work budget (--work-budget)', code: 422, reason: 'work_budget_exceeded', budget_ms: 1000 },
    });
    assert.deepEqual(probes.failed, []);
    assert.ok(probes.answeredWhileRunning > 0, '/health never answered during the scan');

    // The worker that was ended is replaced: the next scan (small content, still through the
    // pool because of the pattern's weight) gets its answer.
    const next = await validate('no capital q here\nabQ\n');
    assert.equal(next.status, 200);
    assert.equal(next.body.count, 0);
  });
}

test('the weight of a pattern grows with its counted repetitions, so costly patterns never scan inline', () => {
  assert.equal(patternWeight(String.raw`\bTODO\b`), 8);
  assert.equal(patternWeight('a{3}'), 12);
  assert.equal(patternWeight(HOSTILE_PATTERN), HOSTILE_PATTERN.length * 1000);
  assert.equal(patternWeight('(?:a{10}){20,30}'), 16 * 10 * 30);
});

// Compiling a costly pattern takes about 1 ms (an ordinary one 10 µs): a PUT of a thousand of
// them held the server for a second or more while it checked them. They are compiled in the
// worker pool now.
test('a big set of costly patterns is checked off the event loop: /health answers while it is stored, and a bad pattern is still named', { timeout: 120_000 }, async (t) => {
  const { url, close } = await startListeningApp();
  t.after(close);
  const costly = Array.from({ length: 1000 }, (_, i) => ({ rule_id: `costly-${i}`, pattern: `${HOSTILE_PATTERN}${i}` }));
  const put = (rules: { rule_id: string; pattern: string }[]) => fetch(`${url}/api/validate/p/rules`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(rules) })
    .then(async (res) => ({ status: res.status, body: (await res.json()) as Record<string, unknown> }));

  const probes = await probeHealthDuring(url, put(costly));
  t.diagnostic(`/health answered ${probes.answeredWhileRunning} probes while the patterns were checked, the slowest in ${probes.slowestMs} ms`);
  assert.deepEqual(probes.result, { status: 200, body: { project: 'p', count: 1000 } });
  assert.deepEqual(probes.failed, []);
  assert.ok(probes.answeredWhileRunning > 0, '/health never answered while the rules were checked');

  const bad = await put([...costly.slice(0, 999), { rule_id: 'broken', pattern: '(?:[a-z]{1000}' }]);
  assert.equal(bad.status, 400);
  assert.match(String(bad.body.error), /^rule "broken": invalid pattern: /);
  assert.equal((await (await fetch(`${url}/api/validate/p/rules`)).json() as { rules: unknown[] }).rules.length, 1000);
});

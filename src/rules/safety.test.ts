import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startListeningApp, testEngines } from '../../test/support/app.js';
import { MAX_VIOLATIONS, scanContent } from './scan.js';
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

test('scanning a big text gives the event loop turns while it runs', async () => {
  let turns = 0;
  const ticker = setInterval(() => turns++, 0);
  try {
    // A hit on every 200th line: fewer than MAX_VIOLATIONS, so the whole text is scanned.
    const { text } = marked('flagged', 200);
    const total = TEN_MB.length / LINE.length;
    // 1 ms slices: a fast machine scans the whole text within one default 20 ms slice.
    const { violations, truncated } = await scanContent([rule('flagged', 'flagged'), rule('absent', 'zzz')], text, { sliceMs: 1 });
    assert.equal(truncated, false);
    assert.equal(violations.length, Math.floor(total / 200));
    assert.equal(violations.at(-1)!.line, Math.floor(total / 200) * 200);
  } finally {
    clearInterval(ticker);
  }
  assert.ok(turns > 0, 'the scan never yielded');
});

test('line numbers stay right across chunk boundaries and for multi-byte text', async () => {
  const lines = Array.from({ length: 30_000 }, (_, i) => (i % 997 === 0 ? `ünïcödé ✓ hit ${i}` : `plain line ${i} ✓`));
  const { violations: found } = await scanContent([rule('hit', String.raw`hit \d+`)], lines.join('\n'));
  const expected = lines.flatMap((text, i) => (text.includes('hit') ? [{ line: i + 1, match: `hit ${i}` }] : []));
  assert.deepEqual(found.map((v) => ({ line: v.line, match: v.match })), expected);
});

test('a missing rule finds a pattern that spans the boundary between two scanned chunks', async () => {
  const missing = (rule_id: string, pattern: string): Rule => ({ ...rule(rule_id, pattern), match_type: 'missing' });
  // Chunks are 256 K characters, cut after the next newline: this first line fills the first
  // chunk exactly, so "BEGIN" ends it and "END" starts the second.
  const first = 'a'.repeat(256 * 1024 - 'BEGIN'.length) + 'BEGIN';
  const text = `${first}\nEND of the block\n${'filler line\n'.repeat(1000)}`;
  assert.deepEqual((await scanContent([missing('block', String.raw`BEGIN\nEND`)], text)).violations, []);
  // Still reported when it really is absent.
  const { violations: absent } = await scanContent([missing('other', String.raw`BEGIN\nSTART`)], text);
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

    let validationDone = false;
    const validation = fetch(`${url}/api/validate/p`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ content }),
    }).then(async (res) => {
      const body = (await res.json()) as { count: number; violations: { rule_id: string; line?: number }[] };
      validationDone = true;
      return { status: res.status, body };
    });

    // Ask /health again and again while the validation runs: it must keep answering.
    let healthyWhileValidating = 0;
    while (!validationDone) {
      const health = await fetch(`${url}/health`);
      assert.equal(health.status, 200);
      assert.equal(((await health.json()) as { status: string }).status, 'ok');
      if (!validationDone) healthyWhileValidating++;
    }
    const result = await validation;
    assert.equal(result.status, 200);
    const todos = result.body.violations.filter((v) => v.rule_id === 'todo');
    assert.equal(todos.length, Math.floor(lines / 200));
    assert.equal(todos[0]!.line, 200);
    assert.deepEqual(result.body.violations.filter((v) => v.rule_id !== 'todo').map((v) => v.rule_id), ['license']);
    assert.ok(healthyWhileValidating > 0, '/health never answered during the validation');
  });
}

test('patterns anchored to the text (\\A, \\z) are applied to each line on its own', async () => {
  const text = 'foo 1\nx foo\nfoo bar\nbar x\n';
  const { violations: found } = await scanContent([rule('starts', String.raw`\Afoo`), rule('ends', String.raw`bar\z`), rule('caret', '^x|x$')], text);
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

// Thousands of rules over one chunk of text used to run as one block: the server answered
// nothing else until the scan was done (a 7 MB file against 60 000 rules froze it for minutes).
test('a scan with thousands of rules lets other requests through while it runs', async (t) => {
  const { url, close } = await startListeningApp();
  t.after(close);
  // 20 000 rules in all: a write takes 10 000, so half are the project's and half _global's.
  const rules = Array.from({ length: 20_000 }, (_, i) => ({ rule_id: `never-${i}`, pattern: `never${i}here` }));
  await putRules(url, rules.slice(0, 10_000));
  await putRules(url, rules.slice(10_000), '_global');
  const content = LINE.repeat(2_500); // one chunk (about 180 KB)

  const finished: string[] = [];
  const validation = fetch(`${url}/api/validate/p`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ content }) })
    .then(async (res) => {
      finished.push('validate');
      return (await res.json()) as { count: number; truncated?: boolean };
    });
  await new Promise((resolve) => setTimeout(resolve, 200));
  const health = await fetch(`${url}/health`);
  finished.push('health');
  assert.equal(health.status, 200);
  const result = await validation;
  assert.deepEqual(finished, ['health', 'validate']);
  assert.deepEqual(result, { project: 'p', violations: [], count: 0 });
});

test('a scan that reaches its time limit lists what it found and says it is cut, without guessing at missing rules', async () => {
  const missingRule: Rule = { ...rule('needs-header', 'LICENSE HEADER'), match_type: 'missing' };
  const many = Array.from({ length: 5_000 }, (_, i) => rule(`never-${i}`, `never${i}here`));
  const text = LINE.repeat(2_500).replace('ordinary', 'flagged');

  // Given the time, the scan finishes and reports both the flagged line and the missing header.
  const whole = await scanContent([rule('flagged', 'flagged'), ...many, missingRule], text);
  assert.equal(whole.truncated, false);
  assert.deepEqual(whole.violations.map((v) => [v.rule_id, v.line]), [['flagged', 1], ['needs-header', undefined]]);

  // With no time at all it stops at its first look at the clock: cut, and the header (which
  // it never looked for) is not reported missing. Whatever it did list is real.
  const cut = await scanContent([rule('flagged', 'flagged'), ...many, missingRule], text, { timeLimitMs: 0 });
  assert.equal(cut.truncated, true);
  assert.ok(cut.violations.every((v) => v.rule_id === 'flagged' && v.line === 1), JSON.stringify(cut.violations));
});

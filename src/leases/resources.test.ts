import { test } from 'node:test';
import assert from 'node:assert/strict';
import { globToSource } from '../rules/glob.js';
import { automatonMatches, charSetsMeet, compileGlob, globsOverlap } from './glob-overlap.js';
import { expandBraces, parseResource, parseResources, resourcesOverlap } from './resources.js';
import { HttpError } from '../kernel/errors.js';

const conflict = (a: string, b: string) => resourcesOverlap(parseResource(a), parseResource(b));

test('resources conflict when some path matches both', () => {
  const cases: [string, string, boolean][] = [
    // The SPEC's and the issue's own examples.
    ['src/api/**', 'src/*/orders.ts', true],
    ['*.sql', 'src/a.ts', false],
    ['src/api/**', 'src/api/orders.ts', true],
    ['task:42', 'task:42', true],
    ['task:42', 'task:43', false],
    // Plain paths are exact.
    ['src/a.ts', 'src/a.ts', true],
    ['src/a.ts', 'src/b.ts', false],
    ['package.json', 'web/package.json', false],
    // A glob without a directory part matches at any depth; a leading / anchors it.
    ['*.sql', 'db/migrations/001.sql', true],
    ['*.sql', 'schema.sql', true],
    ['/*.sql', 'db/001.sql', false],
    ['/*.sql', 'schema.sql', true],
    ['*.sql', '*.ts', false],
    ['*.sql', 'db/**', true],
    ['*.sql', 'db/*.ts', false],
    // ** spans any number of segments, none included.
    ['src/**/test.ts', 'src/test.ts', true],
    ['src/**/test.ts', 'src/a/b/c/test.ts', true],
    ['src/**/x/*.ts', 'src/*/*/y.ts', true],
    ['src/**', 'lib/**', false],
    ['src/**', 'src', false],
    ['**', 'anything/at/all.md', true],
    ['**/*.test.ts', 'src/**/*.spec.ts', false],
    ['**/*.test.ts', 'src/**/a*', true],
    // * stays inside one segment.
    ['src/*.ts', 'src/a/b.ts', false],
    ['src/*/b.ts', 'src/a/b.ts', true],
    ['src/*', 'src/a/', false], // globs match files: src/* is not what is inside src/a
    ['a*b', 'a/b', false],
    // ? and classes take one character, never /.
    ['src/a?.ts', 'src/ab.ts', true],
    ['src/a?.ts', 'src/a.ts', false],
    ['src/[ab].ts', 'src/[bc].ts', true],
    ['src/[ab].ts', 'src/[cd].ts', false],
    ['src/[!ab].ts', 'src/a.ts', false],
    ['src/[!ab].ts', 'src/c.ts', true],
    ['src/[!a].ts', 'src/[!b].ts', true],
    ['src/[a-f]x', 'src/[e-k]x', true],
    ['src/[a-c]x', 'src/[d-k]x', false],
    ['a[/]b', 'a/b', false],
    // Alternatives.
    ['src/{api,web}/**', 'src/web/app.tsx', true],
    ['src/{api,web}/**', 'src/db/app.ts', false],
    ['{*.sql,db/**}', 'db/seed.ts', true],
    ['{*.sql,db/**}', 'x/a.sql', true],
    // Directories, separators and spellings.
    ['src/api/', 'src/api/orders.ts', true],
    ['src/api/', 'src/apix/orders.ts', false],
    ['./src/a.ts', 'src/a.ts', true],
    ['src\\win\\a.ts', 'src/win/a.ts', true],
    ['src//a.ts', 'src/./a.ts', true],
    // Names never meet paths.
    ['task:42', '**', false],
    ['task:*', 'task:42', false],
  ];
  for (const [a, b, expected] of cases) {
    assert.equal(conflict(a, b), expected, `${a} vs ${b}`);
    assert.equal(conflict(b, a), expected, `${b} vs ${a}`);
  }
});

test('resources are kept in one spelling, and reading that spelling again means the same', () => {
  const spelled: [string, string, 'path' | 'glob' | 'name'][] = [
    ['./src//a.ts', 'src/a.ts', 'path'],
    ['src\\api\\', 'src/api/', 'glob'],
    ['/*.sql', '/*.sql', 'glob'],
    ['/src/a.ts', 'src/a.ts', 'path'],
    ['*.sql', '*.sql', 'glob'],
    ['src/{a,b}.ts', 'src/{a,b}.ts', 'glob'],
    ['  task:42 ', 'task:42', 'name'],
  ];
  for (const [raw, text, kind] of spelled) {
    const resource = parseResource(raw);
    assert.deepEqual([resource.text, resource.kind], [text, kind], raw);
    assert.equal(parseResource(resource.text).text, text, `${text} again`);
  }
});

test('bad resources are refused naming the resource', () => {
  const refused = (value: unknown, pattern: RegExp) => {
    assert.throws(() => parseResource(value), (err: unknown) => err instanceof HttpError && err.status === 400 && pattern.test(err.message));
  };
  refused('../secrets', /"\.\.\/secrets" leaves the repository/);
  refused('src/../../x', /leaves the repository/);
  refused('', /non-empty string/);
  refused('/', /names no path/);
  refused(42, /non-empty string/);
  refused('a\nb', /control character/);
  refused('x'.repeat(1025), /longer than 1024/);
  refused('{a,b}{c,d}{e,f}{g,h}{i,j}{k,l}{m,n}', /more than 64 alternatives/);
  assert.throws(() => parseResources([]), /non-empty array/);
  assert.throws(() => parseResources(Array.from({ length: 101 }, (_, i) => `f${i}`)), /101 entries; the limit is 100/);
  assert.deepEqual(parseResources(['a.ts', './a.ts', 'b.ts']).map((r) => r.text), ['a.ts', 'b.ts']);
});

test('braces expand, nested too; a lone brace is a character', () => {
  assert.deepEqual(expandBraces('src/{a,b}/x'), ['src/a/x', 'src/b/x']);
  assert.deepEqual(expandBraces('{a,{b,c}}.ts'), ['a.ts', 'b.ts', 'c.ts']);
  assert.deepEqual(expandBraces('a{b}.ts'), ['a{b}.ts']);
  assert.equal(conflict('a{b}.ts', 'a{b}.ts'), true);
});

test('character sets meet when they share a character', () => {
  const set = (negated: boolean, ...ranges: [number, number][]) => ({ negated, ranges });
  assert.equal(charSetsMeet(set(false, [97, 99]), set(false, [99, 100])), true);
  assert.equal(charSetsMeet(set(false, [97, 98]), set(false, [99, 100])), false);
  assert.equal(charSetsMeet(set(false, [97, 98]), set(true, [97, 97], [98, 98])), false);
  assert.equal(charSetsMeet(set(false, [97, 99]), set(true, [97, 98])), true);
  assert.equal(charSetsMeet(set(true, [0, 0x10]), set(true, [0x11, 0x10ffff])), false);
  assert.equal(charSetsMeet(set(true, [0, 0x10]), set(true, [0x12, 0x10ffff])), true);
});

// The overlap test is checked against brute force: every string of a small alphabet up to a
// length longer than any witness two small globs need, matched by the rules domain's
// independent glob-to-regex translation.
test('random small globs overlap exactly when brute force finds a common path', () => {
  let seed = 12345;
  const random = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  // `[!a/]`: the regex translation lets a negated class match `/`, lease globs never do.
  const pieces = ['a', 'b', '*', '?', '[ab]', '[!a/]'];
  const segment = (): string => {
    const text = Array.from({ length: 1 + random(2) }, () => pieces[random(pieces.length)]).join('');
    return text === '**' ? segment() : text;
  };
  const glob = () => Array.from({ length: 1 + random(3) }, () => (random(5) === 0 ? '**' : segment())).join('/');
  const alphabet = ['a', 'b', 'c', '/'];
  const strings: string[] = [''];
  for (let length = 1, level = ['']; length <= 6; length++) {
    level = level.flatMap((s) => alphabet.map((c) => s + c));
    strings.push(...level);
  }
  const regex = (g: string) => new RegExp(`^(?:${globToSource(g)})$`);
  for (let i = 0; i < 300; i++) {
    const [a, b] = [glob(), glob()];
    const [ra, rb] = [regex(a), regex(b)];
    const brute = strings.some((s) => ra.test(s) && rb.test(s));
    assert.equal(globsOverlap(a, b), brute, `${a} vs ${b}`);
    // A plain path is matched by walking it through the automaton: the same answer as the regex.
    const automaton = compileGlob(a);
    for (let k = 0; k < 40; k++) {
      const text = strings[random(strings.length)]!;
      assert.equal(automatonMatches(automaton, text), ra.test(text), `${a} matching "${text}"`);
    }
  }
});

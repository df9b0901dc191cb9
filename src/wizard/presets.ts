/**
 * Stack presets: the commands an agent of that stack builds, tests and runs with, a file it
 * would typically validate, and an example rule it might propose. Unknown stacks use
 * `generic` with the stack's own name kept (the server filters rules by that name).
 */
export interface StackPreset {
  id: string;
  label: string;
  setup?: string;
  build: string;
  test: string;
  run: string;
  lint?: string;
  /** A file such an agent writes early; the instructions use it in the validate example. */
  sampleFile: string;
  exampleRule: { id: string; pattern: string; message: string };
  /** The databases an agent of this stack may be told to use (Go Koor's go-api choice); the first is the default. */
  databases?: DatabaseChoice[];
}

export interface DatabaseChoice {
  id: string;
  /** How the instructions name it, after "data in". */
  use: string;
}

export const PRESETS: Record<string, StackPreset> = {
  generic: {
    id: 'generic',
    label: 'generic (set your own commands)',
    build: 'make build',
    test: 'make test',
    run: 'make run',
    sampleFile: 'README.md',
    exampleRule: { id: 'no-fixme', pattern: 'FIXME', message: 'Resolve FIXME notes before reporting done' },
  },
  node: {
    id: 'node',
    label: 'Node.js',
    setup: 'npm install',
    build: 'npm run build',
    test: 'npm test',
    run: 'npm start',
    lint: 'npm run lint',
    sampleFile: 'src/index.js',
    exampleRule: { id: 'no-console-log', pattern: 'console\\.log\\(', message: 'Use the logger instead of console.log' },
  },
  react: {
    id: 'react',
    label: 'React',
    setup: 'npm install',
    build: 'npm run build',
    test: 'npm test',
    run: 'npm run dev',
    lint: 'npm run lint',
    sampleFile: 'src/App.tsx',
    exampleRule: { id: 'no-console-log', pattern: 'console\\.log\\(', message: 'Remove console.log from components' },
  },
  python: {
    id: 'python',
    label: 'Python',
    setup: 'python3 -m venv .venv && . .venv/bin/activate && pip install -r requirements.txt',
    build: 'python3 -m compileall -q .',
    test: 'python3 -m pytest',
    run: 'python3 main.py',
    lint: 'python3 -m ruff check .',
    sampleFile: 'main.py',
    exampleRule: { id: 'no-print', pattern: '^\\s*print\\(', message: 'Use logging instead of print' },
  },
  'go-api': {
    id: 'go-api',
    label: 'Go HTTP API',
    setup: 'go mod download',
    build: 'go build ./...',
    test: 'go test ./...',
    run: 'go run .',
    lint: 'go vet ./...',
    sampleFile: 'main.go',
    databases: [
      { id: 'sqlite', use: 'SQLite (modernc.org/sqlite, no cgo)' },
      { id: 'postgres', use: 'PostgreSQL (database/sql with github.com/jackc/pgx)' },
      { id: 'memory', use: 'memory (maps and slices, no database)' },
    ],
    exampleRule: { id: 'no-fmt-println', pattern: 'fmt\\.Println\\(', message: 'Use the structured logger instead of fmt.Println' },
  },
  rust: {
    id: 'rust',
    label: 'Rust',
    build: 'cargo build',
    test: 'cargo test',
    run: 'cargo run',
    lint: 'cargo clippy -- -D warnings',
    sampleFile: 'src/main.rs',
    exampleRule: { id: 'no-unwrap', pattern: '\\.unwrap\\(\\)', message: 'Handle the error instead of calling unwrap()' },
  },
  // The three below are Go Koor's stacks, with the commands its wizard gave them.
  goth: {
    id: 'goth',
    label: 'Go + templ + HTMX',
    setup: 'go mod download && go install github.com/a-h/templ/cmd/templ@latest',
    build: 'templ generate && go build ./...',
    test: 'go test ./... -count=1',
    run: 'go run ./cmd/server',
    lint: 'go vet ./...',
    sampleFile: 'views/index.templ',
    exampleRule: { id: 'no-inline-style', pattern: 'style\\s*=', message: 'Style with CSS classes, not inline style attributes' },
  },
  flutter: {
    id: 'flutter',
    label: 'Flutter',
    setup: 'flutter pub get',
    build: 'flutter build',
    test: 'flutter test',
    run: 'flutter run',
    lint: 'flutter analyze',
    sampleFile: 'lib/main.dart',
    exampleRule: { id: 'no-print', pattern: '^\\s*print\\(', message: 'Use debugPrint or a logger instead of print' },
  },
  c: {
    id: 'c',
    label: 'C (make)',
    build: 'make',
    test: 'make test',
    run: 'make run',
    sampleFile: 'src/main.c',
    exampleRule: { id: 'no-gets', pattern: '\\bgets\\s*\\(', message: 'gets() cannot be bounded: use fgets()' },
  },
};

export const PRESET_IDS = Object.keys(PRESETS);

/**
 * What the stack question offers: every preset, and after a stack with databases one entry
 * per other database (`go-api:postgres`), so the choice is one question as in `--agents`.
 */
export const STACK_CHOICES: { value: string; hint: string }[] = PRESET_IDS.flatMap((id) => {
  const preset = PRESETS[id]!;
  const [first, ...others] = preset.databases ?? [];
  return [
    { value: id, hint: first ? `${preset.label}, data in ${first.use}` : preset.label },
    ...others.map((db) => ({ value: `${id}:${db.id}`, hint: `${preset.label}, data in ${db.use}` })),
  ];
});

/** Why `database` is not a choice of `stack`, or undefined when it is. */
export function databaseProblem(stack: string, database: string): string | undefined {
  const choices = PRESETS[stack.toLowerCase()]?.databases;
  if (!choices) return `stack "${stack}" has no database choice (only ${PRESET_IDS.filter((id) => PRESETS[id]!.databases).join(', ')} do)`;
  if (!choices.some((c) => c.id === database)) return `database "${database}" of ${stack} is not one of ${choices.map((c) => c.id).join(', ')}`;
  return undefined;
}

/**
 * The preset for a stack name (with the chosen database named in its label), and whether the
 * generic one stands in for an unknown stack.
 */
export function presetFor(stack: string, database?: string): { preset: StackPreset; fallback: boolean } {
  const known = PRESETS[stack.toLowerCase()];
  if (!known) return { preset: PRESETS.generic!, fallback: true };
  const choice = database ? known.databases?.find((c) => c.id === database) : undefined;
  return { preset: choice ? { ...known, label: `${known.label}, data in ${choice.use}` } : known, fallback: false };
}

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
};

export const PRESET_IDS = Object.keys(PRESETS);

/** The preset for a stack name, and whether the generic one stands in for an unknown stack. */
export function presetFor(stack: string): { preset: StackPreset; fallback: boolean } {
  const known = PRESETS[stack.toLowerCase()];
  return known ? { preset: known, fallback: false } : { preset: PRESETS.generic, fallback: true };
}

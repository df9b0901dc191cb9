import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The command that runs one of the package's bins: the compiled file when tests run from
 * dist/ (as `npm test` does), the TypeScript source through tsx during development.
 */
export function binCommand(name: 'koor-server' | 'koor-cli' | 'koor-wizard'): { command: string; args: string[] } {
  const fromSource = import.meta.url.endsWith('.ts');
  let file = fileURLToPath(new URL(`../../src/bin/${name}.${fromSource ? 'ts' : 'js'}`, import.meta.url));
  // koor-cli ships as one bundled CommonJS file (scripts/bundle-cli.mjs): test that when built.
  const bundle = file.replace(/\.js$/, '.cjs');
  if (!fromSource && name === 'koor-cli' && existsSync(bundle)) file = bundle;
  // tsx by its resolved URL: a bare `--import tsx` is looked up from the child's cwd, which
  // fails when a test runs a bin in a temp folder.
  return { command: process.execPath, args: fromSource ? ['--import', import.meta.resolve('tsx'), file] : [file] };
}

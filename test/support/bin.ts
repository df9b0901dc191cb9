import { fileURLToPath } from 'node:url';

/**
 * The command that runs one of the package's bins: the compiled file when tests run from
 * dist/ (as `npm test` does), the TypeScript source through tsx during development.
 */
export function binCommand(name: 'koor-server' | 'koor-cli' | 'koor-wizard'): { command: string; args: string[] } {
  const fromSource = import.meta.url.endsWith('.ts');
  const file = fileURLToPath(new URL(`../../src/bin/${name}.${fromSource ? 'ts' : 'js'}`, import.meta.url));
  return { command: process.execPath, args: fromSource ? ['--import', 'tsx', file] : [file] };
}

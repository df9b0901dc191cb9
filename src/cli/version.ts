import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

declare const KOOR_CLI_VERSION: string | undefined;

/**
 * The package version: inlined by the bundler, else read from the package.json above the bin
 * (only when asked for, so ordinary runs never read it).
 */
export function cliVersion(): string {
  if (typeof KOOR_CLI_VERSION === 'string') return KOOR_CLI_VERSION;
  let dir = dirname(process.argv[1] ?? '.');
  for (let depth = 0; depth < 4; depth++, dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'koor' && pkg.version) return pkg.version;
    } catch {
      // not here: look one folder up
    }
  }
  return '0.0.0';
}

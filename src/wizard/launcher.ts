import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The `koor-cli` launcher the wizard writes into each workspace, so the instructions' and
 * hooks' `./koor-cli …` work whether or not koor-cli is on PATH, from any folder, always as
 * this workspace's agent (KOOR_WORKSPACE). It runs the koor-cli that came with this wizard
 * (recorded as an absolute path), else the one on PATH.
 */

/** This package's koor-cli bin, when the wizard runs from a build (dist/src/bin/koor-cli.cjs). */
export function bundledCli(): string | undefined {
  const bin = fileURLToPath(new URL('../bin/koor-cli.cjs', import.meta.url));
  return existsSync(bin) ? bin : undefined;
}

const sq = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;

export function launcherScript(cli = bundledCli(), node = process.execPath): string {
  const lines = [
    '#!/bin/sh',
    '# koor-cli for this workspace, written by koor-wizard: acts as this folder\'s agent from any folder.',
    'KOOR_WORKSPACE=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd) || exit 1',
    'export KOOR_WORKSPACE',
  ];
  if (cli) {
    lines.push(
      `CLI=${sq(cli)}`,
      `NODE=${sq(node)}`,
      '[ -x "$NODE" ] || NODE=node',
      'if [ -f "$CLI" ]; then exec "$NODE" "$CLI" "$@"; fi',
    );
  }
  lines.push(
    'if command -v koor-cli >/dev/null 2>&1; then exec koor-cli "$@"; fi',
    'echo "koor-cli: not found: install Koor (npm ci && npm link in its folder) or run koor-wizard again" >&2',
    'exit 127',
    '',
  );
  return lines.join('\n');
}

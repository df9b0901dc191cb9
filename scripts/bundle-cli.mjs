// Builds the `koor-cli` bin: dist/src/bin/koor-cli.cjs (a small loader, src/cli/loader.cjs)
// and dist/src/bin/koor-cli-bundle.cjs (the whole CLI in one CommonJS file).
//
// Agents start the CLI hundreds of times a session, so its start-up is budgeted (≤ 1.3× bare
// `node -e ''`, see bench/cli.bench.ts). One pre-linked file loads far faster than commander
// plus a few dozen ES modules resolved one by one; CommonJS skips the ES module loader's own
// start-up; and the loader adds V8's code cache. `ws` stays outside the bundle: only
// `events subscribe` needs it, and loads it lazily.
//
// Usage: node scripts/bundle-cli.mjs [outdir]   (the build uses the default, dist/src/bin)
import { copyFileSync, chmodSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));

// commander requires child_process at load time only to run git-style executable subcommands,
// which koor-cli has none of; loading it costs more than a tenth of bare Node start-up.
const withoutChildProcess = {
  name: 'without-child-process',
  setup(build) {
    build.onResolve({ filter: /^(node:)?child_process$/ }, () => ({ path: 'child_process', namespace: 'koor-stub' }));
    build.onLoad({ filter: /.*/, namespace: 'koor-stub' }, () => ({
      contents: "module.exports = new Proxy({}, { get() { throw new Error('child_process is not bundled into koor-cli'); } });",
      loader: 'js',
    }));
  },
};

/** Writes koor-cli.cjs and koor-cli-bundle.cjs into `outdir`; returns the bin's path. */
export async function bundleCli(outdir = join(root, 'dist/src/bin'), options = {}) {
  const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  await build({
    entryPoints: [join(root, 'src/bin/koor-cli.ts')],
    outfile: join(outdir, 'koor-cli-bundle.cjs'),
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['ws'],
    // import() of built-ins and ws becomes require(): the loader runs the bundle as a script.
    supported: { 'dynamic-import': false },
    minify: options.minify ?? true,
    sourcemap: options.sourcemap ?? true,
    legalComments: 'none',
    define: { KOOR_CLI_VERSION: JSON.stringify(version) },
    plugins: [withoutChildProcess],
    logLevel: 'warning',
  });
  const bin = join(outdir, 'koor-cli.cjs');
  copyFileSync(join(root, 'src/cli/loader.cjs'), bin);
  chmodSync(bin, 0o755);
  return bin;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await bundleCli(process.argv[2]);
}

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { binCommand } from './bin.js';

let bundled: Promise<{ command: string; args: string[] }> | undefined;

/**
 * How to start koor-cli. From compiled tests that is the shipped bin. From the TypeScript
 * sources, the CLI is bundled once per test process exactly as the build bundles it
 * (scripts/bundle-cli.mjs), instead of starting tsx for each of the many runs.
 */
function cliCommand(): Promise<{ command: string; args: string[] }> {
  if (!import.meta.url.endsWith('.ts')) return Promise.resolve(binCommand('koor-cli'));
  bundled ??= (async () => {
    const root = fileURLToPath(new URL('../../', import.meta.url));
    const dir = join(root, 'node_modules', '.cache', 'koor-cli-test');
    mkdirSync(dir, { recursive: true });
    const script = pathToFileURL(join(root, 'scripts', 'bundle-cli.mjs')).href;
    const { bundleCli } = (await import(script)) as { bundleCli(outdir: string, options: { sourcemap: boolean }): Promise<string> };
    const outdir = join(dir, String(process.pid));
    const bin = await bundleCli(outdir, { sourcemap: false });
    process.on('exit', () => rmSync(outdir, { recursive: true, force: true }));
    return { command: process.execPath, args: [bin] };
  })();
  return bundled;
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** Piped to the CLI's stdin (nothing is piped when absent). */
  input?: string;
  /** Extra environment, on top of a clean one with KOOR_SERVER set. */
  env?: Record<string, string | undefined>;
}

/** The real koor-cli process, run in its own temp folder (where it keeps settings.json and its cache). */
export class CliWorkspace {
  readonly cwd = mkdtempSync(join(tmpdir(), 'koor-cli-'));

  constructor(public server: string, readonly env: Record<string, string | undefined> = {}) {}

  private environment(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {};
    for (const [name, value] of Object.entries(process.env)) if (!name.startsWith('KOOR_')) env[name] = value;
    // XDG_CACHE_HOME: the bin's code cache goes to the workspace, not the user's home.
    Object.assign(env, { KOOR_SERVER: this.server, XDG_CACHE_HOME: join(this.cwd, '.cache') }, this.env, extra);
    for (const name of Object.keys(env)) if (env[name] === undefined) delete env[name];
    return env;
  }

  async spawn(args: string[], options: CliOptions = {}): Promise<ChildProcess> {
    const { command, args: base } = await cliCommand();
    return spawn(command, [...base, ...args], { cwd: this.cwd, env: this.environment(options.env), stdio: ['pipe', 'pipe', 'pipe'] });
  }

  async run(args: string[], options: CliOptions = {}): Promise<CliResult> {
    const child = await this.spawn(args, options);
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk) => (stdout += chunk));
    child.stderr!.setEncoding('utf8').on('data', (chunk) => (stderr += chunk));
    child.stdin!.end(options.input);
    return new Promise((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    });
  }

  /** Runs a command that must succeed and returns its JSON output. */
  async json(args: string[], options: CliOptions = {}): Promise<any> {
    const result = await this.run(args, options);
    if (result.code !== 0) throw new Error(`koor-cli ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
    return JSON.parse(result.stdout);
  }

  remove(): void {
    rmSync(this.cwd, { recursive: true, force: true });
  }
}

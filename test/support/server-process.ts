import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { binCommand } from './bin.js';

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  /** Everything the process wrote to stderr so far. */
  stderr(): string;
  /** Everything the process wrote to stdout (its log lines) so far. */
  stdout(): string;
  /** Resolves with the exit code (or signal) once the process has ended. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Starts the `koor-server` bin as a real process on a free port (`--bind 127.0.0.1:0`) and
 * resolves once it logs that it listens. Extra flags come after the defaults and win.
 */
export async function startServerProcess(dataDir: string, extraArgs: string[] = []): Promise<ServerProcess> {
  const { command, args } = binCommand('koor-server');
  const child = spawn(
    command,
    [...args, '--bind', '127.0.0.1:0', '--data-dir', dataDir, '--dashboard-bind', '', '--log-level', 'info', '--log-format', 'json', ...extraArgs],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, KOOR_AUTH_TOKEN: '' } },
  );
  const exited = once(child, 'exit').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }));
  let errors = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (errors += chunk));
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    let buffered = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
      buffered += chunk;
      let newline: number;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        try {
          const entry = JSON.parse(line) as { msg?: string; url?: string };
          if (entry.msg === 'koor API listening' && entry.url) resolve(entry.url);
        } catch {
          // not a log line
        }
      }
    });
    void exited.then(({ code, signal }) => reject(new Error(`koor-server ended before listening (${code ?? signal}): ${errors}`)));
  });
  return { child, url, stderr: () => errors, stdout: () => output, exited };
}

/** Runs the bin to completion (for start-up failures) and returns its exit code and output. */
export async function runServerToExit(extraArgs: string[], cwd?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const { command, args } = binCommand('koor-server');
  const child = spawn(command, [...args, ...extraArgs], { stdio: ['ignore', 'pipe', 'pipe'], cwd, env: { ...process.env, KOOR_AUTH_TOKEN: '' } });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const [code] = await once(child, 'exit');
  return { code: code as number | null, stdout, stderr };
}

import type { Command } from 'commander';
import { KoorClient, type ClientOptions } from './client.js';
import { CliError, ExitCode } from './exit-codes.js';
import { printJson } from './output.js';
import { resolveConnection, type Connection } from './settings.js';

/** What every command action gets: a client for the configured server and how to print. */
export interface Cli {
  client: KoorClient;
  connection: Connection;
  pretty: boolean;
  /** Prints a JSON answer (compact unless --pretty). */
  print(value: unknown): void;
}

// Commander hands options over untyped; each action reads the flags it declared.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Options = Record<string, any>;

/**
 * Wraps a command body: resolves settings only when a command actually runs (so `--help` and
 * `completion` never touch the disk) and passes positional arguments as one array.
 */
export function action(body: (cli: Cli, args: string[], options: Options) => Promise<void> | void, clientOptions: ClientOptions = {}) {
  return async (...params: unknown[]): Promise<void> => {
    const command = params[params.length - 1] as Command;
    const options = params[params.length - 2] as Options;
    const args = params.slice(0, -2) as string[];
    const globals = command.optsWithGlobals();
    const connection = resolveConnection(process.env, { asAdmin: Boolean(globals.asAdmin) });
    const pretty = Boolean(globals.pretty);
    const cli: Cli = { client: new KoorClient(connection, clientOptions), connection, pretty, print: (value) => printJson(value, pretty) };
    await body(cli, args, options);
  };
}

/** Exit 7 when a check ran and found problems (after its answer was printed). */
export function failUnless(ok: boolean, what: string): void {
  if (!ok) throw new CliError(what, ExitCode.checkFailed);
}

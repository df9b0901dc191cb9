import { CommanderError } from 'commander';
import { CliError, ExitCode } from './exit-codes.js';
import { buildProgram } from './program.js';
import { fromGoForm } from './go-forms.js';
import { cliVersion } from './version.js';
import { exitWhenFlushed, printError } from './output.js';

/** Runs one CLI invocation and sets the exit code; failures print one line, never a stack trace. */
export async function runCli(given: string[]): Promise<void> {
  const argv = [...given.slice(0, 2), ...fromGoForm(given.slice(2))];
  // Handled here rather than by commander, where a global --version would clash with `state get --version N`.
  if (argv[2] === '--version' || argv[2] === '-V') {
    process.stdout.write(cliVersion() + '\n');
    return;
  }
  let code: number = ExitCode.ok;
  // A reader that went away (`koor-cli … | head -c 10`) ends the run quietly, not with EPIPE.
  process.stdout.on('error', () => process.exit(code));
  try {
    await buildProgram(argv).parseAsync(argv);
  } catch (err) {
    code = exitCodeFor(err);
  }
  exitWhenFlushed(code);
}

function exitCodeFor(err: unknown): number {
  if (err instanceof CliError) {
    printError(`koor-cli: ${err.message}`);
    return err.exitCode;
  }
  if (err instanceof CommanderError) {
    // Commander has already printed its message (or the help).
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return ExitCode.ok;
    return ExitCode.badInput;
  }
  printError(`koor-cli: unexpected error: ${(err as Error)?.message ?? String(err)}`);
  return ExitCode.serverError;
}

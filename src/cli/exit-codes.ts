/**
 * Process exit codes. Scripts and agents branch on these, so they are part of the CLI's
 * interface: never renumber them.
 */
export const ExitCode = {
  ok: 0,
  /** The server failed (5xx) or something unexpected happened. */
  serverError: 1,
  /** The request was refused as bad input (other 4xx), or the command line was wrong. */
  badInput: 2,
  /** The key, spec, instance, … does not exist (404), or `--field` names no field. */
  notFound: 3,
  /** A conflict or failed precondition (409, 412): someone else changed it first. */
  conflict: 4,
  /** Missing or wrong token (401, 403). */
  auth: 5,
  /** The server could not be reached at all. */
  unreachable: 6,
  /** A check ran and found problems: invalid contract payload, error-level rule violations. */
  checkFailed: 7,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** A failure the CLI reports as one line on stderr and an exit code, never a stack trace. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCodeValue,
  ) {
    super(message);
  }
}

/** The exit code for an HTTP error status. */
export function exitCodeForStatus(status: number): ExitCodeValue {
  if (status === 404) return ExitCode.notFound;
  if (status === 409 || status === 412) return ExitCode.conflict;
  if (status === 401 || status === 403) return ExitCode.auth;
  if (status >= 500) return ExitCode.serverError;
  return ExitCode.badInput;
}

export const badInput = (message: string) => new CliError(message, ExitCode.badInput);

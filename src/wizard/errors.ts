/** A problem the user can fix (bad flag, bad name, unwritable folder): printed as one line, no stack. */
export class WizardError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'WizardError';
  }
}

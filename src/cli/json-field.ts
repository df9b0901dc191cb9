import { CliError, ExitCode, badInput } from './exit-codes.js';

/**
 * One field of a JSON document by a dotted path (`a.b.0.c`; numbers index arrays), so an agent
 * reads the one fact it needs instead of the whole value.
 */
export function pickField(document: Buffer, path: string, what: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(document.toString('utf8'));
  } catch {
    throw badInput(`--field needs a JSON value, but ${what} is not JSON`);
  }
  for (const part of path.split('.')) {
    if (value !== null && typeof value === 'object' && Object.prototype.hasOwnProperty.call(value, part)) {
      value = (value as Record<string, unknown>)[part];
    } else {
      throw new CliError(`field ${path} not found in ${what}`, ExitCode.notFound);
    }
  }
  return value;
}

/** A picked field as printed: strings bare, everything else as JSON. */
export function formatField(value: unknown, pretty: boolean): string {
  return typeof value === 'string' ? value : JSON.stringify(value, null, pretty ? 2 : undefined);
}

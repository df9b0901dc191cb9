import { apiPath } from './client.js';
import { CliError, ExitCode } from './exit-codes.js';
import type { Cli } from './kit.js';
import { printError } from './output.js';

interface StreamedEvent {
  id: number;
  topic: string;
}

export interface DurableOptions {
  /** Move the consumer's cursor here before reading (read again, or skip ahead). */
  after?: number;
  /** Exit after printing this many events. */
  max?: number;
}

const WAIT = '30s';
const PAGE = 100;
const FIRST_DELAY_MS = 250;
const MAX_DELAY_MS = 5000;

/**
 * Streams events as JSON lines through a durable consumer (SPEC §18): the server keeps the
 * cursor, so a subscriber started again with the same name goes on from the last event it
 * printed, whatever was published while it was down.
 *
 * Each page is printed, then acknowledged; an interrupt (Ctrl-C, SIGTERM) is handled between
 * the two, never in the middle, so nothing printed is left unacknowledged and nothing is
 * printed twice. (A process killed outright, SIGKILL, may print its last page again when it
 * starts: the acknowledgement of what it had printed never reached the server.)
 */
export async function subscribeDurable(cli: Cli, pattern: string, name: string, options: DurableOptions): Promise<void> {
  const ackPath = apiPath('/api/events/consumers', name, 'ack');
  if (options.after !== undefined) await cli.client.json('POST', ackPath, { json: { id: options.after } });

  let stopping = false;
  let abortWait: (() => void) | undefined;
  const onSignal = () => {
    stopping = true;
    abortWait?.();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.stdout.on('error', onSignal);

  let printed = 0;
  let delay = FIRST_DELAY_MS;
  let outage = false;
  try {
    while (!stopping) {
      const want = options.max === undefined ? PAGE : Math.min(PAGE, options.max - printed);
      let page: StreamedEvent[];
      try {
        const waiting = new AbortController();
        abortWait = () => waiting.abort();
        page = await cli.client.json<StreamedEvent[]>('GET', '/api/events/next', {
          query: { consumer: name, pattern, max: want, wait: WAIT },
          signal: waiting.signal,
        });
        abortWait = undefined;
        if (outage) printError(`koor-cli: reconnected to ${cli.connection.server}`);
        outage = false;
        delay = FIRST_DELAY_MS;
      } catch (err) {
        abortWait = undefined;
        if (stopping) break;
        if (!(err instanceof CliError) || err.exitCode !== ExitCode.unreachable) throw err;
        // The server went away: wait it out, the cursor is safe on its side.
        if (!outage) printError(`koor-cli: ${err.message}; retrying`);
        outage = true;
        await new Promise((resolve) => setTimeout(resolve, delay));
        delay = Math.min(delay * 2, MAX_DELAY_MS);
        continue;
      }
      if (page.length === 0) continue;
      // Printing a page is synchronous: no signal handler runs in the middle of it.
      for (const event of page) process.stdout.write(JSON.stringify(event) + '\n');
      printed += page.length;
      await acknowledge(cli, ackPath, page[page.length - 1]!.id, () => stopping);
      if (options.max !== undefined && printed >= options.max) break;
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** Acknowledges what was printed, waiting out an outage (unless interrupted meanwhile). */
async function acknowledge(cli: Cli, path: string, id: number, stopping: () => boolean): Promise<void> {
  for (let delay = FIRST_DELAY_MS; ; delay = Math.min(delay * 2, MAX_DELAY_MS)) {
    try {
      await cli.client.json('POST', path, { json: { id } });
      return;
    } catch (err) {
      if (!(err instanceof CliError) || err.exitCode !== ExitCode.unreachable || stopping()) throw err;
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

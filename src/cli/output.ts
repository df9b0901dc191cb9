/** Prints a JSON answer: compact by default (cheap for agents to read), indented with --pretty. */
export function printJson(value: unknown, pretty: boolean): void {
  process.stdout.write(JSON.stringify(value, null, pretty ? 2 : undefined) + '\n');
}

/**
 * Prints a stored value exactly as stored, so `get KEY > file` round-trips. A newline is added
 * only for a person at a terminal. With --pretty, JSON values are indented.
 */
export function printRaw(body: Buffer, contentType: string | undefined, pretty: boolean): void {
  if (pretty && contentType?.includes('json')) {
    try {
      printJson(JSON.parse(body.toString('utf8')), true);
      return;
    } catch {
      // Not JSON after all: print it as it is.
    }
  }
  process.stdout.write(body);
  if (process.stdout.isTTY && body.length > 0 && body[body.length - 1] !== 0x0a) process.stdout.write('\n');
}

/** Prints one line of text (strings unquoted). */
export function printLine(text: string): void {
  process.stdout.write(text + '\n');
}

let wroteStderr = false;

/** Prints one line on stderr (errors, notices). */
export function printError(line: string): void {
  wroteStderr = true;
  process.stderr.write(line.endsWith('\n') ? line : line + '\n');
}

/**
 * Exits as soon as everything printed has been handed to the OS, without waiting for sockets
 * to wind down. (Closing a socket touches process.stderr, which costs a visible slice of a CLI
 * run when nothing else needed it.)
 */
export function exitWhenFlushed(code: number): void {
  const streams = wroteStderr ? [process.stdout, process.stderr] : [process.stdout];
  let pending = streams.length;
  for (const stream of streams) {
    // An empty write's callback runs once every earlier write has been flushed.
    stream.write('', () => {
      if (--pending === 0) process.exit(code);
    });
  }
}

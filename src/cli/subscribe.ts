import type { IncomingMessage } from 'node:http';
import type { RawData, WebSocket as WsSocket } from 'ws';
import { identityHeaders, unreachable } from './client.js';
import { CliError, ExitCode, exitCodeForStatus } from './exit-codes.js';
import type { Cli } from './kit.js';
import { printError } from './output.js';

interface StreamedEvent {
  id: number;
  topic: string;
}

export interface SubscribeOptions {
  /** Start after this event id; default: the newest event when the command starts. */
  after?: number;
  /** Exit after printing this many events. */
  max?: number;
}

const FIRST_DELAY_MS = 250;
const MAX_DELAY_MS = 5000;
const HISTORY_PAGE = 1000;
// The server pings every 30 s; this long without a ping or a frame means the peer is gone
// (sleeping laptop, dropped network) even though no close ever arrived.
const SILENCE_LIMIT_MS = 75_000;

const isEvent = (value: unknown): value is StreamedEvent =>
  !!value && typeof value === 'object' && typeof (value as StreamedEvent).id === 'number' && typeof (value as StreamedEvent).topic === 'string';

/**
 * Streams events as JSON lines until interrupted (or `max` are printed).
 *
 * Exactly-once printing rests on one cursor, the id of the last event printed: ids only ever
 * increase, every (re)connection asks the server to replay from the cursor (`?after=`), and
 * anything at or below the cursor is skipped. Frames are handled strictly one after another,
 * so when the server says it dropped events, the gap is fetched from history before any later
 * frame is printed.
 */
export async function subscribeEvents(cli: Cli, pattern: string, options: SubscribeOptions): Promise<void> {
  const { server } = cli.connection;
  // Starting from "now" as an explicit cursor means even the first reconnect cannot lose events.
  let cursor = options.after ?? (await newestEventId(cli));
  const { default: WebSocket } = await import('ws');

  let printed = 0;
  let delay = FIRST_DELAY_MS;
  let socket: WsSocket | undefined;
  let stopped = false;
  let announcedOutage = false;
  let everConnected = false;
  let queue: Promise<void> = Promise.resolve();
  let retry: NodeJS.Timeout | undefined;

  return new Promise<void>((resolve, reject) => {
    const stop = (error?: unknown) => {
      if (stopped) return;
      stopped = true;
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      clearTimeout(retry);
      socket?.terminate();
      if (error) reject(error);
      else resolve();
    };
    const onSignal = () => stop();
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    // A reader that went away (`| head -n 3`) ends the stream quietly.
    process.stdout.on('error', () => stop());

    const print = (event: StreamedEvent) => {
      if (stopped || event.id <= cursor) return;
      process.stdout.write(JSON.stringify(event) + '\n');
      cursor = event.id;
      printed++;
      if (options.max !== undefined && printed >= options.max) stop();
    };

    const fillGap = async () => {
      for (;;) {
        const before = cursor;
        const page = await cli.client.json<unknown[]>('GET', '/api/events/history', {
          query: { after: cursor, last: HISTORY_PAGE, topic: pattern === '*' ? undefined : pattern },
        });
        const events = (Array.isArray(page) ? page : []).filter(isEvent).sort((a, b) => a.id - b.id);
        for (const event of events) print(event);
        if (stopped || events.length === 0 || cursor === before) return;
      }
    };

    const handleFrame = async (data: RawData) => {
      let frame: unknown;
      try {
        frame = JSON.parse(data.toString());
      } catch {
        return;
      }
      if (isEvent(frame)) print(frame);
      else if (frame && typeof frame === 'object' && 'dropped' in frame) await fillGap();
    };

    const reconnectLater = (reason: string) => {
      if (stopped) return;
      if (!announcedOutage) {
        printError(`koor-cli: lost ${server} (${reason}); reconnecting`);
        announcedOutage = true;
      }
      retry = setTimeout(connect, delay);
      delay = Math.min(delay * 2, MAX_DELAY_MS);
    };

    function connect() {
      if (stopped) return;
      const url = new URL(server.replace(/^http/, 'ws') + '/api/events/subscribe');
      url.searchParams.set('pattern', pattern);
      url.searchParams.set('after', String(cursor));
      const ws = new WebSocket(url, { headers: identityHeaders(cli.connection), perMessageDeflate: false });
      socket = ws;
      let failure = 'connection closed';
      let answered = false;
      let silence: NodeJS.Timeout | undefined;
      const heard = () => {
        clearTimeout(silence);
        silence = setTimeout(() => {
          failure = 'no ping from the server';
          ws.terminate();
        }, SILENCE_LIMIT_MS);
      };
      ws.on('ping', heard);
      ws.on('open', () => {
        everConnected = true;
        heard();
        delay = FIRST_DELAY_MS;
        if (announcedOutage) printError(`koor-cli: reconnected to ${server}`);
        announcedOutage = false;
      });
      ws.on('message', (data) => {
        heard();
        queue = queue.then(() => handleFrame(data)).catch((err) => stop(err));
      });
      // The upgrade was answered with an HTTP status instead: a refusal (a bad pattern, a bad
      // token) ends the command with the server's message, since retrying cannot fix it;
      // anything else (a server restarting) is waited out like a lost connection.
      ws.on('unexpected-response', (_request, response) => {
        const status = response.statusCode ?? 0;
        answered = true;
        void refusalText(response).then((text) => {
          if (isRefusal(status)) stop(new CliError(`cannot subscribe at ${server}: ${text ?? `HTTP ${status}`}`, exitCodeForStatus(status)));
          else failure = `HTTP ${status}`;
          ws.terminate();
        });
      });
      ws.on('error', (err) => {
        // A server that is down when the command starts is an error, as for every other command;
        // once streaming, outages are waited out.
        if (!everConnected && !answered) {
          stop(unreachable(server, err));
          return;
        }
        if (!answered) failure = (err as NodeJS.ErrnoException).code === 'ECONNREFUSED' ? 'connection refused' : err.message;
      });
      ws.on('close', () => {
        clearTimeout(silence);
        if (ws !== socket) return;
        // Let frames already received be printed before asking to resume from the cursor.
        queue = queue.then(() => reconnectLater(failure));
      });
    }

    connect();
  });
}

/** A 4xx answer other than "too slow" or "too many": asking again would get the same. */
function isRefusal(status: number): boolean {
  return status >= 400 && status < 500 && status !== 408 && status !== 429;
}

/** The `error` of a JSON error answer (read up to 64 KB), or undefined. */
async function refusalText(response: IncomingMessage): Promise<string | undefined> {
  let body = '';
  try {
    for await (const chunk of response) {
      body += String(chunk);
      if (body.length > 65_536) break;
    }
    const error = (JSON.parse(body) as { error?: unknown }).error;
    return typeof error === 'string' ? error : undefined;
  } catch {
    return undefined;
  }
}

/** The id of the newest stored event (0 when there is none): where a fresh subscription starts. */
async function newestEventId(cli: Cli): Promise<number> {
  const newest = await cli.client.json<unknown[]>('GET', '/api/events/history', { query: { last: 1 } });
  if (!Array.isArray(newest)) throw new CliError('unexpected answer from /api/events/history', ExitCode.serverError);
  const first = newest[0];
  return isEvent(first) ? first.id : 0;
}

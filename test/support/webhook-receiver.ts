import { createServer, type IncomingHttpHeaders } from 'node:http';

export interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  status: number;
}

/**
 * A local HTTP receiver. `answer` picks the status for the nth request (0-based); returning
 * null leaves the request hanging.
 */
export async function startReceiver(answer: (n: number) => number | null = () => 200) {
  const requests: Received[] = [];
  let waiters: (() => void)[] = [];
  const server = createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (body += chunk));
    request.on('end', () => {
      const status = receiver.answer(requests.length);
      requests.push({ headers: request.headers, body, status: status ?? 0 });
      for (const wake of waiters.splice(0)) wake();
      if (status !== null) response.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const receiver = {
    url: `http://127.0.0.1:${port}/hook`,
    requests,
    answer,
    async until(done: (requests: Received[]) => boolean): Promise<void> {
      while (!done(requests)) await new Promise<void>((resolve) => waiters.push(resolve));
    },
    async close(): Promise<void> {
      waiters = [];
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
  return receiver;
}


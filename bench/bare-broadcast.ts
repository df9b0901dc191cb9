// The floor for the event latency bench: the least a server can do to pass published events to
// WebSocket subscribers. node:http takes the POST, `ws` sends each event to every subscriber as
// it arrives; nothing is stored, filtered, numbered durably or buffered per subscriber. Run as
// its own process, like koor-server in that bench: `node bare-broadcast.js PORT`.
import { createServer } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';

const port = Number(process.argv[2]);
const subscribers = new Set<WebSocket>();
const sockets = new WebSocketServer({ noServer: true, perMessageDeflate: false });
let lastId = 0;

const server = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/health') {
    res.end('{"status":"ok"}');
    return;
  }
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (chunk: string) => (body += chunk));
  req.on('end', () => {
    const published = JSON.parse(body) as { topic: string; data?: unknown };
    const event = JSON.stringify({ id: ++lastId, topic: published.topic, data: published.data ?? null, source: '', created_at: new Date().toISOString() });
    const frame = Buffer.from(event);
    for (const ws of subscribers) ws.send(frame, { binary: false });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': frame.length });
    res.end(frame);
  });
});

server.on('upgrade', (req, socket, head) => {
  sockets.handleUpgrade(req, socket, head, (ws) => {
    subscribers.add(ws);
    ws.on('close', () => subscribers.delete(ws));
  });
});

server.listen(port, '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));

// A server under test, in its own process: `vidget` (or `vidget-bayeux`, the same), `bare-ws` (the floor: the ws README's
// broadcast loop, per room, echoing the received buffer untouched), `socket.io` (rooms,
// `io.to(room).emit`) or `faye` (Bayeux pub/sub). Tells the parent its port, and answers
// { cpu, rss } so CPU per delivery and memory per connection can be computed.
import { createServer as createHttpServer } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { PostgresStore, SqliteStore, createServer } from '../src/server/index.js';
import { RedisBus } from '../src/server/bus/redis-bus.js';
import { RedisPresence } from '../src/server/bus/redis-presence.js';

const kind = process.argv[2];
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

async function clusterServices(schema: string, prefix: string | undefined) {
  const store = new PostgresStore({ connectionString: DATABASE_URL, schema });
  if (!prefix) return { store };
  const bus = await RedisBus.connect({ url: REDIS_URL, prefix });
  const presence = await RedisPresence.connect({ url: REDIS_URL, prefix, nodeId: bus.nodeId });
  return { store, bus, presence };
}
let port: number;
/** Resolves when the index builds asked for so far are done (Vidget's SQLite store; others have none). */
let indexesSettled = async (): Promise<void> => {};

// vidget-bayeux is the same server, driven through its Bayeux endpoint by faye's client.
if (kind === 'vidget' || kind === 'vidget-bayeux') {
  // An existing data directory (the search bench's million-record room) for the attack run, whose
  // store builds the indexes the attack earns back to back (buildGap 0), during its warm-up.
  const dataDir = process.argv[3] ?? mkdtempSync(join(tmpdir(), 'vidget-bench-'));
  // A node of a deployment (issue 12): records in PostgreSQL, and with a Redis prefix the bus and presence.
  const cluster = process.env.BENCH_PG_SCHEMA ? await clusterServices(process.env.BENCH_PG_SCHEMA, process.env.BENCH_REDIS_PREFIX) : {};
  const server = await createServer({
    port: 0,
    dataDir,
    ...cluster,
    ...(process.argv[3] ? { store: new SqliteStore(join(dataDir, 'vidget.db'), { autoIndex: { buildGap: 0 } }) } : {}),
    rateLimit: { perSecond: 1e9, burst: 1e9 },
    maxConnectionsPerIp: 1e9,
    // Faye's clients keep their handshake's HTTP socket open (keep-alive) beside the WebSocket: 1,000 of them
    // from 127.0.0.1 pass the per-address cap on open HTTP sockets (the slowloris guard).
    maxPendingPerAddress: 1e9,
    projects: (id: string) => ({ id, anonymous: ['read', 'publish', 'search'] }),
    // Every bench client is on 127.0.0.1: the shared per-address rates would measure themselves.
    rates: { connectsPerAddress: { perSecond: 1e9, burst: 1e9 }, framesPerAddress: { perSecond: 1e9, burst: 1e9 }, framesPerProject: { perSecond: 1e9, burst: 1e9 } },
    log: () => {},
  });
  port = server.port;
  indexesSettled = () => (server.store as SqliteStore).indexesSettled();
} else if (kind === 'bare-ws') {
  const rooms = new Map<string, Set<WebSocket>>();
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false });
  wss.on('connection', (ws, req) => {
    const name = req.url ?? '/';
    const room = rooms.get(name) ?? rooms.set(name, new Set()).get(name)!;
    room.add(ws);
    ws.on('close', () => room.delete(ws));
    ws.on('message', (data, isBinary) => {
      for (const client of room) if (client.readyState === 1) client.send(data, { binary: isBinary });
    });
  });
  await new Promise((resolve) => wss.once('listening', resolve));
  port = (wss.address() as { port: number }).port;
} else if (kind === 'socket.io') {
  const { Server } = await import('socket.io');
  const http = createHttpServer();
  const sio = new Server(http, { transports: ['websocket'], perMessageDeflate: false, serveClient: false });
  if (process.env.BENCH_REDIS_PREFIX) {
    // Several nodes: Socket.IO's own Redis adapter on the same Redis.
    const { createAdapter } = await import('@socket.io/redis-adapter');
    const { Redis } = await import('ioredis');
    const pub = new Redis(REDIS_URL);
    sio.adapter(createAdapter(pub, pub.duplicate(), { key: process.env.BENCH_REDIS_PREFIX }));
  }
  sio.on('connection', (socket) => {
    socket.on('join', (room: string, ack: () => void) => {
      void socket.join(room);
      ack();
    });
    socket.on('pub', (room: string, data: unknown) => sio.to(room).emit('msg', data));
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  port = (http.address() as { port: number }).port;
} else if (kind === 'faye') {
  const { default: faye } = await import('faye');
  const http = createHttpServer();
  new faye.NodeAdapter({ mount: '/faye', timeout: 45 }).attach(http);
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  port = (http.address() as { port: number }).port;
} else {
  throw new Error(`unknown server kind ${kind}`);
}

process.on('message', (msg: { cmd: string }) => {
  if (msg.cmd === 'cpu') process.send!({ cpu: process.cpuUsage(), rss: process.memoryUsage().rss });
  // Memory: after a full collection (run with --expose-gc), so garbage does not count as held.
  if (msg.cmd === 'rss') {
    (globalThis as { gc?: () => void }).gc?.();
    const { rss, heapUsed, external, arrayBuffers } = process.memoryUsage();
    process.send!({ rss, heapUsed, external: external + arrayBuffers });
  }
  if (msg.cmd === 'settle') void indexesSettled().then(() => process.send!({ settled: true }));
  if (msg.cmd === 'exit') process.exit(0);
});
process.send!({ port });

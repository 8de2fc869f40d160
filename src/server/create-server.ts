import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { join } from 'node:path';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import {
  CloseCode,
  ErrorCode,
  VidgetError,
  frameRef,
  isValidName,
  parseClientFrame,
  parseConnectParams,
} from '../protocol/index.js';
import { Connection } from './rooms/connection.js';
import { handleApi, sendHttpError, type HttpApiContext } from './http/http-api.js';
import { Room } from './rooms/room.js';
import { SqliteStore } from './store/sqlite-store.js';
import { serveStatic } from './http/static-files.js';
import type { Store } from './store/store.js';
import { verifyToken } from './tokens.js';

/** Options of {@link createServer}; every one has a default that serves a demo page out of the box. */
export interface ServerOptions {
  /** TCP port; 0 picks a free one. Default 8787. */
  port?: number;
  /** Interface to listen on. Default `127.0.0.1`. */
  host?: string;
  /** Where the SQLite file (`vidget.db`) and the token secret live. Default `./data`. */
  dataDir?: string;
  /** A store to use instead of the SQLite file in `dataDir`. */
  store?: Store;
  /** Allowed project ids; when set, any other project is refused with 4003 / `forbidden`. */
  projects?: string[];
  /** HMAC secret for tokens. Default: read from (or created in) `<dataDir>/secret`. */
  secret?: string;
  /** Key that authorises `POST /api/tokens` (`Authorization: Bearer <apiKey>`). */
  apiKey?: string;
  /** Let anyone get a token from `POST /api/tokens` (demo/dev only). Default false. */
  devTokens?: boolean;
  /** Refuse connections and searches without a valid token. Default false (anonymous allowed). */
  requireToken?: boolean;
  /** Folder served over HTTP at `/` (the demo page). Default: none. */
  staticDir?: string;
  /** Largest text frame accepted; bigger ones get `too_large`. Default 65536. */
  maxFrameBytes?: number;
  /** Bytes buffered for one slow reader before it is closed with 4009. Default 4 MiB. */
  maxBufferedBytes?: number;
  /** Frames per second per connection, sustained / burst. Default 100 / 200. */
  rateLimit?: { perSecond: number; burst: number };
  /** Connections from one IP address; more are closed with 4029. Default 1000. */
  maxConnectionsPerIp?: number;
  /** Most records replayed by one catch-up. Default 1000. */
  maxReplay?: number;
  /** Least time between two presence updates of one room; joins in between are coalesced. Default 250 ms. */
  presenceIntervalMs?: number;
  /** Ping interval; a peer that has not answered the previous ping is dropped. Default 30000 ms. */
  heartbeatMs?: number;
  /** Where errors are reported. Default `console.error`. */
  log?: (message: string, error?: unknown) => void;
}

/** A running Vidget server. */
export interface VidgetServer {
  /** `http://host:port` of the HTTP API and demo page. */
  readonly url: string;
  /** `ws://host:port`, the `host` for sockets. */
  readonly wsUrl: string;
  /** The port actually bound. */
  readonly port: number;
  /** The underlying Node HTTP server. */
  readonly http: Server;
  /** The store records go to. */
  readonly store: Store;
  /** Current rooms and connections. */
  stats(): { rooms: number; connections: number };
  /** Closes every socket (1001), stores everything accepted, then closes the store. */
  close(): Promise<void>;
}

const ROOM_PATH = /^\/parties\/([^/]+)\/([^/]+)\/?$/;

function loadSecret(dataDir: string): string {
  const file = join(dataDir, 'secret');
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    mkdirSync(dataDir, { recursive: true });
    const secret = randomBytes(32).toString('hex');
    writeFileSync(file, secret, { mode: 0o600 });
    return secret;
  }
}

/**
 * Starts a Vidget server: WebSocket rooms at `/parties/<project>/<widgetId>`, the REST API under
 * `/api/`, and static files. Resolves once it listens.
 */
export async function createServer(options: ServerOptions = {}): Promise<VidgetServer> {
  const dataDir = options.dataDir ?? './data';
  const store = options.store ?? new SqliteStore(join(dataDir, 'vidget.db'));
  const secret = options.secret ?? loadSecret(dataDir);
  const maxFrameBytes = options.maxFrameBytes ?? 65_536;
  const limits = {
    maxBufferedBytes: options.maxBufferedBytes ?? 4 * 1024 * 1024,
    ratePerSecond: options.rateLimit?.perSecond ?? 100,
    rateBurst: options.rateLimit?.burst ?? 200,
  };
  const maxPerIp = options.maxConnectionsPerIp ?? 1000;
  const log = options.log ?? ((message: string, error?: unknown) => console.error(`[vidget] ${message}`, error ?? ''));
  const projects = options.projects ? new Set(options.projects) : undefined;
  const isProjectAllowed = (project: string): boolean => !projects || projects.has(project);

  const rooms = new Map<string, Room>();
  const connectionOf = new WeakMap<WebSocket, Connection>();
  const perIp = new Map<string, number>();
  let connections = 0;
  let closing = false;

  const roomFor = (name: string): Room => {
    let room = rooms.get(name);
    if (!room) {
      room = new Room(name, store, {
        maxReplay: options.maxReplay ?? 1000,
        presenceIntervalMs: options.presenceIntervalMs ?? 250,
        limits: { rate: limits.ratePerSecond, burst: limits.rateBurst, maxFrameBytes },
        onError: (e) => log(`room ${name}`, e),
      });
      rooms.set(name, room);
    }
    return room;
  };
  const dropIfIdle = (room: Room): void => {
    if (room.idle && rooms.get(room.name) === room) {
      room.dispose();
      rooms.delete(room.name);
    }
  };
  const stats = () => ({ rooms: rooms.size, connections });

  const api: HttpApiContext = {
    store, secret, apiKey: options.apiKey, devTokens: options.devTokens ?? false,
    requireToken: options.requireToken ?? false, isProjectAllowed, stats,
    drainRoom: async (name: string) => rooms.get(name)?.drain(),
  };
  const http = createHttpServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    void (async () => {
      if (await handleApi(api, req, res, url)) return;
      if (options.staticDir && (req.method === 'GET' || req.method === 'HEAD') && (await serveStatic(options.staticDir, req, res, url.pathname))) return;
      sendHttpError(res, new VidgetError(ErrorCode.NotFound, 'not found'));
    })().catch((error: unknown) => {
      log('http', error);
      if (!res.headersSent) sendHttpError(res, error);
      else res.destroy();
    });
  });

  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false, // zlib's per-socket memory fragments badly at many connections
    maxPayload: maxFrameBytes * 16, // past this ws closes with 1009; between the two we answer too_large
  });

  http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (closing || !ROOM_PATH.test(url.pathname)) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => accept(ws, req, url));
  });

  function onPong(this: WebSocket): void {
    connectionOf.get(this)!.alive = true;
  }
  function onSocketError(): void {} // a reset peer; 'close' follows and cleans up
  function onMessage(this: WebSocket, data: RawData, isBinary: boolean): void {
    const conn = connectionOf.get(this)!;
    conn.alive = true;
    onFrame(conn, conn.room, data, isBinary);
  }
  function onClose(this: WebSocket): void {
    const conn = connectionOf.get(this)!;
    conn.dispose();
    connections--;
    const left = (perIp.get(conn.ip) ?? 1) - 1;
    if (left === 0) perIp.delete(conn.ip);
    else perIp.set(conn.ip, left);
    conn.room.leave(conn);
    dropIfIdle(conn.room);
  }

  // Checks run after the upgrade so the client learns why through a close code.
  function accept(ws: WebSocket, req: IncomingMessage, url: URL): void {
    const ip = req.socket.remoteAddress ?? 'unknown';
    const [, rawProject, rawWidget] = ROOM_PATH.exec(url.pathname)!;
    let project: string, widgetId: string, params;
    try {
      project = decodeURIComponent(rawProject!);
      widgetId = decodeURIComponent(rawWidget!);
      if (!isValidName(project) || !isValidName(widgetId)) throw new VidgetError(ErrorCode.BadFrame, 'project and widget ids are 1-64 of A-Z a-z 0-9 _ -');
      params = parseConnectParams(url.searchParams);
    } catch (error) {
      ws.close(CloseCode.BadRequest, error instanceof VidgetError ? error.message.slice(0, 120) : 'bad request');
      return;
    }
    if (!isProjectAllowed(project)) return ws.close(CloseCode.Forbidden, 'unknown project');
    let username: string | null = null;
    if (params.token) {
      try {
        username = verifyToken(secret, params.token, project).username;
      } catch (error) {
        const forbidden = error instanceof VidgetError && error.code === ErrorCode.Forbidden;
        return ws.close(forbidden ? CloseCode.Forbidden : CloseCode.Unauthorized, (error as Error).message);
      }
    } else if (options.requireToken) {
      return ws.close(CloseCode.Unauthorized, 'a token is required');
    }
    const fromIp = perIp.get(ip) ?? 0;
    if (fromIp >= maxPerIp) return ws.close(CloseCode.TooManyConnections, 'too many connections from this address');
    perIp.set(ip, fromIp + 1);
    connections++;

    const room = roomFor(`${project}/${widgetId}`);
    const conn = new Connection(ws, params.clientId, username, ip, limits, room);
    connectionOf.set(ws, conn);
    // Shared handlers (`this` is the socket), not closures per connection: idle memory counts.
    ws.on('pong', onPong);
    ws.on('error', onSocketError);
    ws.on('message', onMessage);
    ws.once('close', onClose);
    // Hold incoming frames until the room is open and this connection has joined it.
    ws.pause();
    room.ready
      .then(() => {
        if (!conn.open) return;
        ws.resume();
        return room.join(conn, params);
      })
      .catch((error: unknown) => {
        log(`opening room ${room.name}`, error);
        conn.close(CloseCode.InternalError, 'store unavailable');
      });
  }

  function onFrame(conn: Connection, room: Room, data: RawData, isBinary: boolean): void {
    if (isBinary) return conn.sendError(ErrorCode.BadFrame, 'binary frames are not accepted; send JSON text');
    const bytes = data as Buffer;
    if (!conn.admit()) return conn.sendError(ErrorCode.RateLimited, 'rate limit exceeded; slow down and retry', frameRef(bytes.toString('utf8', 0, 512)));
    if (bytes.length > maxFrameBytes) {
      return conn.sendError(ErrorCode.TooLarge, `frame is ${bytes.length} bytes; the limit is ${maxFrameBytes}`, frameRef(bytes.toString('utf8')));
    }
    const text = bytes.toString('utf8');
    let frame;
    try {
      frame = parseClientFrame(text);
    } catch (error) {
      return conn.sendError(ErrorCode.BadFrame, (error as Error).message, frameRef(text));
    }
    if (frame.type === 'pub') room.publish(conn, frame);
    else void room.search(conn, frame);
  }

  const heartbeat = setInterval(() => {
    for (const ws of wss.clients) {
      const conn = connectionOf.get(ws);
      if (!conn) continue;
      if (!conn.alive) {
        ws.terminate();
        continue;
      }
      conn.alive = false;
      ws.ping();
    }
  }, options.heartbeatMs ?? 30_000);
  heartbeat.unref();

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port ?? 8787, options.host ?? '127.0.0.1', () => {
      http.off('error', reject);
      resolve();
    });
  });
  const { port } = http.address() as AddressInfo;
  const host = options.host ?? '127.0.0.1';
  const shownHost = host.includes(':') ? `[${host}]` : host;

  return {
    url: `http://${shownHost}:${port}`,
    wsUrl: `ws://${shownHost}:${port}`,
    port,
    http,
    store,
    stats,
    async close() {
      if (closing) return;
      closing = true;
      clearInterval(heartbeat);
      for (const ws of wss.clients) ws.close(CloseCode.GoingAway, 'server shutting down');
      await Promise.all([...rooms.values()].map((room) => room.drain()));
      for (const room of rooms.values()) room.dispose();
      for (const ws of wss.clients) ws.terminate();
      const closed = new Promise<void>((resolve) => http.close(() => resolve()));
      http.closeAllConnections();
      await closed;
      await store.close();
    },
  };
}

import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { CloseCode, ErrorCode, VidgetError, isValidName, parseConnectParams, type ConnectParams } from '../../protocol/index.js';
import { clientIdOf } from '../client-identity.js';
import { limitKey, type ClientAddress } from '../http/client-address.js';
import type { ConnectionGuard } from '../http/connection-guard.js';
import { decodeSegment, parseTarget, type RequestTarget } from '../http/request-target.js';
import type { Limiter } from '../limits/limiter.js';
import { Connection, type ConnectionLimits } from '../rooms/connection.js';
import type { RoomRegistry } from '../rooms/room-registry.js';
import { dispatchFrame } from './frame-dispatch.js';
import { startHeartbeat } from './heartbeat.js';

/** What the WebSocket side needs from the server. */
export interface SocketServerOptions {
  registry: RoomRegistry;
  limiter: Limiter;
  addresses: ClientAddress;
  guard: ConnectionGuard;
  limits: ConnectionLimits;
  maxFrameBytes: number;
  maxConnectionsPerIp: number;
  heartbeatMs: number;
  isProjectAllowed: (project: string) => boolean;
  /** The username a token grants in `project`; throws `VidgetError` (`unauthorized`/`forbidden`). */
  verifyToken: (token: string, project: string) => string;
  requireToken: boolean;
  log: (message: string, error?: unknown) => void;
}

const ROOM_PATH = /^\/parties\/([^/]+)\/([^/]+)\/?$/;

/** Answers a refused upgrade and closes the socket once the answer is out. */
function refuse(socket: Duplex, status: string): void {
  socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`, () => socket.destroy());
}

/**
 * WebSocket rooms at `/parties/<project>/<widgetId>`: the upgrade, the checks made on accept
 * (URL, project, connect rate, token, per-address cap), the shared per-socket handlers, the
 * heartbeat, and shutdown.
 */
export class SocketServer {
  /** Open, accepted connections. */
  connections = 0;
  private readonly wss: WebSocketServer;
  private readonly connectionOf = new WeakMap<WebSocket, Connection>();
  private readonly perIp = new Map<string, number>();
  private readonly stopHeartbeat: () => void;
  private closing = false;

  constructor(private readonly options: SocketServerOptions) {
    this.wss = new WebSocketServer({
      noServer: true,
      perMessageDeflate: false, // zlib's per-socket memory fragments badly at many connections
      // Past this ws closes with 1009. Up to it a frame is answered too_large and the connection
      // stays; it also bounds what an unfinished fragmented message can hold per connection.
      maxPayload: options.maxFrameBytes * 2,
    });
    // Shared handlers (`this` is the socket), not closures per connection: idle memory counts.
    const self = this;
    this.onPong = function (this: WebSocket) {
      self.connectionOf.get(this)!.alive = true;
    };
    this.onMessage = function (this: WebSocket, data: RawData, isBinary: boolean) {
      const conn = self.connectionOf.get(this)!;
      conn.alive = true;
      dispatchFrame(conn, data, isBinary, options.maxFrameBytes, () => options.limiter.frame(conn.ip, conn.project));
    };
    this.onClose = function (this: WebSocket) {
      self.closed(self.connectionOf.get(this)!);
    };
    this.stopHeartbeat = startHeartbeat(this.wss.clients, (ws) => this.connectionOf.get(ws), options.heartbeatMs);
  }

  private readonly onPong: (this: WebSocket) => void;
  private readonly onMessage: (this: WebSocket, data: RawData, isBinary: boolean) => void;
  private readonly onClose: (this: WebSocket) => void;

  /** The HTTP server's `upgrade` handler. Never throws: a bad request is answered and closed. */
  readonly upgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    // Node removes its own 'error' listener from an upgraded socket: a reset must not be uncaught.
    socket.on('error', noop);
    try {
      const target = parseTarget(req.url);
      if (!target) return refuse(socket, '400 Bad Request');
      const match = ROOM_PATH.exec(target.pathname);
      if (this.closing) return refuse(socket, '503 Service Unavailable');
      if (!match) return refuse(socket, '404 Not Found');
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        this.options.guard.upgraded(socket as Socket);
        this.accept(ws, req, target, match[1]!, match[2]!);
      });
    } catch (error) {
      this.options.log('upgrade', error);
      refuse(socket, '500 Internal Server Error');
    }
  };

  /** Closes every socket with 1001 and stops the heartbeat. */
  closeAll(): void {
    this.closing = true;
    this.stopHeartbeat();
    for (const ws of this.wss.clients) ws.close(CloseCode.GoingAway, 'server shutting down');
  }

  /** Cuts every socket still open (after `closeAll` gave them a chance to close cleanly). */
  terminateAll(): void {
    for (const ws of this.wss.clients) ws.terminate();
  }

  // Checks run after the upgrade so the client learns why through a close code.
  private accept(ws: WebSocket, req: IncomingMessage, target: RequestTarget, rawProject: string, rawWidget: string): void {
    ws.on('error', noop); // a reset peer; 'close' follows
    try {
      const ip = limitKey(this.options.addresses.of(req));
      const { project, widgetId, params } = this.readUrl(target, rawProject, rawWidget);
      if (!this.options.isProjectAllowed(project)) return ws.close(CloseCode.Forbidden, 'unknown project');
      if (!this.options.limiter.connect(ip)) return ws.close(CloseCode.TooManyConnections, 'connecting too often from this address; retry with backoff');
      const username = this.authenticate(params, project);
      const fromIp = this.perIp.get(ip) ?? 0;
      if (fromIp >= this.options.maxConnectionsPerIp) return ws.close(CloseCode.TooManyConnections, 'too many connections from this address');
      this.perIp.set(ip, fromIp + 1);
      this.connections++;
      this.join(ws, new Connection(ws, clientIdOf(params.clientId, username), username, ip, this.options.limits, this.options.registry.roomFor(`${project}/${widgetId}`)), params);
    } catch (error) {
      if (!(error instanceof VidgetError)) this.options.log('accepting a socket', error);
      ws.close(closeCodeOf(error), error instanceof VidgetError ? error.message.slice(0, 120) : 'internal error');
    }
  }

  private readUrl(target: RequestTarget, rawProject: string, rawWidget: string): { project: string; widgetId: string; params: ConnectParams } {
    const project = decodeSegment(rawProject);
    const widgetId = decodeSegment(rawWidget);
    if (!isValidName(project) || !isValidName(widgetId)) throw new VidgetError(ErrorCode.BadFrame, 'project and widget ids are 1-64 of A-Z a-z 0-9 _ -');
    return { project, widgetId, params: parseConnectParams(target.query) };
  }

  /** The verified username of a connection, or null for an anonymous one. */
  private authenticate(params: ConnectParams, project: string): string | null {
    if (params.token) return this.options.verifyToken(params.token, project);
    if (this.options.requireToken) throw new VidgetError(ErrorCode.Unauthorized, 'a token is required');
    return null;
  }

  private join(ws: WebSocket, conn: Connection, params: ConnectParams): void {
    this.connectionOf.set(ws, conn);
    ws.on('pong', this.onPong);
    ws.on('message', this.onMessage);
    ws.once('close', this.onClose);
    // Hold incoming frames until the room is open and this connection has joined it.
    ws.pause();
    const room = conn.room;
    room.ready
      .then(() => {
        if (!conn.open) return;
        ws.resume();
        return room.join(conn, params);
      })
      .catch((error: unknown) => {
        this.options.log(`opening room ${room.name}`, error);
        conn.close(CloseCode.InternalError, 'store unavailable');
      });
  }

  private closed(conn: Connection): void {
    conn.dispose();
    this.connections--;
    const left = (this.perIp.get(conn.ip) ?? 1) - 1;
    if (left === 0) this.perIp.delete(conn.ip);
    else this.perIp.set(conn.ip, left);
    conn.room.leave(conn);
    this.options.registry.dropIfIdle(conn.room);
  }
}

/** The close code for a refused connection. */
function closeCodeOf(error: unknown): number {
  if (!(error instanceof VidgetError)) return CloseCode.InternalError;
  if (error.code === ErrorCode.Unauthorized) return CloseCode.Unauthorized;
  if (error.code === ErrorCode.Forbidden) return CloseCode.Forbidden;
  return CloseCode.BadRequest;
}

function noop(): void {}

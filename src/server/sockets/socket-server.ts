import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { CloseCode, ErrorCode, VidgetError, isValidName, parseConnectParams, type ConnectParams, type PublishFrame } from '../../protocol/index.js';
import { authorize, type Project } from '../trust/project.js';
import { joinAction } from '../trust/permissions.js';
import type { Projects } from '../trust/projects.js';
import type { RoomRef } from '../trust/signed-rooms.js';
import { clientIdOf } from '../client-identity.js';
import { limitKey, type ClientAddress } from '../http/client-address.js';
import type { ConnectionGuard } from '../http/connection-guard.js';
import { decodeSegment, parseTarget, type RequestTarget } from '../http/request-target.js';
import type { Limiter } from '../limits/limiter.js';
import { Connection, type ConnectionLimits } from '../rooms/connection.js';
import type { RoomRegistry } from '../rooms/room-registry.js';
import { dispatchFrame, type DispatchContext } from './frame-dispatch.js';
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
  projects: Projects;
  /** The platform (videos, analytics): answers publishes into its reserved rooms, told of joins. */
  platform?: { intercept(conn: Connection, frame: PublishFrame): boolean; joined(conn: Connection): void };
  log: (message: string, error?: unknown) => void;
}

const ROOM_PATH = /^\/parties\/([^/]+)\/([^/]+)\/?$/;

/** Answers a refused upgrade and closes the socket once the answer is out. */
export function refuse(socket: Duplex, status: string): void {
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
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- `this` in the handlers is the socket
    const self = this;
    this.onPong = function (this: WebSocket) {
      self.connectionOf.get(this)!.alive = true;
    };
    // One context for every frame (nothing allocated per message).
    const dispatch: DispatchContext = { maxFrameBytes: options.maxFrameBytes, shared: (conn) => options.limiter.frame(conn.ip, conn.project), projects: options.projects, platform: options.platform };
    this.onMessage = function (this: WebSocket, data: RawData, isBinary: boolean) {
      const conn = self.connectionOf.get(this)!;
      conn.alive = true;
      if (conn.expired) return conn.close(CloseCode.TokenExpired, 'token has expired');
      dispatchFrame(conn, data, isBinary, dispatch);
    };
    this.onClose = function (this: WebSocket) {
      self.closed(self.connectionOf.get(this)!);
    };
    // An idle reader whose token expired is closed too, so it comes back with a fresh one.
    this.stopHeartbeat = startHeartbeat(
      this.wss.clients,
      (ws) => {
        const conn = this.connectionOf.get(ws);
        if (conn?.expired) conn.close(CloseCode.TokenExpired, 'token has expired');
        return conn;
      },
      options.heartbeatMs,
    );
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
      // Cross-site WebSocket hijacking: a page of another origin is refused before the handshake.
      const project = this.options.projects.get(decodeSegment(match[1]!) ?? '');
      if (project && !project.allowsOrigin(req.headers.origin)) return refuse(socket, '403 Forbidden');
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        this.options.guard.upgraded(socket as Socket);
        void this.accept(ws, req, target, match[1]!, match[2]!);
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
  private async accept(ws: WebSocket, req: IncomingMessage, target: RequestTarget, rawProject: string, rawRoom: string): Promise<void> {
    ws.on('error', noop); // a reset peer; 'close' follows
    ws.pause(); // nothing is read until the connection is admitted and has joined
    try {
      const ip = limitKey(this.options.addresses.of(req));
      const { project, room, params } = this.readUrl(target, rawProject, rawRoom);
      if (!this.options.limiter.connect(ip)) return closeWs(ws, CloseCode.TooManyConnections, 'connecting too often from this address; retry with backoff');
      const identity = await project.identify(params.token);
      authorize(identity, room, joinAction(room.plain));
      if (ws.readyState !== ws.OPEN) return;
      const fromIp = this.perIp.get(ip) ?? 0;
      if (fromIp >= this.options.maxConnectionsPerIp) return closeWs(ws, CloseCode.TooManyConnections, 'too many connections from this address');
      this.perIp.set(ip, fromIp + 1);
      this.connections++;
      const conn = new Connection(ws, clientIdOf(params.clientId, identity.userId), identity, ip, this.options.limits, this.options.registry.roomFor(`${project.id}/${room.plain}`), room);
      this.join(ws, conn, params);
    } catch (error) {
      if (!(error instanceof VidgetError)) this.options.log('accepting a socket', error);
      closeWs(ws, closeCodeOf(error), error instanceof VidgetError ? error.message.slice(0, 120) : 'internal error');
    }
  }

  private readUrl(target: RequestTarget, rawProject: string, rawRoom: string): { project: Project; room: RoomRef; params: ConnectParams } {
    const id = decodeSegment(rawProject);
    const name = decodeSegment(rawRoom);
    if (!isValidName(id) || name === undefined) throw new VidgetError(ErrorCode.BadFrame, 'the URL must be /parties/<project>/<room>');
    const project = this.options.projects.get(id);
    if (!project) throw new VidgetError(ErrorCode.Forbidden, 'unknown project');
    return { project, room: project.room(name), params: parseConnectParams(target.query) };
  }

  private join(ws: WebSocket, conn: Connection, params: ConnectParams): void {
    this.connectionOf.set(ws, conn);
    ws.on('pong', this.onPong);
    ws.on('message', this.onMessage);
    ws.once('close', this.onClose);
    const room = conn.room;
    room.ready
      .then(() => {
        if (!conn.open) return;
        ws.resume();
        this.options.platform?.joined(conn);
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

/** Closes a socket refused on accept; it was paused, and must read again to take the client's close reply. */
export function closeWs(ws: WebSocket, code: number, reason: string): void {
  ws.resume();
  ws.close(code, reason);
}

/** The close code for a refused connection. */
export function closeCodeOf(error: unknown): number {
  if (!(error instanceof VidgetError)) return CloseCode.InternalError;
  if (error.code === ErrorCode.Unauthorized) return CloseCode.Unauthorized;
  if (error.code === ErrorCode.TokenExpired) return CloseCode.TokenExpired;
  if (error.code === ErrorCode.Forbidden) return CloseCode.Forbidden;
  return CloseCode.BadRequest;
}

function noop(): void {}

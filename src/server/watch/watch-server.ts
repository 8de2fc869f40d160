import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { CloseCode, ErrorCode, VidgetError, isValidName, parseConnectParams, type IceServer } from '../../protocol/index.js';
import { clientIdOf } from '../client-identity.js';
import { limitKey, type ClientAddress } from '../http/client-address.js';
import type { ConnectionGuard } from '../http/connection-guard.js';
import { decodeSegment, parseTarget } from '../http/request-target.js';
import type { Limiter, Rate } from '../limits/limiter.js';
import { startHeartbeat } from '../sockets/heartbeat.js';
import { closeCodeOf, closeWs as close, refuse } from '../sockets/socket-server.js';
import type { Projects } from '../trust/projects.js';
import { serverNow } from './server-clock.js';
import { SessionRegistry } from './session-registry.js';
import { WatchConnection } from './watch-connection.js';
import { dispatchWatchFrame } from './watch-dispatch.js';

/** Watch-together settings of a server (`createServer({ watch })`). */
export interface WatchOptions {
  /** How long a dropped participant keeps its place, shown `reconnecting`. Default 15,000 ms. */
  graceMs?: number;
  /** How long an invitation waits for its answer. Default 30,000 ms. */
  inviteTtlMs?: number;
  /** Most participants with audio/video/screen in one session (a WebRTC mesh). Default 4. */
  meshLimit?: number;
  /** Playback commands per page: seek floods are dropped past it (`rate_limited`). Default 4/s, burst 8. */
  controlRate?: Rate;
  /** Frames per page (clock probes, signalling, commands). Default 50/s, burst 200. */
  frameRate?: Rate;
  /** STUN/TURN servers handed to browsers for WebRTC, where the project config has none (`iceServers`). Default: none (host candidates: same network only). */
  iceServers?: IceServer[];
  /** Ping interval; a page that missed one is dropped (its participants go `reconnecting`). Default 5,000 ms. */
  heartbeatMs?: number;
}

/** What the watch endpoint needs from the server. */
export interface WatchServerContext {
  projects: Projects;
  limiter: Limiter;
  addresses: ClientAddress;
  guard: ConnectionGuard;
  maxFrameBytes: number;
  log: (message: string, error?: unknown) => void;
}

const WATCH_PATH = /^\/watch\/([^/]+)\/?$/;

/**
 * The watch-together endpoint, `ws://host/watch/<project>?_pk=<browser secret>&token=…`: one
 * connection per page carries its sessions, clock probes, playback commands, signalling and
 * invitations. The same checks as the rooms on accept (origin, connect rate, token).
 */
export class WatchServer {
  readonly registry: SessionRegistry;
  private readonly wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 65_536 });
  private readonly connectionOf = new WeakMap<WebSocket, WatchConnection>();
  private readonly stopHeartbeat: () => void;
  private readonly rates: { frames: Rate; controls: Rate };
  private readonly iceServers: IceServer[];
  private readonly graceMs: number;
  private closing = false;

  constructor(
    private readonly ctx: WatchServerContext,
    options: WatchOptions = {},
  ) {
    this.graceMs = options.graceMs ?? 15_000;
    this.registry = new SessionRegistry({ graceMs: this.graceMs, meshLimit: options.meshLimit ?? 4 }, options.inviteTtlMs ?? 30_000);
    this.rates = { frames: options.frameRate ?? { perSecond: 50, burst: 200 }, controls: options.controlRate ?? { perSecond: 4, burst: 8 } };
    this.iceServers = options.iceServers ?? [];
    this.stopHeartbeat = startHeartbeat(this.wss.clients, (ws) => this.connectionOf.get(ws), options.heartbeatMs ?? 5_000);
  }

  /** Whether an upgrade request is for this endpoint. */
  handles(url: string | undefined): boolean {
    return url !== undefined && url.startsWith('/watch/');
  }

  /** The HTTP server's `upgrade` handler for `/watch/…`. Never throws. */
  readonly upgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on('error', noop);
    const target = parseTarget(req.url);
    const match = target && WATCH_PATH.exec(target.pathname);
    if (!target || !match) return refuse(socket, '404 Not Found');
    if (this.closing) return refuse(socket, '503 Service Unavailable');
    const project = this.ctx.projects.get(decodeSegment(match[1]!) ?? '');
    if (project && !project.allowsOrigin(req.headers.origin)) return refuse(socket, '403 Forbidden');
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      this.ctx.guard.upgraded(socket as Socket);
      void this.accept(ws, req, match[1]!, target.query);
    });
  };

  private async accept(ws: WebSocket, req: IncomingMessage, rawProject: string, query: URLSearchParams): Promise<void> {
    ws.on('error', noop);
    ws.pause();
    try {
      const id = decodeSegment(rawProject);
      const project = isValidName(id) ? this.ctx.projects.get(id) : undefined;
      if (!project) throw new VidgetError(ErrorCode.Forbidden, 'unknown project');
      const params = parseConnectParams(query);
      const ip = limitKey(this.ctx.addresses.of(req));
      if (!this.ctx.limiter.connect(ip)) return close(ws, CloseCode.TooManyConnections, 'connecting too often from this address; retry with backoff');
      const identity = await project.identify(params.token);
      if (ws.readyState !== ws.OPEN) return;
      const conn = new WatchConnection(ws, project.id, identity.userId ?? clientIdOf(params.clientId, null), identity.username, ip, this.rates);
      this.open(conn, project.config.iceServers ?? this.iceServers);
    } catch (error) {
      if (!(error instanceof VidgetError)) this.ctx.log('accepting a watch socket', error);
      close(ws, closeCodeOf(error), error instanceof VidgetError ? error.message.slice(0, 120) : 'internal error');
    }
  }

  private open(conn: WatchConnection, iceServers: IceServer[]): void {
    const { ws } = conn;
    this.connectionOf.set(ws, conn);
    this.registry.opened(conn);
    ws.on('pong', () => (conn.alive = true));
    ws.on('message', (data: RawData, isBinary: boolean) => {
      conn.alive = true;
      dispatchWatchFrame(conn, data, isBinary, this.registry, this.ctx.maxFrameBytes);
    });
    ws.once('close', () => this.registry.closed(conn));
    ws.resume();
    conn.send({ type: 'hello', uid: conn.uid, name: conn.tokenName, now: serverNow(), iceServers, meshLimit: this.registry.rules.meshLimit, graceMs: this.graceMs });
  }

  /** Closes every page with 1001 and stops the timers. */
  closeAll(): void {
    this.closing = true;
    this.stopHeartbeat();
    this.registry.dispose();
    for (const ws of this.wss.clients) ws.close(CloseCode.GoingAway, 'server shutting down');
  }

  /** Cuts every socket still open. */
  terminateAll(): void {
    for (const ws of this.wss.clients) ws.terminate();
  }
}

function noop(): void {}

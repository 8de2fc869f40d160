import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { limitKey, type ClientAddress } from '../http/client-address.js';
import type { ConnectionGuard } from '../http/connection-guard.js';
import { parseTarget } from '../http/request-target.js';
import { startHeartbeat, type Pulse } from '../sockets/heartbeat.js';
import { handleBayeuxHttp } from './bayeux-http.js';
import { BayeuxServer, runAfter, type BayeuxContext, type BayeuxServerOptions } from './bayeux-server.js';
import type { BayeuxSession } from './bayeux-session.js';

/** What the endpoint needs besides the Bayeux server's own options. */
export interface BayeuxEndpointOptions extends BayeuxServerOptions {
  addresses: ClientAddress;
  guard: ConnectionGuard;
  /** Largest WebSocket message or HTTP body. */
  maxMessageBytes: number;
  /** WebSocket ping interval; a socket that did not answer the previous ping is cut. */
  heartbeatMs: number;
}

/** The mount points: `/bayeux`, and `/faye` for sites whose client URL ends so. */
const MOUNT = /^\/(bayeux|faye)\/?$/;

/**
 * The Bayeux endpoint at `/bayeux` and `/faye`: HTTP long-polling and callback-polling, and
 * WebSocket (a socket carries Bayeux message arrays both ways and is bound to the client id of
 * the messages it carries). Requests and upgrades to other paths are not its own.
 */
export class BayeuxEndpoint {
  readonly server: BayeuxServer;
  private readonly wss: WebSocketServer;
  private readonly pulses = new WeakMap<WebSocket, Pulse>();
  private readonly stopHeartbeat: () => void;

  constructor(private readonly options: BayeuxEndpointOptions) {
    this.server = new BayeuxServer(options);
    this.wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: options.maxMessageBytes });
    this.stopHeartbeat = startHeartbeat(this.wss.clients, (ws) => this.pulses.get(ws), options.heartbeatMs);
  }

  /** Whether a request or upgrade is for this endpoint. */
  handles(req: IncomingMessage): boolean {
    const target = parseTarget(req.url);
    return target !== undefined && MOUNT.test(target.pathname);
  }

  /** Answers an HTTP request to the endpoint. */
  request(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const ip = limitKey(this.options.addresses.of(req));
    return handleBayeuxHttp(this.server, req, res, parseTarget(req.url)!, ip, this.options.maxMessageBytes, this.options.log);
  }

  /** Takes an upgrade to the endpoint. */
  readonly upgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on('error', noop);
    const ctx = { ip: limitKey(this.options.addresses.of(req)), origin: req.headers.origin, http: false };
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      this.options.guard.upgraded(socket as Socket);
      ws.on('error', noop);
      const pulse: Pulse = { alive: true };
      this.pulses.set(ws, pulse);
      ws.on('pong', () => (pulse.alive = true));
      let queue = Promise.resolve();
      ws.on('message', (data: RawData, isBinary: boolean) => {
        pulse.alive = true;
        // In order, one message array after another: a subscribe is answered before the publish after it.
        queue = queue.then(() => this.onMessage(ws, ctx, data, isBinary)).catch((error: unknown) => this.options.log('bayeux socket', error));
      });
      ws.once('close', () => {
        for (const session of this.bound.get(ws) ?? []) session.detach(ws);
        this.bound.delete(ws);
      });
    });
  };

  /** Ends every session and closes every socket. */
  close(): void {
    this.stopHeartbeat();
    this.server.close();
    for (const ws of this.wss.clients) ws.close(1001, 'server shutting down');
  }

  /** Cuts the sockets that did not close. */
  terminateAll(): void {
    for (const ws of this.wss.clients) ws.terminate();
  }

  private readonly bound = new WeakMap<WebSocket, Set<BayeuxSession>>();

  private async onMessage(ws: WebSocket, socket: Omit<BayeuxContext, 'after'>, data: RawData, isBinary: boolean): Promise<void> {
    let messages: unknown;
    try {
      if (isBinary) throw new Error('binary');
      messages = JSON.parse((data as Buffer).toString('utf8'));
    } catch {
      return ws.close(1007, 'Bayeux messages are JSON text');
    }
    const list = Array.isArray(messages) ? messages.slice(0, 100) : [messages];
    for (const m of list) {
      const session = typeof m === 'object' && m !== null ? this.server.sessionOf(m as Record<string, unknown>) : undefined;
      if (session) this.bind(ws, session);
      const ctx: BayeuxContext = { ...socket, after: [] };
      const reply = this.server.handle(m, ctx).then((parts) => {
        if (parts.length > 0 && ws.readyState === 1) ws.send(`[${parts.join(',')}]`);
        runAfter(ctx, this.options.log);
      });
      // A held connect is answered later; the messages after it go on.
      if ((m as { channel?: unknown } | null)?.channel !== '/meta/connect') await reply;
    }
  }

  private bind(ws: WebSocket, session: BayeuxSession): void {
    session.attach(ws);
    let set = this.bound.get(ws);
    if (!set) this.bound.set(ws, (set = new Set()));
    set.add(session);
  }
}

function noop(): void {}

import type { WebSocket } from 'ws';
import { TokenBucket } from '../../protocol/index.js';
import { FramedMessage } from '../rooms/framed-message.js';
import type { ConnectionLimits } from '../rooms/connection.js';
import type { RoomName } from '../store/store.js';
import type { Project } from '../trust/project.js';
import type { Identity } from '../trust/token-verifier.js';
import type { BayeuxMember, BayeuxOutlet } from './bayeux-member.js';
import type { BayeuxWatcher } from './bayeux-watcher.js';

/** A `/meta/connect` waiting for messages or its timeout. */
interface HeldConnect {
  reply: object;
  /** Answered over HTTP: queued messages go in the same response. Over WebSocket they went already. */
  http: boolean;
  resolve: (parts: string[]) => void;
  timer: NodeJS.Timeout;
}

/**
 * One Bayeux client id: its rooms (a {@link BayeuxMember} each), where its messages go (its
 * WebSocket, or a queue the next long-poll `/meta/connect` takes), the held connect, its rate
 * limit and the token it shook hands with. It expires when no connect comes for a while.
 */
export class BayeuxSession implements BayeuxOutlet {
  readonly members = new Map<RoomName, BayeuxMember>();
  /** Its wildcard channels, by project. */
  readonly watchers = new Map<string, BayeuxWatcher>();
  /** When the client was last heard from (a held connect counts as heard). */
  lastSeen = performance.now();
  closed = false;
  private ws: WebSocket | undefined;
  private outbox: Buffer[] = [];
  private batch: FramedMessage[] = [];
  private batchTimer: NodeJS.Immediate | undefined;
  private outboxBytes = 0;
  private held: HeldConnect | undefined;
  private flushing: NodeJS.Immediate | undefined;
  private readonly bucket: TokenBucket;
  private cached: { key: string; identity: Identity } | undefined;

  constructor(
    /** The Bayeux client id. */
    readonly id: string,
    /** The `client_id` its records carry. */
    readonly recordClientId: string,
    /** The handshake's token, used by messages that carry none. */
    readonly token: string | undefined,
    readonly ip: string,
    private readonly limits: ConnectionLimits,
    private readonly timeoutMs: number,
    /** Called when the client reads too slowly: the server ends the session. */
    private readonly onOverflow: (session: BayeuxSession) => void,
  ) {
    this.bucket = new TokenBucket(limits.ratePerSecond, limits.rateBurst);
  }

  /** Channels held: by name in rooms, and wildcards. */
  get subscriptions(): number {
    let total = 0;
    for (const m of this.members.values()) total += m.size;
    for (const w of this.watchers.values()) total += w.size;
    return total;
  }

  /** The identities its subscriptions were made with (their expiry ends the session's subscriptions). */
  *identities(): Iterable<Identity> {
    for (const m of this.members.values()) yield m.identity;
    for (const w of this.watchers.values()) yield w.identity;
  }

  /** Takes a rate-limit token (subscribes and publishes). */
  admit(): boolean {
    return this.bucket.take();
  }

  /**
   * Whether the client is there even if silent: a connect is waiting, or its WebSocket is open
   * (the heartbeat cuts a socket whose peer is gone; a client far behind in reading its
   * messages may be late with its next connect, and is not dropped for it).
   */
  get present(): boolean {
    return this.held !== undefined || this.ws?.readyState === 1;
  }

  /** The identity of `token` (or the handshake's) in `project`, verified once per token and project. */
  async identityFor(project: Project, token: string | undefined): Promise<Identity> {
    const t = token ?? this.token;
    const key = `${project.id}\0${t ?? ''}`;
    const c = this.cached;
    if (c && c.key === key && (c.identity.exp === undefined || c.identity.exp * 1000 > Date.now())) return c.identity;
    const identity = await project.identify(t);
    this.cached = { key, identity };
    return identity;
  }

  /** Messages go to this socket from now on (and what was queued, first). */
  attach(ws: WebSocket): void {
    if (this.ws === ws) return;
    this.ws = ws;
    const queued = this.drain();
    if (queued.length > 0) ws.send(`[${queued.join(',')}]`);
  }

  /** The socket closed: messages queue for the next connect. */
  detach(ws: WebSocket): void {
    if (this.ws !== ws) return;
    this.ws = undefined;
    this.lastSeen = performance.now();
    clearImmediate(this.batchTimer);
    this.flushBatch();
    if (this.held && !this.held.http) this.release();
  }

  deliver(message: FramedMessage): void {
    if (this.closed) return;
    const ws = this.ws;
    if (ws && ws.readyState === 1) {
      // The messages of one event-loop turn go out as one array in one frame: one write, and one
      // event and parse for the client, instead of one per message.
      this.batch.push(message);
      this.batchTimer ??= setImmediate(this.flushBatch);
      return;
    }
    this.queue(message);
  }

  private readonly flushBatch = (): void => {
    this.batchTimer = undefined;
    const batch = this.batch;
    this.batch = [];
    const ws = this.ws;
    if (this.closed) return;
    if (!ws || ws.readyState !== 1) return batch.forEach((m) => this.queue(m));
    const framed = batch.length === 1 ? batch[0]! : new FramedMessage(joinArrays(batch));
    if (ws.bufferedAmount + framed.frame.length > this.limits.maxBufferedBytes) return this.onOverflow(this);
    framed.writeTo(ws);
  };

  private queue(message: FramedMessage): void {
    // Without its brackets: a long-poll answer joins several into one array.
    this.outbox.push(message.payload.subarray(1, message.payload.length - 1));
    this.outboxBytes += message.payload.length;
    if (this.outboxBytes > this.limits.maxBufferedBytes) return this.onOverflow(this);
    if (this.held?.http && !this.flushing) this.flushing = setImmediate(() => this.release());
  }

  /**
   * A `/meta/connect`: answered at once over HTTP when messages are queued, else held until one
   * comes or `holdMs` (the client's `advice.timeout`, at most `timeoutMs`) passes. Faye asks for
   * 0 when the connect shares a request with other messages, so their replies are not held. Resolves with the reply and (HTTP) the queued messages, as JSON texts.
   */
  connect(reply: object, http: boolean, holdMs = this.timeoutMs, signal?: AbortSignal): Promise<string[]> {
    this.release();
    this.lastSeen = performance.now();
    if (holdMs <= 0 || (http && this.outbox.length > 0)) return Promise.resolve([JSON.stringify(reply), ...(http ? this.drain() : [])]);
    return new Promise((resolve) => {
      const held: HeldConnect = { reply, http, resolve, timer: setTimeout(() => this.release(), Math.min(holdMs, this.timeoutMs)) };
      this.held = held;
      // The long-poll went away unanswered: what is queued stays for the next one.
      signal?.addEventListener('abort', () => this.abandon(held), { once: true });
    });
  }

  private abandon(held: HeldConnect): void {
    if (this.held !== held) return;
    this.held = undefined;
    clearTimeout(held.timer);
    this.lastSeen = performance.now();
    held.resolve([]);
  }

  /** Answers the held connect, if any (with `reply` instead of its own when given). */
  release(reply?: object): void {
    clearImmediate(this.flushing);
    this.flushing = undefined;
    const held = this.held;
    if (!held) return;
    this.held = undefined;
    clearTimeout(held.timer);
    this.lastSeen = performance.now();
    held.resolve([JSON.stringify(reply ?? held.reply), ...(held.http ? this.drain() : [])]);
  }

  /** Ends the session: leaves its rooms, answers its held connect with `reply`. */
  close(reply?: object): void {
    if (this.closed) return;
    this.closed = true;
    clearImmediate(this.batchTimer);
    this.batch = [];
    for (const member of this.members.values()) member.leave();
    this.release(reply);
    this.outbox = [];
  }

  private drain(): string[] {
    const parts = this.outbox.map((b) => b.toString('utf8'));
    this.outbox = [];
    this.outboxBytes = 0;
    return parts;
  }
}

/** Bayeux message arrays (`[…]` each) joined into one array. */
function joinArrays(arrays: FramedMessage[]): Buffer {
  const parts: Buffer[] = [];
  for (const a of arrays) parts.push(parts.length === 0 ? LEFT : COMMA, a.payload.subarray(1, a.payload.length - 1));
  parts.push(RIGHT);
  return Buffer.concat(parts);
}

const LEFT = Buffer.from('[');
const COMMA = Buffer.from(',');
const RIGHT = Buffer.from(']');

import type { WebSocket } from 'ws';
import { CloseCode, type ErrorCode, type ServerFrame } from '../../protocol/index.js';
import { FramedMessage } from './framed-message.js';
import type { Room } from './room.js';
import type { RoomRef } from '../trust/signed-rooms.js';
import type { Identity } from '../trust/token-verifier.js';
import { TokenBucket } from '../../protocol/index.js';

/** Limits that apply to every connection. */
export interface ConnectionLimits {
  /** Bytes the server may buffer for one slow reader before closing it with 4009. */
  maxBufferedBytes: number;
  /** Frames per second a connection may send, sustained. */
  ratePerSecond: number;
  /** Frames a connection may send in a burst. */
  rateBurst: number;
}

/** How long a closing slow consumer gets to take its close frame before it is cut off. */
const CLOSE_GRACE_MS = 1_000;

/**
 * One client's connection to one room: identity from the URL and token, the send path with the
 * slow-consumer cap, the rate limit, and the catch-up hold (live records wait while the replay
 * is sent, then only those newer than the replay go out).
 */
export class Connection {
  /** Set by the heartbeat; cleared when a ping goes out, restored by the pong. */
  alive = true;
  /** Whether this connection has been told the room's count. */
  presenceSent = false;
  private held: Array<[id: number, frame: FramedMessage | string, ack: boolean]> | undefined;
  private floor = 0;
  /** Made on the first frame: most connections mostly listen. */
  private bucket: TokenBucket | undefined;
  private dropped = 0;
  private closeTimer: NodeJS.Timeout | undefined;
  /** The project of the room (shared rate limits count per project). */
  readonly project: string;

  constructor(
    readonly ws: WebSocket,
    readonly clientId: string,
    /** Who the token (or its absence) says this is; replaced by a `refresh`. */
    public identity: Identity,
    /** The client's address as limits count it (an IPv6 /64 is one). */
    readonly ip: string,
    private readonly limits: ConnectionLimits,
    /** The room it joined. */
    readonly room: Room,
    /** The room's name as the client asked for it (permissions are checked against it). */
    readonly roomName: RoomRef,
  ) {
    this.project = room.name.slice(0, room.name.indexOf('/'));
  }

  /** The verified username records carry, or null. */
  get username(): string | null {
    return this.identity.username;
  }

  /** Whether the connection's token has expired (checked on every frame and heartbeat). */
  get expired(): boolean {
    return this.identity.exp !== undefined && this.identity.exp * 1000 <= Date.now();
  }

  /** The socket closed: nothing of this connection may keep running. */
  dispose(): void {
    clearTimeout(this.closeTimer);
  }

  /** Whether the socket can still take frames. */
  get open(): boolean {
    return this.ws.readyState === 1;
  }

  /**
   * Sends a frame: an object, JSON text, or a message framed once for a broadcast. The frame
   * itself counts against the buffer cap, so one huge frame to a reader that stopped reading
   * cannot get past it.
   */
  send(frame: ServerFrame | FramedMessage | Buffer | string): void {
    if (!this.open) return;
    const data = typeof frame === 'string' || Buffer.isBuffer(frame) || 'writeTo' in frame ? frame : JSON.stringify(frame);
    const size = typeof data === 'string' || Buffer.isBuffer(data) ? data.length : data.frame.length;
    if (this.ws.bufferedAmount + size > this.limits.maxBufferedBytes) {
      this.close(CloseCode.SlowConsumer, 'slow consumer: send buffer over limit');
      return;
    }
    // Framed here into one buffer, one write: ws's own send writes header and payload with cork
    // and writev, which cost more than the copy for the small frames (acks) that go this way.
    const framed = typeof data === 'string' || Buffer.isBuffer(data) ? new FramedMessage(data) : data;
    framed.writeTo(this.ws);
  }

  /** Sends an error frame naming the request it answers. */
  sendError(code: ErrorCode, message: string, ref: { cid?: string; rid?: string } = {}): void {
    this.send({ type: 'err', code, message, ...ref });
  }

  /** Sends a record frame, holding it during catch-up and skipping what the replay already sent. */
  sendRecord(id: number, frame: FramedMessage): void {
    if (this.held) this.held.push([id, frame, false]);
    else if (id > this.floor) this.send(frame);
  }

  /**
   * Sends the publisher's ack of record `id`, in order with the records: held during catch-up
   * like them, so the client never sees a newer id before the replay of older ones (its resume
   * cursor would skip them). Acks are never dropped: the client needs each to settle a publish.
   */
  sendAck(id: number, text: string): void {
    if (this.held) this.held.push([id, text, true]);
    else this.send(text);
  }

  /** Starts holding live records while a replay is sent. */
  hold(): void {
    this.held = [];
  }

  /** Ends the hold: live records newer than `floor` (the newest replayed id) go out in order. */
  release(floor: number): void {
    const held = this.held ?? [];
    this.held = undefined;
    this.floor = floor;
    for (const [id, frame, ack] of held) if (ack || id > floor) this.send(frame);
  }

  /**
   * Takes a rate-limit token from this connection's bucket, then from the `shared` ones (its
   * address's and project's). After `rateBurst` frames dropped in a row, closes with 4008.
   */
  admit(shared: (conn: Connection) => boolean = () => true): boolean {
    this.bucket ??= new TokenBucket(this.limits.ratePerSecond, this.limits.rateBurst);
    if (this.bucket.take() && shared(this)) {
      this.dropped = 0;
      return true;
    }
    if (++this.dropped > this.limits.rateBurst) this.close(CloseCode.RateLimited, 'rate limit exceeded');
    return false;
  }

  /** Closes with a code; a peer that does not read its close frame is cut off after a grace. */
  close(code: number, reason: string): void {
    if (this.ws.readyState > 1) return;
    this.ws.close(code, reason);
    this.closeTimer = setTimeout(() => this.ws.terminate(), CLOSE_GRACE_MS);
    this.closeTimer.unref();
  }
}

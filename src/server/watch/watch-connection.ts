import type { WebSocket } from 'ws';
import { CloseCode, TokenBucket, type ErrorCode, type WatchServerFrame } from '../../protocol/index.js';
import type { Rate } from '../limits/limiter.js';

/** Bytes waiting for one page past which it is closed (4009): a reader that stopped reading. */
const MAX_BUFFERED = 4 * 1024 * 1024;

/** One page's connection to the watch endpoint of a project. */
export class WatchConnection {
  /** Set by any frame or pong; the heartbeat clears it. */
  alive = true;
  /** Sessions this connection is in: session key → participant id. */
  readonly sessions = new Map<string, string>();
  private readonly frames: TokenBucket;
  private readonly controls: TokenBucket;

  constructor(
    readonly ws: WebSocket,
    readonly project: string,
    /** The user: the token's `sub`, or the anonymous browser's client id. */
    readonly uid: string,
    /** The token's display name, which the client cannot change. */
    readonly tokenName: string | null,
    readonly ip: string,
    rates: { frames: Rate; controls: Rate },
  ) {
    this.frames = new TokenBucket(rates.frames.perSecond, rates.frames.burst);
    this.controls = new TokenBucket(rates.controls.perSecond, rates.controls.burst);
  }

  /** Whether the socket can still be written to. */
  get open(): boolean {
    return this.ws.readyState === this.ws.OPEN;
  }

  /** Whether one more frame fits this connection's rate. */
  admitFrame(): boolean {
    return this.frames.take();
  }

  /** Whether one more playback command fits (seek floods are cut here, per participant page). */
  admitControl(): boolean {
    return this.controls.take();
  }

  /** Sends a frame; a page with more than 4 MiB waiting is closed instead (4009). */
  send(frame: WatchServerFrame): void {
    if (!this.open) return;
    if (this.ws.bufferedAmount > MAX_BUFFERED) return this.ws.close(CloseCode.SlowConsumer, 'slow consumer');
    this.ws.send(JSON.stringify(frame));
  }

  /** Sends an `err` frame naming the request or session it answers. */
  sendError(code: ErrorCode, message: string, ref: { rid?: string; sid?: string } = {}): void {
    this.send({ type: 'err', code, message, ...ref });
  }
}

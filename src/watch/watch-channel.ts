import { CloseCode, ErrorCode, FATAL_CLOSE_CODES, VidgetError, type WatchClientFrame, type WatchServerFrame } from '../protocol/index.js';
import { clientKey } from '../socket/client-id.js';
import { randomId } from '../socket/random-id.js';
import { WatchStateEvent, type WatchState } from './watch-events.js';

/** Where a page's watch connection goes and as whom. */
export interface WatchChannelOptions {
  /** The Vidget server, `ws://host:port` (or `host:port`). */
  server: string;
  project: string;
  token?: string;
}

/** Frames that expect one answer by `rid`. */
type Request = Extract<WatchClientFrame, { rid: string }>;
/** A request without its `rid` (added by the channel), for each kind. */
type Unsent<R> = R extends Request ? Omit<R, 'rid'> : never;
/** What answers a request. */
type Answer = Extract<WatchServerFrame, { rid: string }>;

/** Reconnect backoff: 100 ms doubling to 5 s, with jitter. */
const backoff = (attempt: number): number => Math.min(5_000, 100 * 2 ** attempt) * (0.75 + Math.random() / 2);
/** How long a request waits for its answer. */
const REQUEST_MS = 10_000;

/**
 * The page's connection to the watch endpoint (`/watch/<project>`): one reconnecting WebSocket
 * with an explicit lifecycle (`stopped → starting → running ⇄ reconnecting`, `paused` while
 * the page is hidden unless kept alive, `failed` on a fatal close), frames out and in, and
 * requests answered by `rid`. It is the seam watch together sits on: moving onto the player's
 * project connection replaces this class, not the sessions.
 */
export class WatchChannel extends EventTarget {
  state: WatchState = 'stopped';
  /** This page's user id as the server knows it (after `hello`). */
  uid = '';
  /** From `hello`: the ICE servers, the mesh limit and the grace period of the server. */
  hello: Extract<WatchServerFrame, { type: 'hello' }> | undefined;
  /** Close the connection after the page has been hidden this long, unless `keepAlive()` says no. */
  pauseAfterHiddenMs = 30_000;
  /** Asked before pausing in the background: true keeps the connection (a call in progress). */
  keepAlive: () => boolean = () => false;
  private ws: WebSocket | undefined;
  private attempt = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private hiddenTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly pending = new Map<string, { resolve: (f: Answer) => void; reject: (e: VidgetError) => void; timer: ReturnType<typeof setTimeout> }>();
  private readonly teardown = new AbortController();

  constructor(private readonly options: WatchChannelOptions) {
    super();
    document.addEventListener('visibilitychange', () => this.onVisibility(), { signal: this.teardown.signal });
  }

  /** Connects (once); resolves when the server said `hello`. */
  start(): Promise<void> {
    if (this.state === 'stopped') {
      this.setState('starting');
      void this.connect();
    }
    return this.ready();
  }

  /** Resolves the next time the channel is running; rejects if it fails or stops first. */
  ready(): Promise<void> {
    if (this.state === 'running') return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.state === 'running') resolve();
        else if (this.state === 'failed' || this.state === 'stopped') reject(new VidgetError(ErrorCode.Closed, `the watch connection is ${this.state}`));
        else return;
        this.removeEventListener('statechange', check);
      };
      this.addEventListener('statechange', check);
    });
  }

  /** Sends a frame if connected; false when it could not go (it is not queued: state is re-sent on reconnect). */
  send(frame: WatchClientFrame): boolean {
    if (this.state !== 'running' || this.ws?.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  /** Sends a request and resolves with its answer; rejects with the server's error (`session_not_found`, …). */
  async request<T extends Answer>(frame: Unsent<Request>): Promise<T> {
    await this.ready();
    const rid = randomId().slice(0, 16);
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => this.settle(rid, new VidgetError(ErrorCode.Timeout, 'no answer from the watch server')), REQUEST_MS);
      this.pending.set(rid, { resolve: resolve as (f: Answer) => void, reject, timer });
      if (!this.send({ ...frame, rid } as Request)) this.settle(rid, new VidgetError(ErrorCode.Closed, 'the watch connection dropped'));
    });
  }

  /** Closes for good. */
  stop(): void {
    this.teardown.abort();
    clearTimeout(this.retryTimer);
    clearTimeout(this.hiddenTimer);
    for (const rid of [...this.pending.keys()]) this.settle(rid, new VidgetError(ErrorCode.Closed, 'the watch connection was stopped'));
    this.ws?.close(CloseCode.Normal, 'stopped');
    this.ws = undefined;
    this.setState('stopped');
  }

  private async connect(): Promise<void> {
    const { key } = await clientKey('watch');
    if (this.state === 'stopped' || this.state === 'paused') return;
    const server = /^wss?:\/\//.test(this.options.server) ? this.options.server : `ws://${this.options.server}`;
    const url = new URL(`/watch/${encodeURIComponent(this.options.project)}`, server);
    url.searchParams.set('_pk', key);
    if (this.options.token) url.searchParams.set('token', this.options.token);
    const ws = new WebSocket(url);
    this.ws = ws;
    ws.onmessage = (e) => this.onFrame(JSON.parse(e.data as string) as WatchServerFrame);
    ws.onclose = (e) => this.onClose(ws, e);
  }

  private onFrame(frame: WatchServerFrame): void {
    if (frame.type === 'hello') {
      this.attempt = 0;
      this.uid = frame.uid;
      this.hello = frame;
      this.setState('running');
    }
    if ('rid' in frame && frame.rid && this.pending.has(frame.rid)) {
      if (frame.type === 'err') this.settle(frame.rid, new VidgetError(frame.code, frame.message));
      else this.settle(frame.rid, frame);
    }
    this.dispatchEvent(new CustomEvent<WatchServerFrame>('frame', { detail: frame }));
  }

  private settle(rid: string, outcome: Answer | VidgetError): void {
    const waiting = this.pending.get(rid);
    if (!waiting) return;
    clearTimeout(waiting.timer);
    this.pending.delete(rid);
    if (outcome instanceof VidgetError) waiting.reject(outcome);
    else waiting.resolve(outcome);
  }

  private onClose(ws: WebSocket, event: CloseEvent): void {
    if (ws !== this.ws) return;
    this.ws = undefined;
    for (const rid of [...this.pending.keys()]) this.settle(rid, new VidgetError(ErrorCode.Closed, 'the watch connection dropped'));
    if (this.state === 'stopped' || this.state === 'paused') return;
    if (FATAL_CLOSE_CODES.has(event.code)) {
      this.setState('failed', event.code, event.reason);
      return;
    }
    this.setState(this.state === 'starting' ? 'starting' : 'reconnecting', event.code, event.reason);
    this.retryTimer = setTimeout(() => void this.connect(), backoff(this.attempt++));
  }

  private onVisibility(): void {
    clearTimeout(this.hiddenTimer);
    if (document.visibilityState === 'hidden') {
      this.hiddenTimer = setTimeout(() => this.pause(), this.pauseAfterHiddenMs);
    } else if (this.state === 'paused') {
      this.setState('reconnecting', CloseCode.Normal, 'page visible');
      void this.connect();
    }
  }

  /** Background: the connection closes (the server keeps this page's places for the grace period), unless a call is in progress. */
  private pause(): void {
    if (this.keepAlive() || (this.state !== 'running' && this.state !== 'reconnecting')) return;
    clearTimeout(this.retryTimer);
    this.setState('paused', CloseCode.Normal, 'page hidden');
    this.ws?.close(CloseCode.Normal, 'paused: page hidden');
    this.ws = undefined;
  }

  private setState(state: WatchState, code?: number, reason?: string): void {
    if (state === this.state) return;
    const previous = this.state;
    this.state = state;
    this.dispatchEvent(new WatchStateEvent(state, previous, code, reason));
  }
}

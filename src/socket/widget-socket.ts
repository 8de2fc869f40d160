import type { PartySocket } from 'partysocket';
// Straight from the modules, not the protocol barrel: the barrel would pull the query validator
// into the core bundle; it comes with the transport (see `start`).
import { CloseCode, ErrorCode, FATAL_CLOSE_CODES, VidgetError } from '../protocol/errors.js';
import { PROTOCOL_VERSION, type ServerFrame, type ServerLimits } from '../protocol/frames.js';
import { isValidName, isValidRoom, parseInterval } from '../protocol/names.js';
import type { SearchGroup, SearchQuery } from '../protocol/query.js';
import type { Json, VidgetRecord } from '../protocol/record.js';
import { TokenBucket } from '../protocol/token-bucket.js';
import { vidgetStore } from './idb-store.js';
import type { OfflineQueue } from './offline-queue.js';
import { randomId } from './random-id.js';
import { CountEvent, DeleteEvent, RecordEvent, SocketCloseEvent, SocketErrorEvent, StateChangeEvent, SyncedEvent, type SocketState, type WidgetSocketEventMap } from './socket-events.js';

/** Options of {@link WidgetSocket}. */
/** Records per search page of a gap fill (the server's most). */
const PAGE = 1000;

export interface WidgetSocketOptions {
  /** The Vidget server: `localhost:8787`, `ws://host:port` or `wss://host`. */
  host: string;
  project: string;
  /** The room: a widget id, optionally signed by the site (`show~<signature>`, see signed rooms) and followed by sub-rooms (`show~<signature>/promoted`). */
  widgetId: string;
  /** Store every publish on the server (and queue it in IndexedDB until acked). Default false. */
  persistent?: boolean;
  /** On the first connect, replay records of this interval (`30s`, `15m`, `6h`). */
  catchup?: string;
  /**
   * Most records a reconnect reads by search when it was away longer than the server replays
   * (its newest 1,000): the older ones come first, in order, as replayed records; past it,
   * `synced` says `recovered: false`. 0 turns this off. Default 10,000.
   */
  maxFill?: number;
  /** A token from the server's token endpoint (sets `username`). */
  token?: string;
  /** Called before every (re)connect for a fresh token; takes precedence over `token`. */
  getToken?: () => string | Promise<string>;
  /** Stay connected while the page is hidden. Default false. */
  keepAliveInBackground?: boolean;
  /** How long the page may be hidden before the socket pauses. Default 30000 ms. */
  pauseAfterHiddenMs?: number;
  /** Most persistent publishes waiting in the offline queue. Default 1000. */
  maxQueued?: number;
  /** How long an ephemeral publish may wait for a connection before it is dropped. Default 5000 ms. */
  ephemeralTtlMs?: number;
  /** How long a search waits for its answer. Default 15000 ms. */
  searchTimeoutMs?: number;
  /** First reconnect delay; each socket draws its own between 0.5× and 1.5× of it. Default 1000 ms. */
  reconnectDelayMs?: number;
  /**
   * The IndexedDB database for this socket's client id and outbox (default `vidget`). Each
   * database is a separate viewer: a page hosting several independent viewers (a kiosk, a test
   * harness) gives each its own.
   */
  database?: string;
  /** A WebSocket class, where the platform has none (Node: `WebSocket` from `ws`). */
  WebSocket?: unknown;
}

/** The answer to a search. */
export interface SearchResponse {
  records: VidgetRecord[];
  total: number;
  /** `total` is a lower bound: the store stopped counting there (PostgreSQL, past 10,000 matches). */
  totalExact?: false;
  groups?: SearchGroup[];
  /** More groups exist than were sent. */
  groupsTruncated?: true;
  /** More records may follow: pass it as `query.after` for the next page. */
  next?: number;
  /** The page stopped at the server's byte cap before `limit`; `next` continues it. */
  truncated?: true;
}

/** Cinema8's search call: the query plus optional callbacks (the Promise works as well). */
export interface SearchCall {
  query: SearchQuery;
  success?: (result: SearchResponse) => void;
  error?: (error: VidgetError) => void;
}

/** A publish that has not been acked yet. */
interface Outgoing {
  cid: string;
  data: Json;
  persist: boolean;
  resolve?: (record: VidgetRecord) => void;
  reject?: (error: VidgetError) => void;
  expiry?: ReturnType<typeof setTimeout>;
}

/** A request waiting for its answer by `rid`: a search (`result`) or a moderator's delete (`deleted`). */
interface PendingSearch {
  text: string;
  sent: boolean;
  /** Resolved with the answer of its own kind. */
  resolve: (result: never) => void;
  reject: (error: VidgetError) => void;
  timer: ReturnType<typeof setTimeout>;
}

type Hook<E> = ((event: E) => void) | null;

/** partysocket, the outbox and the query validator, loaded with the first socket so pages without sockets do not carry them. */
let transport: Promise<typeof import('./transport.js')> | undefined;

const CONNECTED: ReadonlySet<SocketState> = new Set(['starting', 'running', 'reconnecting', 'resuming']);
/** Publishes in flight at once (sent, not yet acked). */
const WINDOW = 64;
/** Leave headroom under the server's announced rate so pacing never trips its limit. */
const PACE = 0.9;

/**
 * A widget's connection to its room: the Cinema8 WebSocket API on a reconnecting partysocket,
 * with an IndexedDB outbox for persistent publishes, catch-up on every reconnect, and one
 * explicit lifecycle: `stopped → starting → running ⇄ reconnecting`, `running → paused`
 * while the page is hidden `→ resuming → running`, and `failed` for fatal errors.
 *
 * ```js
 * const socket = new WidgetSocket({ host, project, widgetId, persistent: true });
 * socket.onMessage = (message) => console.log(message.data);
 * socket.publish({ msg: 'Hi', user: 'John' });
 * ```
 */
export class WidgetSocket extends EventTarget {
  /** Called when a connection is open and accepted (each time). */
  onOpen: Hook<Event> = null;
  /** Called for every record: `message.data` is `{ id, client_id, created, username, data }`. */
  onMessage: Hook<RecordEvent> = null;
  /** Called when the room's connection count changes: `message.data` is the count. */
  onActiveConnectionsChange: Hook<CountEvent> = null;
  /**
   * Called once for each open connection that ends: dropped (it reconnects; see `state`), paused,
   * or closed by `close()`. Not for connection attempts that never opened.
   */
  onClose: Hook<SocketCloseEvent> = null;
  /**
   * Called with a `VidgetError` on failures that no Promise reports: the socket failing for good,
   * and a connection that drops or cannot be made (`unavailable`, once until it is open again).
   */
  onError: ((error: VidgetError) => void) | null = null;
  /** Called when records were taken down (a moderator, the site's backend): `event.ids`. */
  onDelete: Hook<DeleteEvent> = null;

  /** The lifecycle state. */
  state: SocketState = 'stopped';
  /** The public, stable id of this widget instance in this browser (records' `client_id`), once the server has said it. */
  clientId: string | undefined;
  /** The secret the server derives `clientId` from; never shown to others. */
  private clientKey: string | undefined;
  /** The username the server verified from the token, or null. */
  username: string | null = null;
  /** The last connection count received. */
  activeConnections = 0;
  /** Resolves when the client id and the offline queue are loaded. */
  readonly ready: Promise<void>;

  private readonly options: WidgetSocketOptions;
  /** The outbox, once the transport has loaded. */
  private queue: OfflineQueue | undefined;
  private ws: PartySocket | undefined;
  private transport: typeof PartySocket | undefined;
  private readonly outgoing = new Map<string, Outgoing>();
  private sendQueue: Outgoing[] = [];
  private sendHead = 0;
  private inFlight = 0;
  private pace: TokenBucket | undefined;
  private paceTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly searches = new Map<string, PendingSearch>();
  private cursor: { since?: number; epoch?: string } = {};
  private replaying = false;
  /**
   * Record and ack frames held while a connection catches up (the replay, then a gap fill), so
   * they come out after the filled records, in order.
   */
  private held: Array<Extract<ServerFrame, { type: 'msg' | 'ack' }>> | undefined;
  /** The cursor the current connection resumed from, and its number (a fill stops when it changes). */
  private resumed: { since?: number; epoch?: string; connection: number } = { connection: 0 };
  private hiddenTimer: ReturnType<typeof setTimeout> | undefined;
  private failure: VidgetError | undefined;
  /** A connection is open (accepted with `hello`) and has not ended yet: it owes one `close`. */
  private open = false;
  /** The token the current connection was opened (or refreshed) with. */
  private token: string | undefined;
  private refreshTimer: ReturnType<typeof setTimeout> | undefined;
  /** The drop or failed connect since the last open was reported on `onError`. */
  private dropReported = false;
  private readonly teardown = new AbortController();
  private wsListeners: AbortController | undefined;

  constructor(options: WidgetSocketOptions) {
    super();
    if (!isValidName(options.project) || !isValidRoom(options.widgetId)) {
      throw new VidgetError(ErrorCode.BadFrame, 'project must be 1-64 of A-Z a-z 0-9 _ -, widgetId a room name (that, optionally ~signature and /sub-rooms)');
    }
    if (options.catchup !== undefined) parseInterval(options.catchup);
    this.options = options;
    // Open (or create) the database now, not when the transport has loaded: other code of the
    // page that opens it meanwhile would otherwise create it without its object store.
    vidgetStore(options.database);
    this.setState('starting');
    this.ready = this.start();
    this.ready.catch(() => {});
  }

  /** Whether publishes are stored by the server. */
  get persistent(): boolean {
    return this.options.persistent === true;
  }

  /** Persistent publishes waiting for the server's ack (queued offline or in flight). */
  get queued(): number {
    return this.queue?.size ?? 0;
  }

  /**
   * Publishes `data` to the room. Resolves with the record once the server acks it (stored first,
   * if persistent). Persistent publishes wait in IndexedDB while offline and survive a reload;
   * ephemeral ones wait `ephemeralTtlMs` in memory, then reject with `expired`. Safe to call and
   * forget: a failure also reaches `onError`.
   */
  publish(data: Json): Promise<VidgetRecord> {
    const result = this.enqueue(data);
    // Closing the socket rejects what waits with `closed`: expected, so not an error event.
    result.catch((error: VidgetError) => error.code !== ErrorCode.Closed && this.reportError(error));
    return result;
  }

  /**
   * Searches the room's persisted records (see the README for the query). Calls `success` or
   * `error` as in Cinema8's API and returns the same answer as a Promise.
   */
  search(call: SearchCall): Promise<SearchResponse> {
    const result = this.request(call.query);
    result
      .then(
        (answer) => call.success?.(answer),
        (error: VidgetError) => call.error?.(error),
      )
      .catch((error: unknown) => console.error('vidget: a search callback threw', error));
    return result;
  }

  /**
   * Takes a record down for everyone (needs the `moderate` permission in the token): resolves
   * with the ids removed once the server has; every socket of the room gets a `delete` event.
   */
  remove(id: number): Promise<number[]> {
    return this.ask<number[]>((rid) => ({ type: 'delete', rid, id }), 'delete');
  }

  /** Closes the socket for good. Persistent publishes not yet acked stay queued for the next page load. */
  close(): void {
    if (this.state === 'stopped') return;
    this.teardown.abort();
    this.wsListeners?.abort();
    clearTimeout(this.hiddenTimer);
    clearTimeout(this.paceTimer);
    clearTimeout(this.refreshTimer);
    this.ws?.close(1000, 'closed by the widget');
    // Its listeners are gone, so the connection's end is reported here, as the author closed it.
    this.ended(1000, 'closed by the widget');
    const closed = new VidgetError(ErrorCode.Closed, 'the socket was closed');
    this.settleAll(closed, 'persistent publishes stay queued and are sent by the next socket of this widget');
    void this.queue?.flushRemovals();
    this.setState('stopped');
  }

  override addEventListener<K extends keyof WidgetSocketEventMap>(type: K, listener: ((event: WidgetSocketEventMap[K]) => void) | null, options?: boolean | AddEventListenerOptions): void;
  override addEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | AddEventListenerOptions): void;
  override addEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | AddEventListenerOptions): void {
    super.addEventListener(type, listener, options);
  }

  override removeEventListener<K extends keyof WidgetSocketEventMap>(type: K, listener: ((event: WidgetSocketEventMap[K]) => void) | null, options?: boolean | EventListenerOptions): void;
  override removeEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | EventListenerOptions): void;
  override removeEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | EventListenerOptions): void {
    super.removeEventListener(type, listener, options);
  }

  // ── lifecycle ──────────────────────────────────────────────────────────────────────────

  private async start(): Promise<void> {
    const room = `${this.options.project}/${this.options.widgetId}`;
    const loaded = await (transport ??= import('./transport.js'));
    this.queue = new loaded.OfflineQueue(room, this.options.maxQueued ?? 1000, this.options.database);
    const [client, queued] = await Promise.all([loaded.clientKey(room, this.options.database), this.queue.load()]);
    this.clientKey = client.key;
    this.clientId ??= client.id;
    this.transport = loaded.PartySocket;
    if (this.state === 'stopped') return;
    // Publishes left by an earlier page (or socket) go first, in their order.
    for (const entry of queued) this.outgoing.set(entry.cid, { cid: entry.cid, data: entry.data, persist: true });
    this.connect();
    const signal = this.teardown.signal;
    if (typeof document !== 'undefined' && typeof window !== 'undefined') {
      document.addEventListener('visibilitychange', () => this.onVisibility(), { signal });
      // Back online: retry now rather than at the end of the backoff (also for a page opened offline).
      window.addEventListener('online', () => (this.state === 'reconnecting' || this.state === 'starting') && this.connect(), { signal });
      if (document.visibilityState === 'hidden') this.onVisibility();
    }
  }

  /**
   * Creates the partysocket (closing any previous one). A fresh instance is also how `online`
   * retries at once: partysocket holds its connect lock through the backoff wait, so its own
   * `reconnect()` cannot cut a wait short.
   */
  private connect(): void {
    this.ended(1000, 'replaced');
    this.wsListeners?.abort();
    this.ws?.close(1000, 'replaced');
    const id = this.clientKey!;
    const base = this.options.reconnectDelayMs ?? 1000;
    const jitter = 0.5 + Math.random(); // partysocket's backoff has none: each socket draws its own
    const host = this.options.host;
    this.ws = new this.transport!({
      host,
      ...(/^(ws|http):\/\//.test(host) ? { protocol: 'ws' as const } : /^(wss|https):\/\//.test(host) ? { protocol: 'wss' as const } : {}),
      party: this.options.project,
      // partysocket puts the room in the path as it is: a sub-room's `/` must be %2F.
      room: encodeURIComponent(this.options.widgetId),
      id,
      query: () => this.connectQuery(),
      minReconnectionDelay: base * jitter,
      maxReconnectionDelay: base * 10 * jitter,
      reconnectionDelayGrowFactor: 1.5,
      // Nothing is ever sent before `hello`, so partysocket's own queue stays empty.
      maxEnqueuedMessages: 0,
      shouldReconnectOnClose: (event: CloseEvent) => !FATAL_CLOSE_CODES.has(event.code) || this.refreshable(event.code),
      ...(this.options.WebSocket ? { WebSocket: this.options.WebSocket as typeof WebSocket } : {}),
    });
    this.wsListeners = new AbortController();
    const { signal } = this.wsListeners;
    this.ws.addEventListener('message', (event) => this.onMessageEvent(event as MessageEvent), { signal });
    this.ws.addEventListener('close', (event) => this.onDrop(event as CloseEvent), { signal });
  }

  /** The URL query for the next (re)connect: token, and the resume cursor or the catch-up interval. */
  private async connectQuery(): Promise<Record<string, string>> {
    const query: Record<string, string> = {};
    try {
      const token = this.options.getToken ? await this.options.getToken() : this.options.token;
      this.token = token || undefined;
      if (token) query.token = token;
    } catch (error) {
      this.fail(new VidgetError(ErrorCode.Unauthorized, `getToken failed: ${(error as Error).message}`));
    }
    if (this.cursor.since !== undefined) {
      query.since = String(this.cursor.since);
      if (this.cursor.epoch) query.epoch = this.cursor.epoch;
    } else if (this.options.catchup) {
      query.catchup = this.options.catchup;
    }
    return query;
  }

  private setState(state: SocketState, code?: number, reason?: string): void {
    if (state === this.state) return;
    const previous = this.state;
    this.state = state;
    this.dispatchEvent(new StateChangeEvent(state, previous, code, reason));
  }

  private onVisibility(): void {
    if (this.options.keepAliveInBackground) return;
    if (document.visibilityState === 'hidden') {
      clearTimeout(this.hiddenTimer);
      this.hiddenTimer = setTimeout(() => {
        if (!CONNECTED.has(this.state)) return;
        this.setState('paused', 1000, 'page hidden');
        this.ws?.close(1000, 'paused: page hidden');
      }, this.options.pauseAfterHiddenMs ?? 30_000);
    } else {
      clearTimeout(this.hiddenTimer);
      if (this.state === 'paused') {
        this.setState('resuming');
        this.ws?.reconnect();
      }
    }
  }

  private onDrop(event: CloseEvent): void {
    this.inFlight = 0;
    clearTimeout(this.paceTimer);
    this.replaying = false;
    this.held = undefined;
    this.resumed.connection++;
    for (const search of this.searches.values()) search.sent = false;
    clearTimeout(this.refreshTimer);
    const wasOpen = this.ended(event.code, event.reason);
    if (FATAL_CLOSE_CODES.has(event.code) && !this.refreshable(event.code)) {
      const code = ({ 4001: ErrorCode.Unauthorized, 4002: ErrorCode.TokenExpired, 4003: ErrorCode.Forbidden } as Record<number, ErrorCode>)[event.code] ?? ErrorCode.BadFrame;
      return this.fail(new VidgetError(code, event.reason || `closed with ${event.code}`), event.code);
    }
    // partysocket retries with backoff; every failed retry closes again: one error per outage.
    if (this.state !== 'paused' && !this.dropReported) {
      this.dropReported = true;
      const why = `${event.code}${event.reason ? ` ${event.reason}` : ''}`;
      this.reportError(new VidgetError(ErrorCode.Unavailable, wasOpen ? `the connection dropped (${why}); reconnecting` : `could not connect (${why}); retrying`));
    }
    if (this.state === 'running' || this.state === 'resuming') this.setState('reconnecting', event.code, event.reason);
  }

  /** An expired token is not fatal to a socket that can get a new one: it reconnects with it. */
  private refreshable(code: number): boolean {
    return code === CloseCode.TokenExpired && this.options.getToken !== undefined;
  }

  /**
   * With `getToken`, a token is replaced over the open connection before it expires (at 80% of
   * its remaining life, at least 30 s before), so nothing is dropped or replayed for it.
   */
  private scheduleRefresh(): void {
    clearTimeout(this.refreshTimer);
    const exp = expiryOf(this.token);
    if (!this.options.getToken || exp === undefined) return;
    const left = exp * 1000 - Date.now();
    this.refreshTimer = setTimeout(() => void this.refresh(), Math.max(1_000, Math.min(left * 0.8, left - 30_000)));
  }

  private async refresh(): Promise<void> {
    try {
      const token = await this.options.getToken!();
      if (this.state !== 'running' || !token) return;
      this.token = token;
      this.ws?.send(JSON.stringify({ type: 'refresh', token }));
    } catch (error) {
      this.reportError(new VidgetError(ErrorCode.Unauthorized, `getToken failed: ${(error as Error).message}`));
    }
  }

  /** Ends the open connection, if one is: fires `close` once. Returns whether one was open. */
  private ended(code: number, reason: string): boolean {
    if (!this.open) return false;
    this.open = false;
    this.emit(new SocketCloseEvent(code, reason), this.onClose);
    return true;
  }

  private fail(error: VidgetError, code?: number): void {
    if (this.state === 'failed' || this.state === 'stopped') return;
    this.failure = error;
    this.ws?.close(1000, 'failed');
    clearTimeout(this.hiddenTimer);
    this.setState('failed', code, error.message);
    this.settleAll(error, error.message);
    this.reportError(error);
  }

  /** Rejects every waiting promise; persistent entries stay in the outbox. */
  private settleAll(error: VidgetError, persistentNote: string): void {
    for (const o of this.outgoing.values()) {
      clearTimeout(o.expiry);
      o.reject?.(o.persist ? new VidgetError(error.code, `${error.message}; ${persistentNote}`) : error);
    }
    this.outgoing.clear();
    this.sendQueue = [];
    this.sendHead = 0;
    for (const s of this.searches.values()) {
      clearTimeout(s.timer);
      s.reject(error);
    }
    this.searches.clear();
  }

  // ── frames ─────────────────────────────────────────────────────────────────────────────

  private onMessageEvent(event: MessageEvent): void {
    let frame: ServerFrame;
    try {
      frame = JSON.parse(String(event.data)) as ServerFrame;
    } catch {
      return this.reportError(new VidgetError(ErrorCode.BadFrame, 'the server sent a frame that is not JSON'));
    }
    this.onFrame(frame);
  }

  private onFrame(frame: ServerFrame): void {
    switch (frame.type) {
      case 'hello':
        if (frame.protocol !== PROTOCOL_VERSION) {
          return this.fail(new VidgetError(ErrorCode.BadFrame, `protocol mismatch: server speaks ${frame.protocol}, this client ${PROTOCOL_VERSION}`));
        }
        this.username = frame.username;
        this.open = true;
        this.dropReported = false;
        if (this.clientId !== frame.client_id) {
          this.clientId = frame.client_id;
          // The transport is loaded: this socket connected with it.
          void transport!.then((t) => t.rememberClientId(`${this.options.project}/${this.options.widgetId}`, frame.client_id, this.options.database));
        }
        this.replaying = true;
        this.held = [];
        this.resumed = { ...this.cursor, connection: this.resumed.connection + 1 };
        this.setState('running');
        this.scheduleRefresh();
        this.startSending(frame.limits);
        this.emit(new Event('open'), this.onOpen);
        return;
      case 'synced':
        return void this.caughtUp(frame);
      case 'msg':
        if (this.held) return void this.held.push(frame);
        if (frame.persisted) {
          if (this.cursor.since !== undefined && frame.record.id <= this.cursor.since) return; // already delivered
          this.cursor.since = frame.record.id;
        }
        this.emit(new RecordEvent(frame.record, frame.own === true, frame.persisted, this.replaying), this.onMessage);
        return;
      case 'ack':
        if (this.held) return void this.held.push(frame);
        return this.onAck(frame);
      case 'presence':
        this.activeConnections = frame.count;
        this.emit(new CountEvent(frame.count), this.onActiveConnectionsChange);
        return;
      case 'result': {
        const search = this.searches.get(frame.rid);
        if (!search) return;
        this.searches.delete(frame.rid);
        clearTimeout(search.timer);
        const { type: _type, rid: _rid, ...response } = frame;
        (search.resolve as (r: SearchResponse) => void)(response);
        return;
      }
      case 'deleted': {
        const request = frame.rid ? this.searches.get(frame.rid) : undefined;
        if (request) {
          this.searches.delete(frame.rid!);
          clearTimeout(request.timer);
          request.resolve(frame.ids as never);
        }
        this.emit(new DeleteEvent(frame.ids), this.onDelete);
        return;
      }
      case 'refreshed':
        return this.scheduleRefresh();
      case 'err':
        return this.onServerError(frame);
    }
  }

  /**
   * The replay is complete. If the server could replay only the newest records (away too long),
   * the ones before them are read by search first; then what was held goes out, in order.
   */
  private async caughtUp(frame: Extract<ServerFrame, { type: 'synced' }>): Promise<void> {
    const { since, epoch, connection } = this.resumed;
    let { recovered, replayed } = frame;
    const first = this.held?.find((f) => f.type === 'msg' && f.persisted)?.record.id ?? (frame.until ?? 0) + 1;
    // A new epoch is a new store: nothing before it can be read back.
    if (!recovered && since !== undefined && epoch === frame.epoch && (this.options.maxFill ?? 10_000) > 0) {
      const filled = await this.fill(since, first, connection);
      if (filled >= 0) {
        recovered = true;
        replayed += filled;
      }
    }
    if (connection !== this.resumed.connection) return; // that connection is gone; the next resumes from the cursor
    const held = this.held ?? [];
    this.held = undefined;
    for (const f of held) this.onFrame(f);
    this.replaying = false;
    this.cursor = { since: Math.max(this.cursor.since ?? 0, frame.until ?? 0), epoch: frame.epoch };
    this.dispatchEvent(new SyncedEvent(replayed, recovered));
  }

  /** Reads the stored records between two ids by pages of 1,000 and delivers them; -1 if it could not read them all. */
  private async fill(after: number, before: number, connection: number): Promise<number> {
    let filled = 0;
    try {
      for (let last = after; filled <= (this.options.maxFill ?? 10_000);) {
        const query: SearchQuery = {
          filters: [
            { field: 'id', operator: '>', value: last },
            { field: 'id', operator: '<', value: before },
          ],
          sortField: 'id',
          limit: PAGE,
        };
        const page = await this.request(query);
        if (connection !== this.resumed.connection) return -1;
        for (const record of page.records) {
          this.cursor.since = last = record.id;
          this.emit(new RecordEvent(record, record.client_id === this.clientId, true, true), this.onMessage);
        }
        filled += page.records.length;
        if (page.records.length < PAGE) return filled;
      }
    } catch {
      // No search permission, or the connection went: the gap stays, and `synced` says so.
    }
    return -1;
  }

  private onAck(frame: Extract<ServerFrame, { type: 'ack' }>): void {
    const o = this.outgoing.get(frame.cid);
    if (o) {
      this.outgoing.delete(frame.cid);
      this.inFlight = Math.max(0, this.inFlight - 1);
      clearTimeout(o.expiry);
      if (o.persist) this.queue!.remove(frame.cid);
      o.resolve?.(frame.record);
    }
    // The publisher's own copy of the record; a duplicate ack repeats one delivered before, and
    // an ack after a catch-up that already replayed the record (it was stored just before the
    // replay read) is not a new delivery either. Acks come in order with the room's records.
    const delivered = frame.persisted && this.cursor.since !== undefined && frame.record.id <= this.cursor.since;
    if (!frame.duplicate && !delivered) {
      if (frame.persisted) this.cursor.since = frame.record.id;
      this.emit(new RecordEvent(frame.record, true, frame.persisted, false), this.onMessage);
    }
    this.pump();
  }

  private onServerError(frame: Extract<ServerFrame, { type: 'err' }>): void {
    const error = new VidgetError(frame.code, frame.message);
    if (frame.rid) {
      const search = this.searches.get(frame.rid);
      if (!search) return;
      if (frame.code === ErrorCode.RateLimited || frame.code === ErrorCode.Unavailable) {
        search.sent = false; // answered by the next pump
        return this.schedulePump(1000);
      }
      this.searches.delete(frame.rid);
      clearTimeout(search.timer);
      return search.reject(error);
    }
    const o = frame.cid ? this.outgoing.get(frame.cid) : undefined;
    if (!o) return this.reportError(error);
    if (frame.code === ErrorCode.RateLimited || frame.code === ErrorCode.Unavailable) {
      // Not accepted: send again, from this one on, after a pause.
      this.resend();
      return this.schedulePump(1000);
    }
    // The server will never accept it (bad_frame, too_large): drop it so the rest can go.
    this.outgoing.delete(o.cid);
    this.inFlight = Math.max(0, this.inFlight - 1);
    if (o.persist) this.queue!.remove(o.cid);
    o.reject?.(error);
    this.pump();
  }

  // ── sending ────────────────────────────────────────────────────────────────────────────

  private async enqueue(data: Json): Promise<VidgetRecord> {
    this.assertUsable();
    let text: string | undefined;
    try {
      text = JSON.stringify(data);
    } catch (error) {
      throw new VidgetError(ErrorCode.BadFrame, `data must be JSON: ${(error as Error).message}`);
    }
    if (text === undefined) throw new VidgetError(ErrorCode.BadFrame, 'data must be JSON');
    await this.ready;
    const cid = randomId();
    const persist = this.persistent;
    this.assertUsable(); // again: the socket may have closed or failed during the await
    if (persist) {
      await this.queue!.add(cid, data);
      // Closed during the write: the entry stays queued for the next socket of this widget.
      this.assertUsable();
    }
    return new Promise<VidgetRecord>((resolve, reject) => {
      const o: Outgoing = { cid, data, persist, resolve, reject };
      if (!persist) {
        o.expiry = setTimeout(() => {
          if (!this.outgoing.delete(cid)) return;
          reject(new VidgetError(ErrorCode.Expired, `not sent within ${this.options.ephemeralTtlMs ?? 5000} ms (offline); ephemeral publishes are dropped`));
        }, this.options.ephemeralTtlMs ?? 5000);
      }
      this.outgoing.set(cid, o);
      this.sendQueue.push(o);
      this.pump();
    });
  }

  private async request(rawQuery: SearchQuery): Promise<SearchResponse> {
    this.assertUsable();
    // It only fails fast what the server refuses anyway, so it comes with the transport.
    const { validateQuery } = await (transport ??= import('./transport.js'));
    validateQuery(rawQuery); // the server checks again; this fails fast with the same message
    return this.ask<SearchResponse>((rid) => ({ type: 'search', rid, query: rawQuery }), 'search');
  }

  /** Sends a request answered by its `rid` (sent again after a reconnect until answered), with a time limit. */
  private ask<T>(frame: (rid: string) => object, what: string): Promise<T> {
    this.assertUsable(); // again: the socket may have closed during a load
    const rid = randomId();
    return new Promise<T>((resolve, reject) => {
      const ms = this.options.searchTimeoutMs ?? 15_000;
      const timer = setTimeout(() => {
        this.searches.delete(rid);
        reject(new VidgetError(ErrorCode.Timeout, `no answer to the ${what} within ${ms} ms`));
      }, ms);
      this.searches.set(rid, { text: JSON.stringify(frame(rid)), sent: false, resolve: resolve as (r: never) => void, reject, timer });
      this.pump();
    });
  }

  private assertUsable(): void {
    if (this.failure) throw this.failure;
    if (this.state === 'stopped') throw new VidgetError(ErrorCode.Closed, 'the socket is closed');
  }

  /** On every accepted connection: everything not acked goes again, in order, paced to the server's limits. */
  private startSending(limits: ServerLimits | undefined): void {
    this.pace = limits ? new TokenBucket(limits.rate * PACE, Math.max(1, Math.floor(limits.burst * PACE))) : undefined;
    this.resend();
    this.pump();
  }

  /** Queues every publish not acked yet to be sent again, in publish order. */
  private resend(): void {
    this.inFlight = 0;
    this.sendQueue = [...this.outgoing.values()];
    this.sendHead = 0;
  }

  private pump(): void {
    if (this.state !== 'running' || !this.ws || this.paceTimer) return;
    for (const search of this.searches.values()) {
      if (search.sent) continue;
      if (!this.admit()) return;
      search.sent = true;
      this.ws.send(search.text);
    }
    while (this.sendHead < this.sendQueue.length && this.inFlight < WINDOW) {
      const o = this.sendQueue[this.sendHead]!;
      if (!this.outgoing.has(o.cid)) {
        this.sendHead++; // acked or expired since it was queued
        continue;
      }
      if (!this.admit()) return;
      this.sendHead++;
      this.inFlight++;
      this.ws.send(JSON.stringify({ type: 'pub', cid: o.cid, data: o.data, persist: o.persist }));
    }
    if (this.sendHead === this.sendQueue.length) {
      this.sendQueue = [];
      this.sendHead = 0;
    }
  }

  /** Takes a pacing token, or schedules the next pump for when one is due. */
  private admit(): boolean {
    if (!this.pace || this.pace.take()) return true;
    this.schedulePump(this.pace.delay());
    return false;
  }

  private schedulePump(ms: number): void {
    clearTimeout(this.paceTimer);
    this.paceTimer = setTimeout(() => {
      this.paceTimer = undefined;
      this.pump();
    }, ms);
  }

  // ── events ─────────────────────────────────────────────────────────────────────────────

  /** Dispatches a DOM event and calls the matching Cinema8-style hook; a throwing hook is logged, not fatal. */
  private emit<E extends Event>(event: E, hook: Hook<E>): void {
    this.dispatchEvent(event);
    if (!hook) return;
    try {
      hook.call(this, event);
    } catch (error) {
      console.error('vidget: a socket hook threw', error);
    }
  }

  private reportError(error: VidgetError): void {
    this.dispatchEvent(new SocketErrorEvent(error));
    try {
      this.onError?.call(this, error);
    } catch (e) {
      console.error('vidget: onError threw', e);
    }
  }
}

/** The `exp` of a JWT (seconds since the epoch), read without verifying it; undefined if it has none. */
function expiryOf(token: string | undefined): number | undefined {
  const payload = token?.split('.')[1];
  if (!payload) return undefined;
  try {
    const exp = (JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/'))) as { exp?: unknown }).exp;
    return typeof exp === 'number' ? exp : undefined;
  } catch {
    return undefined;
  }
}

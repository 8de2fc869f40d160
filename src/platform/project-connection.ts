import { PROJECT_ROOM, type AnalyticsReport, type VideoNotification } from '../protocol/platform.js';
import type { Json } from '../protocol/record.js';
import type { RecordEvent, SocketState } from '../socket/socket-events.js';
import { WidgetSocket } from '../socket/widget-socket.js';

/** Where a project connection goes and as whom. */
export interface ProjectConnectionOptions {
  /** The Vidget server (`ws://host:port`). */
  server: string;
  project: string;
  token?: string;
  /** Options passed to the socket (tests: reconnect delay, database). */
  socket?: { reconnectDelayMs?: number; database?: string; pauseAfterHiddenMs?: number };
}

/** Players per page that report analytics (the server's limit per connection). */
const SLOTS = 8;
/** A state change is sent this soon (reports that follow within it go in the same frame). */
const BATCH_MS = 250;

/**
 * A page's one connection to a project's room `_project` (the player's own connection, shared by
 * every player of the page for that server and project). It is a {@link WidgetSocket}, so it has
 * the widget sockets' lifecycle (`statechange`: `starting → running ⇄ reconnecting`, `paused`
 * while the page is hidden, `failed`), reconnects with backoff and resumes from its cursor: the
 * project's video notifications come out as `video` events, live and, after a drop, those it
 * missed, in order (at most the server's replay, 1,000). Players' analytics go up as ephemeral
 * publishes, batched; none waits on the network; while offline each player's counts are merged
 * into one report, sent on the reconnect.
 *
 * Watch-together control is meant to travel on this connection later, as another kind of
 * report in `_project` that the server's platform answers (see the README).
 */
export class ProjectConnection extends EventTarget {
  readonly socket: WidgetSocket;
  private users = 0;
  private readonly slots: Array<object | undefined> = [];
  private readonly pending = new Map<number, AnalyticsReport>();
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(readonly options: ProjectConnectionOptions) {
    super();
    this.socket = new WidgetSocket({ host: options.server, project: options.project, widgetId: PROJECT_ROOM, maxFill: 0, ...(options.token ? { token: options.token } : {}), ...options.socket });
    this.socket.addEventListener('message', (e) => this.onRecord(e));
    this.socket.addEventListener('statechange', (e) => {
      // Reports held while not connected go as soon as it is.
      if (e.state === 'running') this.flush();
      this.dispatchEvent(new CustomEvent<ConnectionStateDetail>('statechange', { detail: { state: e.state, previous: e.previous, code: e.code, reason: e.reason } }));
    });
    // Failures are the state's to tell (`failed`, `reconnecting`); the page carries on without it.
    this.socket.onError = () => {};
  }

  /** The socket's lifecycle state. */
  get state(): SocketState {
    return this.socket.state;
  }

  /** A player's slot for its reports (undefined past 8 players on a page). */
  takeSlot(owner: object): number | undefined {
    const free = this.slots.findIndex((s) => s === undefined);
    const slot = free >= 0 ? free : this.slots.length < SLOTS ? this.slots.length : undefined;
    if (slot !== undefined) this.slots[slot] = owner;
    return slot;
  }

  /** Frees a slot (its player reported `playing: false` before). */
  freeSlot(slot: number): void {
    this.slots[slot] = undefined;
  }

  /** Queues a player's report; reports of one batch go in one ephemeral publish (held, merged, while not connected). */
  report(report: AnalyticsReport): void {
    const earlier = this.pending.get(report.slot);
    this.pending.set(report.slot, earlier ? merge(earlier, report) : report);
    this.timer ??= setTimeout(() => this.flush(), BATCH_MS);
  }

  /** Counts a user (a player); the connection closes when the last one lets go. */
  hold(): void {
    this.users++;
  }

  /** Lets go; returns whether this was the last user (the connection is then closed). */
  release(): boolean {
    if (--this.users > 0) return false;
    clearTimeout(this.timer);
    this.flush();
    this.socket.close();
    return true;
  }

  /** Sends what is queued; while not connected it stays, one merged report per player (a count, not a log). */
  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.size === 0 || this.socket.state !== 'running') return;
    const batch = [...this.pending.values()];
    this.pending.clear();
    this.socket.publish({ analytics: batch } as unknown as Json).catch(() => {});
  }

  private onRecord(event: RecordEvent): void {
    if (event.own) return; // the acks of this page's own reports
    const n = event.data.data as unknown as VideoNotification;
    if (n && (n.event === 'videoCreated' || n.event === 'videoUpdated' || n.event === 'videoDeleted')) {
      this.dispatchEvent(new CustomEvent('video', { detail: n }));
    }
  }
}

/** Two reports of one slot made one: counts added, the latest state kept. */
function merge(a: AnalyticsReport, b: AnalyticsReport): AnalyticsReport {
  const interactions = { ...a.interactions };
  for (const [id, n] of Object.entries(b.interactions)) interactions[id] = (interactions[id] ?? 0) + n;
  return {
    ...b,
    plays: a.plays + b.plays,
    seeks: a.seeks + b.seeks,
    buffering: a.buffering + b.buffering,
    watched: a.watched + b.watched,
    quartiles: [...new Set([...a.quartiles, ...b.quartiles])],
    interactions,
  };
}

const open = new Map<string, ProjectConnection>();

/** The page's connection to `project` on `server` (opened on first use), held for one more user until `release`. */
export function acquireProjectConnection(options: ProjectConnectionOptions): ProjectConnection {
  const key = `${options.server}|${options.project}`;
  let connection = open.get(key);
  if (!connection) open.set(key, (connection = new ProjectConnection(options)));
  connection.hold();
  return connection;
}

/** Lets go of a connection from {@link acquireProjectConnection}; the last user closes it. */
export function releaseProjectConnection(connection: ProjectConnection): void {
  if (!connection.release()) return;
  const key = `${connection.options.server}|${connection.options.project}`;
  if (open.get(key) === connection) open.delete(key);
}

/** Open project connections on this page (for leak checks). */
export function openProjectConnections(): number {
  return open.size;
}

/** The `statechange` detail of a project connection. */
export type ConnectionStateDetail = { state: SocketState; previous: SocketState; code?: number | undefined; reason?: string | undefined };

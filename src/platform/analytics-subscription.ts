import { ANALYTICS_ROOM, type AnalyticsSnapshot } from '../protocol/platform.js';
import type { SocketState } from '../socket/socket-events.js';
import { WidgetSocket } from '../socket/widget-socket.js';

/** Options of {@link AnalyticsSubscription}. */
export interface AnalyticsSubscriptionOptions {
  /** The Vidget server (`ws://host:port`). */
  host: string;
  project: string;
  /** A token with the `analytics` permission on `_analytics`. */
  token?: string;
  /** Called for a fresh token before every (re)connect. */
  getToken?: () => string | Promise<string>;
  /** The past to load first: `30m`, `6h` (TwentyThree's intervals). Default none: live only. */
  catchup?: string;
  /** Stay connected while the page is hidden (a dashboard on a wall). Default true. */
  keepAliveInBackground?: boolean;
}

/** `snapshot` event detail: a stored bucket of the series (`live: false`) or the bucket in progress. */
export interface SnapshotDetail {
  snapshot: AnalyticsSnapshot;
  live: boolean;
}

/**
 * A project's live analytics: with `catchup`, the stored per-bucket series of that past first
 * (replayed by the server, in order), then the bucket in progress every second, live; each
 * closed bucket joins the series as it is stored, so the series has no gap at the boundary. A
 * socket to `_analytics` underneath (reconnects, resumes, pauses like any widget socket).
 */
export class AnalyticsSubscription extends EventTarget {
  /** Closed buckets, oldest first. */
  readonly series: AnalyticsSnapshot[] = [];
  /** The bucket in progress, as last pushed. */
  latest: AnalyticsSnapshot | undefined;
  /** Called with every snapshot, as the `snapshot` event. */
  onSnapshot: ((snapshot: AnalyticsSnapshot, live: boolean) => void) | null = null;
  readonly socket: WidgetSocket;

  constructor(options: AnalyticsSubscriptionOptions) {
    super();
    this.socket = new WidgetSocket({
      host: options.host,
      project: options.project,
      widgetId: ANALYTICS_ROOM,
      maxFill: 0,
      keepAliveInBackground: options.keepAliveInBackground ?? true,
      ...(options.token ? { token: options.token } : {}),
      ...(options.getToken ? { getToken: options.getToken } : {}),
      ...(options.catchup ? { catchup: options.catchup } : {}),
    });
    this.socket.onError = () => {}; // told by `state` (failed: no analytics permission)
    this.socket.addEventListener('message', (e) => this.take(e.data.data as unknown as AnalyticsSnapshot, !e.persisted));
  }

  /** The socket's lifecycle state (`failed` without the `analytics` permission). */
  get state(): SocketState {
    return this.socket.state;
  }

  close(): void {
    this.socket.close();
  }

  private take(snapshot: AnalyticsSnapshot, live: boolean): void {
    if (typeof snapshot !== 'object' || snapshot === null || typeof snapshot.at !== 'number') return;
    if (live) this.latest = snapshot;
    else {
      let i = this.series.length;
      while (i > 0 && this.series[i - 1]!.at > snapshot.at) i--;
      this.series.splice(i, 0, snapshot);
    }
    this.dispatchEvent(new CustomEvent<SnapshotDetail>('snapshot', { detail: { snapshot, live } }));
    try {
      this.onSnapshot?.(snapshot, live);
    } catch (error) {
      console.error('vidget: onSnapshot threw', error);
    }
  }
}

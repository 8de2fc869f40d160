import { ANALYTICS_ROOM, mergeSnapshots, type AnalyticsSnapshot } from '../protocol/platform.js';
import type { SocketState } from '../socket/socket-events.js';
import { WidgetSocket } from '../socket/widget-socket.js';

/** A process not heard from for this long no longer counts in the live total (it pushes every second). */
const STALE_MS = 3_000;

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
  /** Each server process's last live snapshot (several processes each count their own viewers). */
  private readonly parts = new Map<string, AnalyticsSnapshot>();

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

  /** The bucket in progress over every process heard from in the last 3 pushes. */
  private takeLive(snapshot: AnalyticsSnapshot): AnalyticsSnapshot {
    this.parts.set(snapshot.node ?? '', snapshot);
    for (const [node, part] of this.parts) if (part.at < snapshot.at - STALE_MS) this.parts.delete(node);
    return (this.latest = mergeSnapshots([...this.parts.values()]));
  }

  /** A stored bucket, summed with the other processes' buckets of the same time. */
  private takeStored(snapshot: AnalyticsSnapshot): AnalyticsSnapshot {
    let i = this.series.length;
    while (i > 0 && this.series[i - 1]!.at > snapshot.at) i--;
    if (this.series[i - 1]?.at === snapshot.at) return (this.series[i - 1] = mergeSnapshots([this.series[i - 1]!, snapshot]));
    this.series.splice(i, 0, snapshot);
    return snapshot;
  }

  private take(snapshot: AnalyticsSnapshot, live: boolean): void {
    if (typeof snapshot !== 'object' || snapshot === null || typeof snapshot.at !== 'number') return;
    const merged = live ? this.takeLive(snapshot) : this.takeStored(snapshot);
    this.dispatchEvent(new CustomEvent<SnapshotDetail>('snapshot', { detail: { snapshot: merged, live } }));
    try {
      this.onSnapshot?.(merged, live);
    } catch (error) {
      console.error('vidget: onSnapshot threw', error);
    }
  }
}

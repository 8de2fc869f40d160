import { completionRate, type AnalyticsReport, type AnalyticsSnapshot } from '../../protocol/index.js';

/** What one connection may add to one bucket, whatever it reports: its own share and no more. */
export interface ViewerCaps {
  /** Plays started (and completions) per bucket. */
  plays: number;
  /** Widget interactions per bucket, all widgets together. */
  interactions: number;
  /** Seconds watched per second of wall time since its last report (every player of its page together). */
  watchRate: number;
}

/** Caps per connection and bucket. */
export const DEFAULT_CAPS: ViewerCaps = { plays: 20, interactions: 120, watchRate: 4 };
/** Distinct videos and widgets a project's bucket tracks (further ones are folded into the totals only). */
const MAX_KEYS = 1000;

interface Viewer {
  /** Each player of the page: the video it shows and whether it plays. */
  slots: Map<number, { videoId: string; playing: boolean }>;
  lastReport: number;
  /** What it has added to the current bucket. */
  spent: { plays: number; interactions: number; completions: number; bucket: number };
}

interface Bucket {
  start: number;
  plays: number;
  completions: number;
  watched: number;
  watchers: Set<Viewer>;
  interactions: Map<string, number>;
  videoPlays: Map<string, number>;
}

const emptyBucket = (start: number): Bucket => ({ start, plays: 0, completions: 0, watched: 0, watchers: new Set(), interactions: new Map(), videoPlays: new Map() });

/** Adds `n` under `key` unless the map is full of other keys. */
function add(map: Map<string, number>, key: string, n: number): void {
  if (map.has(key) || map.size < MAX_KEYS) map.set(key, (map.get(key) ?? 0) + n);
}

/**
 * One project's live analytics on this node: who is watching what now (one viewer per
 * connection, counted once however many players its page has on a video), and the counts of the
 * bucket in progress (plays, watch time, completions, interactions per widget). A viewer that
 * closes is gone at once; one that stops reporting is not counted as watching after `staleMs`.
 */
export class ProjectAnalytics {
  private readonly viewers = new Map<object, Viewer>();
  private bucket: Bucket;

  constructor(
    /** Start of the first bucket. */
    start: number,
    private readonly staleMs: number,
    private readonly caps: ViewerCaps = DEFAULT_CAPS,
    /** This server process, named in its snapshots. */
    private readonly node = '',
  ) {
    this.bucket = emptyBucket(start);
  }

  /** Start (ms) of the bucket in progress. */
  get bucketStart(): number {
    return this.bucket.start;
  }

  /** Whether nothing is tracked: no viewer, nothing counted in the bucket. */
  get idle(): boolean {
    return this.viewers.size === 0 && this.bucket.plays === 0 && this.bucket.watched === 0 && this.bucket.interactions.size === 0;
  }

  /** Takes in one connection's reports, each bounded by the caps. */
  ingest(key: object, reports: AnalyticsReport[], now: number): void {
    let viewer = this.viewers.get(key);
    if (!viewer) this.viewers.set(key, (viewer = { slots: new Map(), lastReport: now, spent: { plays: 0, interactions: 0, completions: 0, bucket: this.bucket.start } }));
    const spent = viewer.spent.bucket === this.bucket.start ? viewer.spent : (viewer.spent = { plays: 0, interactions: 0, completions: 0, bucket: this.bucket.start });
    // Watch time is bounded by the wall time since its last report (at most a minute of it).
    let watchBudget = (Math.min(60_000, now - viewer.lastReport) / 1000 + 1) * this.caps.watchRate;
    viewer.lastReport = now;
    for (const r of reports) {
      viewer.slots.set(r.slot, { videoId: r.videoId, playing: r.playing });
      const plays = Math.min(r.plays, this.caps.plays - spent.plays);
      spent.plays += plays;
      this.bucket.plays += plays;
      if (plays > 0) add(this.bucket.videoPlays, r.videoId, plays);
      if (r.quartiles.includes(100) && spent.completions < this.caps.plays) {
        spent.completions++;
        this.bucket.completions++;
      }
      const watched = Math.min(r.watched, watchBudget);
      watchBudget -= watched;
      if (watched > 0) {
        this.bucket.watched += watched;
        this.bucket.watchers.add(viewer);
      }
      for (const [widgetId, n] of Object.entries(r.interactions)) {
        const taken = Math.min(n, this.caps.interactions - spent.interactions);
        if (taken <= 0) break;
        spent.interactions += taken;
        add(this.bucket.interactions, widgetId, taken);
      }
    }
  }

  /** The connection closed: it watches nothing from now on. */
  leave(key: object): void {
    this.viewers.delete(key);
  }

  /** The bucket in progress so far, with who watches now. */
  snapshot(now: number): AnalyticsSnapshot {
    const videos: AnalyticsSnapshot['videos'] = {};
    let concurrentViewers = 0;
    for (const viewer of this.viewers.values()) {
      if (now - viewer.lastReport > this.staleMs) continue;
      const watching = new Set<string>();
      for (const slot of viewer.slots.values()) if (slot.playing) watching.add(slot.videoId);
      if (watching.size > 0) concurrentViewers++;
      for (const videoId of watching) (videos[videoId] ??= { concurrentViewers: 0, plays: 0 }).concurrentViewers++;
    }
    for (const [videoId, plays] of this.bucket.videoPlays) (videos[videoId] ??= { concurrentViewers: 0, plays: 0 }).plays = plays;
    const b = this.bucket;
    return {
      at: now,
      bucket: b.start,
      node: this.node,
      watchers: b.watchers.size,
      concurrentViewers,
      plays: b.plays,
      avgWatchSeconds: b.watchers.size > 0 ? Math.round((b.watched / b.watchers.size) * 10) / 10 : 0,
      completionRate: completionRate(b.completions, b.plays),
      completions: b.completions,
      interactions: Object.fromEntries(b.interactions),
      videos,
    };
  }

  /** Closes the bucket in progress: its snapshot (dated at its start) for the series; the next starts at `next`. */
  roll(now: number, next: number): AnalyticsSnapshot {
    const closed = { ...this.snapshot(now), at: this.bucket.start };
    this.bucket = emptyBucket(next);
    return closed;
  }
}

import { ANALYTICS_ROOM, MAX_CATCHUP_MS, mergeSnapshots, parseInterval, validateQuery, type AnalyticsReport, type AnalyticsSnapshot } from '../../protocol/index.js';
import type { RoomRegistry } from '../rooms/room-registry.js';
import type { SearchResult, Store } from '../store/store.js';
import { ProjectAnalytics, type ViewerCaps } from './project-analytics.js';

/** Options of the live analytics (`createServer({ analytics })`). */
export interface AnalyticsOptions {
  /** Length of one bucket of the series (one stored snapshot each). Default 60,000 ms. */
  seriesMs: number;
  /** How often subscribers get the bucket in progress. Default 1,000 ms. */
  pushMs: number;
  /** A viewer that has not reported for this long is not counted as watching. Default 15,000 ms (players report every 5 s). */
  staleMs: number;
  /** What one connection may add to a bucket. */
  caps?: ViewerCaps;
  /** This server process's id (the bus's), named in its snapshots so subscribers can sum processes. */
  node?: string;
  /** How long stored buckets are kept (older ones are deleted, at most hourly). Default 30 days, the longest catch-up. */
  keepMs?: number;
}

/** Default {@link AnalyticsOptions}. */
export const DEFAULT_ANALYTICS: AnalyticsOptions = { seriesMs: 60_000, pushMs: 1_000, staleMs: 15_000 };
/** Most buckets one series read answers (12 h of minutes). */
const MAX_SERIES = 720;

/**
 * Live analytics of every project on this node. Players report over their project connection;
 * every `pushMs` each project with subscribers gets its bucket in progress as an ephemeral
 * message in its analytics room, and every `seriesMs` the bucket is closed and stored there as a
 * record. A subscriber asking for catch-up therefore gets the stored series by the room's own
 * replay, then the live snapshots, with nothing missed in between.
 */
export class AnalyticsHub {
  private readonly projects = new Map<string, ProjectAnalytics>();
  private readonly timer: NodeJS.Timeout;
  private readonly watched = new WeakSet<object>();
  /** When each project's old buckets were last deleted. */
  private readonly pruned = new Map<string, number>();

  constructor(
    private readonly store: Store,
    private readonly registry: RoomRegistry,
    private readonly options: AnalyticsOptions,
    private readonly onError: (error: unknown) => void,
  ) {
    this.timer = setInterval(() => this.tick(Date.now()), options.pushMs);
    this.timer.unref();
  }

  /** Takes in a connection's reports; `onClose` is how its departure is learnt (once per connection). */
  ingest(project: string, key: object, reports: AnalyticsReport[], onClose: (fn: () => void) => void): void {
    this.projectOf(project).ingest(key, reports, Date.now());
    if (this.watched.has(key)) return;
    this.watched.add(key);
    onClose(() => this.projects.get(project)?.leave(key));
  }

  /** The bucket in progress of `project` on this node. */
  now(project: string): AnalyticsSnapshot {
    return this.projectOf(project).snapshot(Date.now());
  }

  /** The stored series within `catchup` (`30m`, `6h`; at most 720 buckets, the newest; the processes' buckets of one time summed) and this process's bucket in progress. */
  async read(project: string, catchup: string): Promise<{ series: AnalyticsSnapshot[]; now: AnalyticsSnapshot }> {
    const since = Date.now() - parseInterval(catchup);
    const room = `${project}/${ANALYTICS_ROOM}`;
    await this.registry.get(room)?.settled();
    const { records } = await this.store.replay(room, { createdSince: since }, { records: MAX_SERIES, bytes: 8 * 2 ** 20 });
    const byTime = new Map<number, AnalyticsSnapshot[]>();
    for (const r of records) {
      const s = (JSON.parse(r.json) as { data: AnalyticsSnapshot }).data;
      byTime.set(s.at, [...(byTime.get(s.at) ?? []), s]);
    }
    const series = [...byTime.values()].map(mergeSnapshots).sort((a, b) => a.at - b.at);
    return { series, now: this.now(project) };
  }

  /** Stops the timer (server shutdown); the bucket in progress is not stored. */
  close(): void {
    clearInterval(this.timer);
  }

  private projectOf(project: string): ProjectAnalytics {
    let p = this.projects.get(project);
    if (!p) this.projects.set(project, (p = new ProjectAnalytics(this.bucketOf(Date.now()), this.options.staleMs, this.options.caps, this.options.node)));
    return p;
  }

  private tick(now: number): void {
    for (const [project, analytics] of this.projects) {
      const room = `${project}/${ANALYTICS_ROOM}`;
      if (now - analytics.bucketStart >= this.options.seriesMs) {
        const idle = analytics.idle;
        const closed = analytics.roll(now, this.bucketOf(now));
        if (!idle) this.publish(room, closed, true);
        this.pruneSoon(project, now);
      }
      // With other processes (a bus), their subscribers need this process's count too.
      const subscribed = (this.registry.get(room)?.connections.size ?? 0) > 0;
      if (subscribed || (this.options.node !== undefined && !analytics.idle)) this.publish(room, analytics.snapshot(now), false);
      else if (analytics.idle) {
        this.projects.delete(project);
        this.pruned.delete(project);
      }
    }
  }

  /** Deletes the project's buckets older than `keepMs` (a page at a time), at most once per min(1 h, keepMs). */
  private pruneSoon(project: string, now: number): void {
    const keepMs = this.options.keepMs ?? MAX_CATCHUP_MS;
    if (now - (this.pruned.get(project) ?? 0) < Math.min(3_600_000, keepMs)) return;
    this.pruned.set(project, now);
    const room = `${project}/${ANALYTICS_ROOM}`;
    const query = validateQuery({ filters: [{ field: 'created', operator: '<', value: now - keepMs }], sortField: 'id', limit: 1000 });
    this.store
      .search(room, query)
      .then(async (bytes) => {
        const ids = (JSON.parse(Buffer.from(bytes).toString('utf8')) as SearchResult).records.map((r) => r.id);
        if (ids.length > 0) await this.registry.removed(room, await this.store.delete(room, ids));
      })
      .catch(this.onError);
  }

  /** Buckets start at multiples of `seriesMs` of the clock, so every process's buckets of one time line up. */
  private bucketOf(now: number): number {
    return Math.floor(now / this.options.seriesMs) * this.options.seriesMs;
  }

  private publish(room: string, snapshot: AnalyticsSnapshot, persist: boolean): void {
    this.registry.publishFromServer(room, snapshot as never, persist, null).catch(this.onError);
  }
}

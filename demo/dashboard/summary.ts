import { countedSnapshots, mergeSnapshots, type AnalyticsSnapshot } from '../../src/protocol/platform.js';

/** The dashboard's numbers over the window: the stored buckets and the one in progress. */
export interface Summary {
  watchingNow: number;
  peak: number;
  plays: number;
  /** Seconds watched per play (per viewer when the window holds no play start). */
  avgWatchSeconds: number;
  completionRate: number;
  interactions: Array<[string, number]>;
  videos: Array<{ id: string; watching: number; plays: number }>;
}

/** Sums a window of snapshots (as the server sums its processes'), with who watches now from the latest. */
export function summarize(series: readonly AnalyticsSnapshot[], latest: AnalyticsSnapshot | undefined): Summary {
  const all = countedSnapshots(series, latest);
  const sum = all.length > 0 ? mergeSnapshots(all) : undefined;
  const watched = (sum?.avgWatchSeconds ?? 0) * (sum?.watchers ?? 1);
  const videos = Object.entries(sum?.videos ?? {}).map(([id, v]) => ({ id, watching: latest?.videos[id]?.concurrentViewers ?? 0, plays: v.plays }));
  for (const [id, v] of Object.entries(latest?.videos ?? {})) if (!sum?.videos[id]) videos.push({ id, watching: v.concurrentViewers, plays: 0 });
  return {
    watchingNow: latest?.concurrentViewers ?? 0,
    peak: Math.max(0, ...all.map((s) => s.concurrentViewers)),
    plays: sum?.plays ?? 0,
    avgWatchSeconds: sum && sum.plays > 0 ? watched / sum.plays : (sum?.avgWatchSeconds ?? 0),
    completionRate: sum?.completionRate ?? 0,
    interactions: Object.entries(sum?.interactions ?? {}).sort((a, b) => b[1] - a[1]),
    videos: videos.sort((a, b) => b.watching - a.watching || b.plays - a.plays),
  };
}

import { completionRate, countedSnapshots, type AnalyticsSnapshot } from '../../src/protocol/platform.js';

/** The dashboard's numbers over the window: the stored buckets and the one in progress. */
export interface Summary {
  watchingNow: number;
  peak: number;
  plays: number;
  avgWatchSeconds: number;
  completionRate: number;
  interactions: Array<[string, number]>;
  videos: Array<{ id: string; watching: number; plays: number }>;
}

/** Sums a window of snapshots: plays and interactions added, watch time and completion weighted by plays. */
export function summarize(series: readonly AnalyticsSnapshot[], latest: AnalyticsSnapshot | undefined): Summary {
  const all = countedSnapshots(series, latest);
  let plays = 0;
  let watch = 0;
  let watchWeight = 0;
  let completed = 0;
  const interactions = new Map<string, number>();
  const videos = new Map<string, { id: string; watching: number; plays: number }>();
  for (const s of all) {
    plays += s.plays;
    completed += s.completions ?? s.completionRate * s.plays;
    const weight = Math.max(1, s.plays);
    if (s.avgWatchSeconds > 0) {
      watch += s.avgWatchSeconds * weight;
      watchWeight += weight;
    }
    for (const [id, n] of Object.entries(s.interactions)) interactions.set(id, (interactions.get(id) ?? 0) + n);
    for (const [id, v] of Object.entries(s.videos)) {
      const row = videos.get(id) ?? { id, watching: 0, plays: 0 };
      row.plays += v.plays;
      videos.set(id, row);
    }
  }
  for (const [id, v] of Object.entries(latest?.videos ?? {})) (videos.get(id) ?? videos.set(id, { id, watching: 0, plays: 0 }).get(id)!).watching = v.concurrentViewers;
  return {
    watchingNow: latest?.concurrentViewers ?? 0,
    peak: Math.max(0, ...all.map((s) => s.concurrentViewers)),
    plays,
    avgWatchSeconds: watchWeight > 0 ? watch / watchWeight : 0,
    completionRate: completionRate(completed, plays),
    interactions: [...interactions].sort((a, b) => b[1] - a[1]),
    videos: [...videos.values()].sort((a, b) => b.watching - a.watching || b.plays - a.plays),
  };
}

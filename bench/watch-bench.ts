// Watch together in Chromium: three pages of one session on loopback. Command latency (a user's
// play/pause/seek/rate on one page until the others' videos show it) and drift while playing
// (pairwise position differences of presented frames, requestVideoFrameCallback), beside a
// baseline in the same run: the same pages applying the group's commands only, without clock
// sync and drift correction, as watch-party extensions do.
// Alone: `node --import tsx bench/watch-bench.ts [--quick]`.
import type { Page } from 'playwright-core';
import { command, measureDrift, percentile, playerReady, sleep, watchPage, wt, type Kind } from '../test/watch/watch-helpers.js';

export interface WatchFigures {
  pages: number;
  commands: number;
  seconds: number;
  latency: { p50: number; p99: number; max: number };
  drift: { p50: number; p95: number; max: number };
  baseline: { p50: number; p95: number; max: number };
}

const stats = (sorted: number[]) => ({ p50: percentile(sorted, 50), p95: percentile(sorted, 95), max: sorted.at(-1)! });

/** Joins `group` into a new session (with or without drift correction), starts it playing from 1 s, lets it settle. */
async function playing(group: Page[], correctDrift: boolean): Promise<void> {
  const { sid } = await wt<{ sid: string }>(group[0]!, 'join', { correctDrift });
  for (const page of group.slice(1)) await wt(page, 'join', { sessionId: sid, correctDrift });
  await command(group[0]!, group.slice(1), 'seek', 1);
  await command(group[0]!, group.slice(1), 'play');
  await sleep(1500);
}

export async function watchBench({ seconds = 20, rounds = 4 } = {}): Promise<WatchFigures> {
  // Commands come faster than a person makes them: the per-page flood limit is raised.
  const site = await watchPage({ watch: { controlRate: { perSecond: 100, burst: 100 } } });
  try {
    const pages = await site.viewers(6);
    await Promise.all(pages.map(playerReady));
    const synced = pages.slice(0, 3);
    await playing(synced, true);
    const latencies: number[] = [];
    const kinds: Array<[Kind, number | undefined]> = [
      ['pause', undefined],
      ['seek', 2],
      ['rate', 1.25],
      ['play', undefined],
      ['rate', 1],
    ];
    for (let r = 0; r < rounds; r++) {
      for (const from of synced)
        for (const [kind, value] of kinds)
          latencies.push(
            ...(await command(
              from,
              synced.filter((p) => p !== from),
              kind,
              value === 2 ? 2 + r : value,
            )),
          );
    }
    await sleep(1500);
    const drift = await measureDrift(synced, seconds);
    const baselinePages = pages.slice(3);
    await playing(baselinePages, false);
    const baseline = await measureDrift(baselinePages, seconds);
    latencies.sort((a, b) => a - b);
    return {
      pages: 3,
      commands: latencies.length / 2,
      seconds,
      latency: { p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: latencies.at(-1)! },
      drift: stats(drift.all),
      baseline: stats(baseline.all),
    };
  } finally {
    await site.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const quick = process.argv.includes('--quick');
  const f = await watchBench(quick ? { seconds: 8, rounds: 1 } : {});
  console.log(JSON.stringify(f, null, 1));
}

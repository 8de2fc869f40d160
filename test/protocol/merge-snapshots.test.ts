// Summing the analytics snapshots several server processes made of one time: each counts only
// its own connections, so counts add up; averages are weighted by what they average over.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { completionRate, countedSnapshots, mergeSnapshots, type AnalyticsSnapshot } from '../../src/protocol/index.js';

const snap = (s: Partial<AnalyticsSnapshot>): AnalyticsSnapshot => ({ at: 1000, concurrentViewers: 0, plays: 0, avgWatchSeconds: 0, completionRate: 0, interactions: {}, videos: {}, ...s });

test('counts add up; watch time is weighted by watchers and completion by plays', () => {
  const a = snap({ node: 'a', concurrentViewers: 2, plays: 4, completionRate: 0.5, avgWatchSeconds: 10, watchers: 3, interactions: { poll: 2 }, videos: { v: { concurrentViewers: 2, plays: 4 } } });
  const b = snap({
    node: 'b',
    at: 1200,
    concurrentViewers: 1,
    plays: 1,
    completionRate: 1,
    avgWatchSeconds: 30,
    watchers: 1,
    interactions: { poll: 1, chat: 5 },
    videos: { v: { concurrentViewers: 1, plays: 0 }, w: { concurrentViewers: 0, plays: 1 } },
  });
  const sum = mergeSnapshots([a, b]);
  assert.equal(sum.at, 1200);
  assert.equal(sum.concurrentViewers, 3);
  assert.equal(sum.plays, 5);
  assert.equal(sum.avgWatchSeconds, 15, '(3 × 10 + 1 × 30) / 4');
  assert.equal(sum.completionRate, 0.6, '(4 × 0.5 + 1 × 1) / 5');
  assert.deepEqual(sum.interactions, { poll: 3, chat: 5 });
  assert.deepEqual(sum.videos, { v: { concurrentViewers: 3, plays: 4 }, w: { concurrentViewers: 0, plays: 1 } });
  assert.equal(mergeSnapshots([a]), a, 'one process: as it is');
  assert.equal(mergeSnapshots([snap({ plays: 0 }), snap({ plays: 0 })]).completionRate, 0, 'no plays: no rate, no division by zero');
});

test('a completion whose play began in an earlier bucket; a bucket counted once when it is stored and still the latest', () => {
  assert.equal(completionRate(1, 0), 1, 'completions without plays in the bucket');
  assert.equal(completionRate(0, 0), 0);
  assert.equal(completionRate(5, 2), 1, 'never over 1');
  const stored = snap({ at: 60_000, plays: 2 });
  const closing = snap({ at: 119_500, bucket: 60_000, plays: 2 });
  const next = snap({ at: 120_500, bucket: 120_000, plays: 1 });
  assert.deepEqual(countedSnapshots([stored], closing), [stored], 'the live snapshot of a stored bucket is not counted again');
  assert.deepEqual(countedSnapshots([stored], next), [stored, next]);
  assert.deepEqual(countedSnapshots([], undefined), []);
});

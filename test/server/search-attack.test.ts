// Hostile input: the search-freeze attack (bench/search-attack.ts). Four anonymous connections
// run the costliest searches they may send, back to back, on a big room; an honest viewer in
// another room publishes and times each ack. Before searches ran off the event loop its acks
// waited for every search: hundreds of ms at 100k records, seconds at 1M.
// `npm test`: 100k records; `npm run test:soak`: 1M.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { SearchAttacker, attackRecord, worstSearches } from '../../bench/search-attack.js';
import { SqliteStore } from '../../src/server/index.js';
import { TestClient, fillRoom, startServer, tempDir } from './helpers.js';

const SOAK = process.env.VIDGET_SOAK === '1';
const RECORDS = SOAK ? 1_000_000 : 100_000;
/** Samples per block; blocks alternate quiet / attacked, so drift in the machine's load hits both alike. */
const BLOCK = SOAK ? 400 : 100;
const BLOCKS = 3;
/**
 * The stated bound: the honest viewer's p99 under attack is at most RATIO × its p99 without
 * attack, that p99 floored at FLOOR_MS. The target is 2× (the bench measures it, on
 * pinned cores). Here the server, the test's clients and other people's jobs share 2 cores, and a
 * p99 of a few hundred samples moves by several ms between identical runs, so the test allows
 * 3×; on the loop, as before, the attack cost 10-100× (a search of 0.3 s blocked every ack).
 */
const RATIO = 3;
const FLOOR_MS = 3;
/** One publish every 12.5 ms (80/s, under the default rate limit of 100/s). */
const PACE_MS = 12.5;

const percentile = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;

/** Publishes one persistent record at a time at the viewer's pace, `count` times; each publish→ack latency. */
async function ackLatencies(viewer: TestClient, count: number): Promise<number[]> {
  const ms: number[] = [];
  for (let i = 0; i < count; i++) {
    const t = performance.now();
    await viewer.publish({ i });
    ms.push(performance.now() - t);
    // Pacing the workload (a viewer's publish rate), not waiting for anything.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, PACE_MS - (performance.now() - t))));
  }
  return ms;
}

/** The auto-indexes in the database file, through the test's own connection. */
function indexCount(file: string): number {
  const db = new Database(file, { readonly: true });
  try {
    return (db.prepare(`SELECT count(*) AS n FROM sqlite_master WHERE type = 'index' AND name LIKE 'auto:%'`).get() as { n: number }).n;
  } finally {
    db.close();
  }
}

test(`the search-freeze attack (4 connections, ${RECORDS.toLocaleString('en-US')} records): an honest viewer's ack p99 in another room stays within ${RATIO}× its p99 without attack`, async (t) => {
  const dir = tempDir();
  const file = join(dir, 'vidget.db');
  // Builds back to back (no gap), so the indexes the attack's repeated fields earn are all built
  // in the warm-up: each build holds the write lock once (the auto-index tests and the bench
  // measure that); this test measures the searches themselves.
  const store = new SqliteStore(file, { autoIndex: { buildGap: 0 } });
  const server = await startServer({ dataDir: dir, store });
  t.after(() => server.close());
  await fillRoom(server, 'attack/big', RECORDS, attackRecord);
  const viewer = await TestClient.joined(server, 'honest', 'chat');
  const attackers = Array.from({ length: 4 }, (_, i) => new SearchAttacker(`${server.wsUrl}/parties/attack/big?_pk=attacker${i}`, i * 1_000_000));
  for (const round of [2, 3]) {
    await Promise.all(attackers.map((a) => a.after(round)));
    await store.indexesSettled();
  }
  const indexes = indexCount(file);

  const quiet: number[] = [];
  const attacked: number[] = [];
  for (let block = 0; block < BLOCKS; block++) {
    await Promise.all(attackers.map((a) => a.pause()));
    quiet.push(...(await ackLatencies(viewer, BLOCK)));
    for (const a of attackers) a.resume();
    attacked.push(...(await ackLatencies(viewer, BLOCK)));
  }
  await Promise.all(attackers.map((a) => a.stop()));

  const [quietP99, attackP99] = [percentile(quiet, 0.99), percentile(attacked, 0.99)];
  const searches = attackers.reduce((n, a) => n + a.rounds, 0) * worstSearches(0).length;
  const figures = `without attack p50/p99 ${percentile(quiet, 0.5).toFixed(2)}/${quietP99.toFixed(2)} ms; under attack ${percentile(attacked, 0.5).toFixed(2)}/${attackP99.toFixed(2)} ms (${(attackP99 / quietP99).toFixed(2)}×); ${searches} attack searches (${attackers.reduce((n, a) => n + a.timeouts, 0)} query_timeout, ${attackers.reduce((n, a) => n + a.busy, 0)} unavailable); ${indexes} auto-indexes earned`;
  console.log(`search attack: ${figures}`);
  assert.ok(
    attackers.every((a) => a.rounds >= 4),
    'every attacker kept searching',
  );
  assert.equal(indexCount(file), indexes, 'no index was built while the viewer was measured');
  assert.ok(attackP99 <= RATIO * Math.max(quietP99, FLOOR_MS), figures);
  await viewer.close();
});

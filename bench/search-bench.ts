// Persistence and search over one large room, in process: SqliteStore's append and search (in its
// worker threads, with the per-room indexes repeated searches earn) against raw inserts, the same
// search run on the calling thread (the path before issue 17), and un-indexed scans.
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { validateQuery, type SearchQuery } from '../src/protocol/index.js';
import { SqliteStore, type StoredRecord } from '../src/server/index.js';

export interface SearchFigures {
  records: number;
  appendPerSec: number;
  rawInsertPerSec: number;
  /** The longest index build (in the writer worker; it holds the write lock meanwhile). */
  indexBuildMs: number;
  queries: Array<{ name: string; runs: number; p50: number; p99: number; onLoopP50: number; baselineP50: number }>;
  /** The database file's folder, reused by the attack bench. */
  dir: string;
}

export const OPTIONS = ['a', 'b', 'c', 'd', 'e'];
export const row = (i: number): StoredRecord => ({
  id: i + 1,
  client_id: `c${i % 5000}`,
  cid: `m${i}`,
  created: 1_700_000_000_000 + i * 10,
  username: i % 3 === 0 ? `user${i % 1000}` : null,
  data: { score: (i * 7919) % 1000, option: OPTIONS[i % 5]!, liked: i % 2 === 0, text: `message number ${i}` },
});

export const percentile = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

function time(fn: () => unknown): number {
  const t = performance.now();
  fn();
  return performance.now() - t;
}

export const queriesFor = (records: number): Array<[string, SearchQuery, number]> => [
  ['filter data.score > 500, sort data.score desc, limit 10', { filters: [{ field: 'data.score', operator: '>', value: 500 }], sortField: 'data.score', sortOrder: 'desc', limit: 10 }, 30],
  ['filter data.option = "b", sort created desc, limit 10', { filters: [{ field: 'data.option', operator: '=', value: 'b' }], sortField: 'created', sortOrder: 'desc', limit: 10 }, 30],
  ['filter data.score in (1,2,3), limit 10', { filters: [{ field: 'data.score', operator: 'in', value: [1, 2, 3] }], limit: 10 }, 30],
  ['groupBy data.option over the whole room', { groupBy: 'data.option', limit: 0 }, 10],
  ['a page of 100 deep in the room sorted by data.score (after, keyset)', { sortField: 'data.score', limit: 100, after: Math.floor(records * 0.78) }, 30],
];

export async function searchBench({ records, dir }: { records: number; dir: string }): Promise<SearchFigures> {
  const BATCH = 1000;
  // Baseline: the same rows through a bare prepared INSERT in the same batch transactions.
  const raw = new Database(join(dir, 'raw.db'));
  raw.pragma('journal_mode = WAL');
  raw.pragma('synchronous = NORMAL');
  raw.exec('CREATE TABLE records (room INTEGER, id INTEGER, client_id TEXT, cid TEXT, created INTEGER, username TEXT, data TEXT)');
  const insert = raw.prepare('INSERT INTO records VALUES (1, ?, ?, ?, ?, ?, ?)');
  const many = raw.transaction((rows: StoredRecord[]) => {
    for (const r of rows) insert.run(r.id, r.client_id, r.cid, r.created, r.username, JSON.stringify(r.data));
  });
  let rawMs = 0;
  for (let i = 0; i < records; i += BATCH) {
    const rows = Array.from({ length: Math.min(BATCH, records - i) }, (_, k) => row(i + k));
    rawMs += time(() => many(rows));
  }
  raw.close();

  // Builds back to back (no gap), so each is timed alone.
  // A budget far past any of these searches: latency is what is measured here.
  const store = new SqliteStore(join(dir, 'vidget.db'), { autoIndex: { buildGap: 0 }, searchTimeoutMs: 60_000 });
  await store.openRoom('bench/big');
  let appendMs = 0;
  for (let i = 0; i < records; i += BATCH) {
    const rows = Array.from({ length: Math.min(BATCH, records - i) }, (_, k) => row(i + k));
    const t = performance.now();
    await store.append('bench/big', rows);
    appendMs += performance.now() - t;
  }
  // The path before issue 17: the same searches on the calling thread (no workers).
  const onLoop = new SqliteStore(join(dir, 'vidget.db'), { autoIndex: false, readers: 0, searchTimeoutMs: 60_000 });
  await onLoop.openRoom('bench/big');
  const queries = queriesFor(records).map(([name, q, runs]) => ({ name, q: validateQuery(q), runs }));
  const at = async (s: SqliteStore, q: (typeof queries)[number]['q'], runs: number) => {
    const ms: number[] = [];
    for (let r = 0; r < runs; r++) ms.push(await timed(() => s.search('bench/big', q)));
    return ms;
  };
  // Baseline first, while the file has no expression index: the same queries as plain scans.
  const baselineP50 = new Map<string, number>();
  for (const { name, q } of queries) baselineP50.set(name, percentile(await at(onLoop, q, 3), 0.5));
  // Each query's fields earn their index on its third slow search; the build runs off the loop.
  let indexBuildMs = 0;
  for (const { q } of queries) {
    await at(store, q, 3);
    indexBuildMs = Math.max(indexBuildMs, await timed(() => store.indexesSettled()));
  }
  const figures: SearchFigures['queries'] = [];
  for (const { name, q, runs } of queries) {
    const ms = await at(store, q, runs);
    const onLoopP50 = percentile(await at(onLoop, q, Math.min(runs, 10)), 0.5);
    figures.push({ name, runs, p50: percentile(ms, 0.5), p99: percentile(ms, 0.99), onLoopP50, baselineP50: baselineP50.get(name)! });
  }
  await store.close();
  await onLoop.close();
  return { records, appendPerSec: (records / appendMs) * 1000, rawInsertPerSec: (records / rawMs) * 1000, indexBuildMs, queries: figures, dir };
}

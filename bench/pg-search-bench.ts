// Persistence and search over one large room in PostgreSQL (issue 12): appends through the
// store's append function in batches of 1,000 (as the room pipeline does), then the SQLite
// bench's searches, with the per-room indexes repeated searches earn (built CONCURRENTLY) and the
// group counts a repeated groupBy earns, against the same searches before any of them; then what
// a counted field costs an append, side by side with a room that counts nothing.
import { validateQuery } from '../src/protocol/index.js';
import { PostgresStore } from '../src/server/store/postgres-store.js';
import { percentile, queriesFor, row } from './search-bench.js';
import pg from 'pg';

export interface PgSearchFigures {
  records: number;
  appendPerSec: number;
  indexBuildMs: number;
  /** How long starting a count of a field over the whole room took (its appends wait meanwhile). */
  countStartMs: number;
  /** The paths the big room counts after the searches. */
  counted: string[];
  /** Appends/s into a new room counting data.option and, interleaved, into one counting nothing. */
  countedAppendPerSec: number;
  plainAppendPerSec: number;
  queries: Array<{ name: string; runs: number; p50: number; p99: number; baselineP50: number }>;
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

/** Runs the bench in a schema of its own, dropped afterwards. */
export async function pgSearchBench({ records, url }: { records: number; url: string }): Promise<PgSearchFigures> {
  const schema = `vidget_bench_${process.pid}`;
  const store = new PostgresStore({ connectionString: url, schema, searchTimeoutMs: 60_000, autoIndex: { buildGap: 0 } });
  const plain = new PostgresStore({ connectionString: url, schema, searchTimeoutMs: 60_000, autoIndex: false, groupCounts: false });
  try {
    await store.open();
    await plain.open();
    await store.openRoom('bench/big');
    await plain.openRoom('bench/big');
    const BATCH = 1000;
    let appendMs = 0;
    for (let i = 0; i < records; i += BATCH) {
      const rows = Array.from({ length: Math.min(BATCH, records - i) }, (_, k) => row(i + k));
      appendMs += await timed(() => store.append('bench/big', rows));
    }
    // What autovacuum does to a table after a load: statistics, and the visibility map.
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query(`VACUUM ANALYZE "${schema}".records`);
    const queries = queriesFor(records).map(([name, q, runs]) => ({ name, q: validateQuery(q), runs }));
    const at = async (s: PostgresStore, q: (typeof queries)[number]['q'], runs: number) => {
      const ms: number[] = [];
      for (let r = 0; r < runs; r++) ms.push(await timed(() => s.search('bench/big', q)));
      return ms;
    };
    const baselineP50 = new Map<string, number>();
    for (const { name, q } of queries) baselineP50.set(name, percentile(await at(plain, q, 3), 0.5));
    let indexBuildMs = 0;
    for (const { q } of queries) {
      await at(store, q, 3);
      indexBuildMs = Math.max(indexBuildMs, await timed(() => store.indexesSettled()));
    }
    await admin.query(`ANALYZE "${schema}".records`);
    const figures: PgSearchFigures['queries'] = [];
    for (const { name, q, runs } of queries) {
      const ms = await at(store, q, runs);
      figures.push({ name, runs, p50: percentile(ms, 0.5), p99: percentile(ms, 0.99), baselineP50: baselineP50.get(name)! });
    }
    const counted = (await admin.query<{ counted: string[] }>(`SELECT counted FROM "${schema}".rooms WHERE name = 'bench/big'`)).rows[0]!.counted;
    // What starting a count of the whole room costs (the room's appends wait for it): another field.
    await admin.query(`SET search_path TO "${schema}"`);
    const countStartMs = await timed(() => admin.query(`SELECT count_groups(room, 'liked', 1000) FROM rooms WHERE name = 'bench/big'`));
    // The same batches into two new rooms without indexes, one counting data.option, interleaved.
    for (const room of ['counted', 'plain']) await store.openRoom(`bench/${room}`);
    await admin.query(`SELECT count_groups(room, 'option', 1000) FROM rooms WHERE name = 'bench/counted'`);
    const spent = { counted: 0, plain: 0 };
    const extra = Math.min(records, 100_000);
    for (let i = 0; i < extra; i += BATCH) {
      for (const room of ['counted', 'plain'] as const) {
        const rows = Array.from({ length: BATCH }, (_, k) => row(i + k));
        spent[room] += await timed(() => store.append(`bench/${room}`, rows));
      }
    }
    await admin.query(`DROP SCHEMA "${schema}" CASCADE`);
    await admin.end();
    const perSec = (ms: number) => (extra / ms) * 1000;
    return {
      records,
      appendPerSec: (records / appendMs) * 1000,
      indexBuildMs,
      countStartMs,
      counted,
      countedAppendPerSec: perSec(spent.counted),
      plainAppendPerSec: perSec(spent.plain),
      queries: figures,
    };
  } finally {
    await Promise.all([store.close(), plain.close()]);
  }
}

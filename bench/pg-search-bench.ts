// Persistence and search over one large room in PostgreSQL (issue 12): appends through the
// store's append function in batches of 1,000 (as the room pipeline does), then the SQLite
// bench's searches, with the per-room indexes repeated searches earn (built CONCURRENTLY),
// against the same searches before any such index.
import { validateQuery } from '../src/protocol/index.js';
import { PostgresStore } from '../src/server/store/postgres-store.js';
import { percentile, queriesFor, row } from './search-bench.js';
import pg from 'pg';

export interface PgSearchFigures {
  records: number;
  appendPerSec: number;
  indexBuildMs: number;
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
  const plain = new PostgresStore({ connectionString: url, schema, searchTimeoutMs: 60_000, autoIndex: false });
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
    await admin.query(`DROP SCHEMA "${schema}" CASCADE`);
    await admin.end();
    return { records, appendPerSec: (records / appendMs) * 1000, indexBuildMs, queries: figures };
  } finally {
    await Promise.all([store.close(), plain.close()]);
  }
}

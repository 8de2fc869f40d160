// What only the PostgreSQL store does: planner statistics on the expressions of its auto-indexes.
// Needs PostgreSQL (DATABASE_URL, or this machine's local one); skipped with the reason where absent.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { validateQuery } from '../../../src/protocol/index.js';
import { PostgresStore } from '../../../src/server/store/postgres-store.js';
import { DATABASE_URL, dropSchema, freshSchema, postgresMissing } from '../services.js';

const missing = await postgresMissing();
if (missing) console.log(`# skipping the PostgreSQL store tests: ${missing}`);

describe('PostgresStore auto-indexes', { skip: missing ?? false }, () => {
  const schema = freshSchema();
  let store: PostgresStore;
  const admin = new pg.Client({ connectionString: DATABASE_URL });

  before(async () => {
    // Every search counts as slow, so the third one earns its field an index.
    store = new PostgresStore({ connectionString: DATABASE_URL, schema, autoIndex: { slowMs: 0 } });
    await store.open();
    await admin.connect();
  });
  after(async () => {
    await store.close();
    await admin.end();
    await dropSchema(schema);
  });

  test('an index build leaves statistics on its expression: the planner knows a groupBy makes 5 groups, not one per row', async () => {
    const room = 'proj/stats';
    await store.openRoom(room);
    const rows = Array.from({ length: 2_000 }, (_, i) => ({ id: 0, client_id: 'c', cid: `s${i}`, created: i, username: null, data: { option: 'abcde'[i % 5]!, n: i } }));
    await store.append(room, rows);
    const query = validateQuery({ groupBy: 'data.option', limit: 0 });
    const estimate = async () => {
      const { rows: plan } = await admin.query<{ 'QUERY PLAN': string }>(`EXPLAIN SELECT data #> '{option}', count(*) FROM "${schema}".records GROUP BY 1`);
      return Number(/rows=(\d+)/.exec(plan[0]!['QUERY PLAN'])![1]);
    };
    await admin.query(`ANALYZE "${schema}".records`);
    // Without statistics on the expression the planner takes the distinct values of `data`.
    assert.equal(await estimate(), 2_000);
    for (let i = 0; i < 3; i++) await store.search(room, query);
    await store.indexesSettled();
    const { rows: stats } = await admin.query<{ name: string }>(`SELECT stxname AS name FROM pg_statistic_ext WHERE stxnamespace = $1::regnamespace`, [schema]);
    assert.equal(stats.length, 1);
    assert.match(stats[0]!.name, /^auto_stat:[0-9a-f]{16}$/);
    assert.equal(await estimate(), 5);
  });
});

// What only the PostgreSQL store does: planner statistics on the expressions of its auto-indexes,
// and per-room group counts. Needs PostgreSQL (DATABASE_URL, or this machine's local one); skipped with the reason where absent.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { validateQuery, type Json, type SearchQuery } from '../../../src/protocol/index.js';
import { PostgresStore } from '../../../src/server/store/postgres-store.js';
import type { StoredRecord } from '../../../src/server/store/store.js';
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

describe('PostgresStore group counts', { skip: missing ?? false }, () => {
  const schema = freshSchema();
  let clock = 1_000_000;
  let store: PostgresStore;
  let scan: PostgresStore;
  const admin = new pg.Client({ connectionString: DATABASE_URL });

  before(async () => {
    // Every groupBy counts as slow, so the second one on a field starts its count.
    store = new PostgresStore({ connectionString: DATABASE_URL, schema, autoIndex: false, groupCounts: { slowMs: 0, searches: 2, maxGroups: 12, idleMs: 60_000, now: () => clock } });
    // The same tables, always answered by scanning the room: the reference.
    scan = new PostgresStore({ connectionString: DATABASE_URL, schema, autoIndex: false, groupCounts: false });
    await store.open();
    await scan.open();
    await admin.connect();
  });
  after(async () => {
    await Promise.all([store.close(), scan.close()]);
    await admin.end();
    await dropSchema(schema);
  });

  /** Values that group apart (1 and "1", null and missing) and alike ({x,y} in either key order). */
  const VALUES: Array<Json | undefined> = ['a', 'b', 1, '1', true, null, undefined, { x: 1, y: [2] }, 'b', 'a', 'a'];
  const record = (i: number, value: Json | undefined, extra: Partial<StoredRecord> = {}): StoredRecord => ({
    id: 0,
    client_id: `c${i % 7}`,
    cid: `r${i}`,
    created: 1_000 + i,
    username: null,
    user_id: `u${i % 3}`,
    data: value === undefined ? { n: i } : { n: i, o: { k: value } },
    ...extra,
  });
  const QUERY: SearchQuery = { groupBy: 'data.o.k', limit: 0 };
  const groupsOf = async (s: PostgresStore, room: string, query = QUERY) => (JSON.parse(Buffer.from(await s.search(room, validateQuery(query))).toString()) as { groups: unknown }).groups;
  const counted = async (room: string) => (await admin.query<{ counted: string[] }>(`SELECT counted FROM "${schema}".rooms WHERE name = $1`, [room])).rows[0]!.counted;
  const countRows = async (room: string) =>
    Number((await admin.query(`SELECT coalesce(sum(count), 0) AS n FROM "${schema}".group_counts g JOIN "${schema}".rooms r USING (room) WHERE r.name = $1`, [room])).rows[0].n);
  const same = async (room: string, why: string) => assert.deepEqual(await groupsOf(store, room), await groupsOf(scan, room), why);

  test('a repeated unfiltered groupBy is answered from counts that every append, duplicate, refusal and delete keeps equal to a scan', async () => {
    const room = 'proj/poll';
    await store.openRoom(room);
    await store.append(
      room,
      VALUES.map((v, i) => record(i, v)),
    );
    const before = await groupsOf(scan, room);
    assert.deepEqual(await groupsOf(store, room), before);
    assert.deepEqual(await counted(room), [], 'one search does not start a count');
    assert.deepEqual(await groupsOf(store, room), before);
    await store.indexesSettled();
    assert.deepEqual(await counted(room), ['o.k'], 'the second one does');
    assert.equal(await countRows(room), VALUES.length, 'every record counted once');
    // Ordered by count, then by the value's JSON text (missing last), as the scan orders them.
    assert.deepEqual(before, [
      { value: 'a', count: 3 },
      { value: 'b', count: 2 },
      { value: '1', count: 1 },
      { value: 1, count: 1 },
      { value: null, count: 1 },
      { value: true, count: 1 },
      { value: { x: 1, y: [2] }, count: 1 },
      { value: null, count: 1 },
    ]);

    // Appends: new values, an object with its keys the other way round, a repeat of a stored cid
    // (not stored again), and a record over the room's quota (refused).
    await store.append(room, [record(20, 'c'), record(21, { y: [2], x: 1 }), record(3, 'zzz'), record(22, 'a')]);
    await same(room, 'after appends and a repeat');
    const { records } = await store.openRoom(room).then((info) => ({ records: info.usage.records }));
    await store.append(room, [record(23, 'over')], { records, bytes: Number.MAX_SAFE_INTEGER });
    await same(room, 'after a refused append');
    assert.equal(await countRows(room), records);

    // Deletes: a moderator's, a user's erasure, retention.
    const ids = (
      JSON.parse(Buffer.from(await scan.search(room, validateQuery({ filters: [{ field: 'data.o.k', operator: '=', value: 'a' }], limit: 2 }))).toString()) as { records: Array<{ id: number }> }
    ).records.map((r) => r.id);
    await store.delete(room, ids);
    await same(room, 'after a moderator delete');
    await store.deleteUser('proj', 'u1');
    await same(room, "after a user's erasure");
    await store.expire(1_006, 100);
    await same(room, 'after retention');
    // A delete run by hand, from a session whose search_path does not name the schema.
    await admin.query(`DELETE FROM "${schema}".records WHERE id = (SELECT max(id) FROM "${schema}".records WHERE data #>> '{o,k}' = 'c')`);
    await same(room, 'after a delete by hand');
    const left = Number((await admin.query(`SELECT count(*) AS n FROM "${schema}".records r JOIN "${schema}".rooms USING (room) WHERE name = $1`, [room])).rows[0].n);
    assert.equal(await countRows(room), left, 'the counts sum to the records left');
    assert.ok(left > 0 && left < VALUES.length);
    assert.equal(Number((await admin.query(`SELECT count(*) AS n FROM "${schema}".group_counts WHERE count <= 0`)).rows[0].n), 0, 'emptied groups are removed');

    // Filtered or latest-per-client groupBys read the records (counts cannot answer them).
    for (const query of [
      { ...QUERY, latestPerClient: true },
      { ...QUERY, filters: [{ field: 'data.n', operator: '>', value: 5 }] },
    ] as SearchQuery[]) {
      assert.deepEqual(await groupsOf(store, room, query), await groupsOf(scan, room, query));
    }
  });

  test('appends racing the start of a count are each counted once', async () => {
    const room = 'proj/race';
    await store.openRoom(room);
    await store.append(
      room,
      Array.from({ length: 2_000 }, (_, i) => record(i, 'abcde'[i % 5])),
    );
    let running = true;
    let n = 10_000;
    const writers = Array.from({ length: 4 }, async () => {
      while (running)
        await store.append(
          room,
          Array.from({ length: 20 }, () => record(n++, 'abcdef'[n % 6])),
        );
    });
    await groupsOf(store, room);
    await groupsOf(store, room);
    await store.indexesSettled();
    running = false;
    await Promise.all(writers);
    assert.deepEqual(await counted(room), ['o.k']);
    await same(room, 'counts equal the scan');
    assert.equal(await countRows(room), (await store.openRoom(room)).usage.records);
  });

  test('a field with more groups than maxGroups is not counted; an idle count is dropped', async () => {
    const room = 'proj/wide';
    await store.openRoom(room);
    await store.append(
      room,
      Array.from({ length: 40 }, (_, i) => record(i, `v${i % 20}`)),
    );
    for (let i = 0; i < 4; i++) await groupsOf(store, room);
    await store.indexesSettled();
    assert.deepEqual(await counted(room), [], '20 groups > maxGroups 12');
    await same(room, 'answered by the scan');

    // proj/poll's count was last used at the clock's time: a minute later it is dropped (on the
    // next search anywhere) and its rows with it; its groupBy reads the records again.
    clock += 61_000;
    await groupsOf(store, room);
    await store.indexesSettled();
    assert.deepEqual(await counted('proj/poll'), []);
    assert.equal(await countRows('proj/poll'), 0);
    await same('proj/poll', 'answered by the scan again');
  });
});

describe('PostgresStore appends of one turn', { skip: missing ?? false }, () => {
  const schema = freshSchema();
  let store: PostgresStore;
  before(async () => {
    store = new PostgresStore({ connectionString: DATABASE_URL, schema });
    await store.open();
  });
  after(async () => {
    await store.close();
    await dropSchema(schema);
  });

  test('appends to several rooms in one turn (one statement) each get their own results: ids in order per room, repeats, quota', async () => {
    const rec = (cid: string, n: number): StoredRecord => ({ id: 0, client_id: 'c', cid, created: n, username: null, data: { n } });
    for (const room of ['turn/b', 'turn/a', 'turn/c']) await store.openRoom(room);
    await store.append('turn/a', [rec('a0', 0)]);
    // Made in one turn: room b, then a twice (its second call repeats a0 and a1), then c at its quota.
    const [b, a1, a2, c] = await Promise.all([
      store.append('turn/b', [rec('b1', 1), rec('b2', 2)]),
      store.append('turn/a', [rec('a1', 1), rec('a0', 9)]),
      store.append('turn/a', [rec('a1', 1), rec('a2', 2)]),
      store.append('turn/c', [rec('c1', 1), rec('c2', 2)], { records: 1, bytes: Number.MAX_SAFE_INTEGER }),
    ]);
    assert.deepEqual(
      b.map((r) => r.stored && [r.id, r.prev]),
      [
        [1, 0],
        [2, 1],
      ],
    );
    assert.ok(a1[0]!.stored && a1[0]!.prev === 1, 'a0 was record 1 of room a');
    assert.deepEqual(!a1[1]!.stored && 'existing' in a1[1]! && a1[1]!.existing.data, { n: 0 }, 'a repeat answers the stored copy');
    assert.deepEqual(!a2[0]!.stored && 'existing' in a2[0]! && a2[0]!.existing.id, a1[0]!.stored && a1[0]!.id, "the second call sees the first call's record");
    assert.ok(a2[1]!.stored && a2[1]!.prev === (a1[0]!.stored && a1[0]!.id), 'chained after it');
    assert.deepEqual(
      c.map((r) => (r.stored ? 'stored' : 'overQuota' in r ? 'over' : 'repeat')),
      ['stored', 'over'],
    );
  });
});

// One contract for every Store: the embedded SQLite one and PostgreSQL (with DATABASE_URL, or
// this machine's local server; skipped with the reason printed where it is absent).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { join } from 'node:path';
import { validateQuery, type SearchQuery, type VidgetRecord } from '../../../src/protocol/index.js';
import { PostgresStore } from '../../../src/server/store/postgres-store.js';
import { SqliteStore } from '../../../src/server/store/sqlite-store.js';
import type { Store, StoredRecord } from '../../../src/server/store/store.js';
import { tempDir } from '../helpers.js';
import { DATABASE_URL, dropSchema, freshSchema, postgresMissing } from '../services.js';

interface Kind {
  name: string;
  skip: string | false;
  /** Counts every match (SQLite, from its indexes) or stops at 10,000 and says so (PostgreSQL). */
  exactTotals: boolean;
  /** Opens the store; `again` reopens the same data (a restart). */
  open(again?: boolean): Promise<Store>;
  cleanup(): Promise<void>;
}

const sqliteDir = tempDir();
const schema = freshSchema();
const pgMissing = await postgresMissing();
if (pgMissing) console.log(`# skipping the PostgreSQL store contract: ${pgMissing}`);

const kinds: Kind[] = [
  {
    name: 'SqliteStore',
    skip: false,
    exactTotals: true,
    open: async () => new SqliteStore(join(sqliteDir, 'vidget.db')),
    cleanup: async () => {},
  },
  {
    name: 'PostgresStore',
    skip: pgMissing ?? false,
    exactTotals: false,
    open: async () => {
      const store = new PostgresStore({ connectionString: DATABASE_URL, schema });
      await store.open();
      return store;
    },
    cleanup: () => dropSchema(schema),
  },
];

/** Appends as the room does: a single-writer store takes the ids it is given, a shared one assigns them. */
async function put(store: Store, room: string, records: Array<Omit<StoredRecord, 'id'>>, next: { id: number }): Promise<VidgetRecord[]> {
  const withIds = records.map((r) => ({ ...r, id: store.shared ? 0 : ++next.id }));
  const results = await store.append(room, withIds);
  return results.map((result, i) => {
    const r = withIds[i]!;
    if (!result.stored) return 'existing' in result ? result.existing : assert.fail('refused by a quota');
    const id = store.shared ? result.id! : r.id;
    return { id, client_id: r.client_id, created: r.created, username: r.username, data: r.data };
  });
}

const search = async (store: Store, room: string, query: SearchQuery) =>
  JSON.parse(Buffer.from(await store.search(room, validateQuery(query))).toString()) as { records: VidgetRecord[]; total: number; groups?: Array<{ value: unknown; count: number }>; next?: number };
const ids = (records: VidgetRecord[]) => records.map((r) => r.id);

for (const kind of kinds) {
  describe(`${kind.name} contract`, { skip: kind.skip }, () => {
    let store: Store;
    const counter = { id: 0 };
    const room = 'proj/contract';
    let all: VidgetRecord[] = [];
    const t0 = 1_700_000_000_000;

    before(async () => {
      store = await kind.open();
      const info = await store.openRoom(room);
      assert.equal(typeof info.epoch, 'string');
      assert.equal(info.usage.records, 0);
      counter.id = info.lastId;
      // 40 records from 4 clients: numbers, strings, booleans, nulls and missing fields.
      const batch = Array.from({ length: 40 }, (_, i) => ({
        client_id: `client${i % 4}`,
        cid: `c${i}`,
        created: t0 + i * 1000,
        username: i % 4 === 3 ? null : `user${i % 4}`,
        user_id: i % 4 === 3 ? null : `sub${i % 4}`,
        data: { n: i, opt: ['a', 'b', 'c'][i % 3]!, flag: i % 2 === 0, text: `hello ${i}`, ...(i % 5 === 0 ? { maybe: null } : i % 5 === 1 ? {} : { maybe: i % 7 }), nested: { deep: 40 - i } },
      }));
      // Two batches, as two flushes of the pipeline.
      all = [...(await put(store, room, batch.slice(0, 25), counter)), ...(await put(store, room, batch.slice(25), counter))];
    });
    after(async () => {
      await store.close();
      await kind.cleanup();
    });

    test('appends in order: ids increase with publish order, a shared store chains each record to the one before', async () => {
      assert.equal(all.length, 40);
      for (let i = 1; i < all.length; i++) assert.ok(all[i]!.id > all[i - 1]!.id, `id ${all[i]!.id} after ${all[i - 1]!.id}`);
      if (store.shared) {
        const more = await store.append(room, [
          { id: 0, client_id: 'x', cid: 'chain1', created: t0, username: null, data: 1 },
          { id: 0, client_id: 'x', cid: 'chain2', created: t0, username: null, data: 2 },
        ]);
        assert.ok(more[0]!.stored && more[1]!.stored);
        if (more[0]!.stored && more[1]!.stored) {
          assert.equal(more[0]!.prev, all.at(-1)!.id);
          assert.equal(more[1]!.prev, more[0]!.id);
        }
        await store.delete(room, [(more[0] as { id: number }).id, (more[1] as { id: number }).id]);
      }
    });

    test('dedupe by (client_id, cid): a repeat is not stored again and answers the stored record', async () => {
      const results = await store.append(room, [{ id: store.shared ? 0 : ++counter.id, client_id: 'client1', cid: 'c5', created: t0 + 999_999, username: 'user1', data: { other: true } }]);
      assert.equal(results[0]!.stored, false);
      const first = results[0]!;
      if (!first.stored) assert.deepEqual('existing' in first && first.existing, all[5]);
      assert.deepEqual(await store.lookup(room, 'client1', 'c5'), all[5]);
      assert.equal(await store.lookup(room, 'client1', 'nope'), undefined);
    });

    test('replay by cursor and by interval, newest within the caps, oldest first', async () => {
      const after10 = await store.replay(room, { afterId: all[9]!.id }, { records: 100, bytes: 1e9 });
      assert.deepEqual(
        after10.records.map((r) => r.id),
        ids(all.slice(10)),
      );
      assert.deepEqual(JSON.parse(after10.records[0]!.json), all[10]);
      assert.equal(after10.truncated, false);
      const capped = await store.replay(room, { afterId: 0 }, { records: 5, bytes: 1e9 });
      assert.deepEqual(
        capped.records.map((r) => r.id),
        ids(all.slice(35)),
      );
      assert.equal(capped.truncated, true);
      const recent = await store.replay(room, { createdSince: t0 + 30_000 }, { records: 100, bytes: 1e9 });
      assert.deepEqual(
        recent.records.map((r) => r.id),
        ids(all.slice(30)),
      );
      const small = await store.replay(room, { afterId: 0 }, { records: 100, bytes: 1 });
      assert.equal(small.records.length, 1, 'at least one record, whatever its size');
    });

    test('every filter operator', async () => {
      const check = async (filters: SearchQuery['filters'], expected: (r: VidgetRecord, i: number) => boolean) => {
        const out = await search(store, room, { filters, limit: 100 });
        const want = all.filter(expected);
        assert.deepEqual(ids(out.records), ids(want), JSON.stringify(filters));
        assert.equal(out.total, want.length);
      };
      const d = (r: VidgetRecord) => r.data as Record<string, unknown>;
      await check([{ field: 'data.opt', operator: '=', value: 'b' }], (r) => d(r).opt === 'b');
      await check([{ field: 'data.n', operator: '=', value: 7 }], (r) => d(r).n === 7);
      await check([{ field: 'data.opt', operator: '!=', value: 'b' }], (r) => d(r).opt !== 'b');
      await check([{ field: 'data.n', operator: '>', value: 30 }], (r) => (d(r).n as number) > 30);
      await check([{ field: 'data.n', operator: '>=', value: 30 }], (r) => (d(r).n as number) >= 30);
      await check([{ field: 'data.n', operator: '<', value: 3 }], (r) => (d(r).n as number) < 3);
      await check([{ field: 'data.n', operator: '<=', value: 3 }], (r) => (d(r).n as number) <= 3);
      await check([{ field: 'data.opt', operator: '>', value: 'a' }], (r) => (d(r).opt as string) > 'a');
      await check([{ field: 'data.n', operator: 'in', value: [1, 2, 39] }], (r) => [1, 2, 39].includes(d(r).n as number));
      await check([{ field: 'data.opt', operator: 'in', value: ['a', 'c'] }], (r) => ['a', 'c'].includes(d(r).opt as string));
      await check([{ field: 'data.text', operator: 'contains', value: 'lo 1' }], (r) => (d(r).text as string).includes('lo 1'));
      await check([{ field: 'data.maybe', operator: 'exists' }], (r) => 'maybe' in d(r));
      await check([{ field: 'data.maybe', operator: 'exists', value: false }], (r) => !('maybe' in d(r)));
      await check([{ field: 'data.maybe', operator: '=', value: null }], (r) => d(r).maybe === null || d(r).maybe === undefined);
      await check([{ field: 'data.flag', operator: '=', value: true }], (r) => d(r).flag === true);
      // A number never matches a boolean (true is not 1).
      await check([{ field: 'data.flag', operator: '=', value: 1 }], () => false);
      await check([{ field: 'data.maybe', operator: '<', value: 1 }], (r) => typeof d(r).maybe === 'number' && (d(r).maybe as number) < 1);
      await check([{ field: 'data.nested.deep', operator: '<=', value: 2 }], (r) => (d(r).nested as { deep: number }).deep <= 2);
      await check([{ field: 'client_id', operator: '=', value: 'client2' }], (r) => r.client_id === 'client2');
      await check([{ field: 'username', operator: '=', value: null }], (r) => r.username === null);
      await check([{ field: 'created', operator: '>=', value: t0 + 35_000 }], (r) => r.created >= t0 + 35_000);
      await check(
        [
          { field: 'id', operator: '>', value: all[20]!.id },
          { field: 'data.flag', operator: '=', value: false },
        ],
        (r, i) => i > 20 && d(r).flag === false,
      );
    });

    test('sort, offset and limit; groupBy; latestPerClient', async () => {
      const byN = await search(store, room, { sortField: 'data.n', sortOrder: 'desc', limit: 5, offset: 2 });
      assert.deepEqual(ids(byN.records), ids(all.slice().reverse().slice(2, 7)));
      assert.equal(byN.total, 40);
      const byText = await search(store, room, { sortField: 'username', sortOrder: 'asc', limit: 40 });
      const expected = all.slice().sort((a, b) => (a.username === b.username ? a.id - b.id : a.username === null ? -1 : b.username === null ? 1 : a.username < b.username ? -1 : 1));
      assert.deepEqual(ids(byText.records), ids(expected), 'missing first ascending, ties by id');
      const groups = await search(store, room, { groupBy: 'data.opt', limit: 0 });
      assert.deepEqual(groups.groups, [
        { value: 'a', count: 14 },
        { value: 'b', count: 13 },
        { value: 'c', count: 13 },
      ]);
      assert.deepEqual(groups.records, []);
      const byClient = await search(store, room, { groupBy: 'client_id', limit: 0 });
      assert.deepEqual(
        byClient.groups,
        ['client0', 'client1', 'client2', 'client3'].map((value) => ({ value, count: 10 })),
      );
      const latest = await search(store, room, { latestPerClient: true, sortField: 'id', limit: 10 });
      assert.deepEqual(ids(latest.records), ids(all.slice(36)));
      const latestB = await search(store, room, { latestPerClient: true, filters: [{ field: 'data.opt', operator: '=', value: 'b' }], limit: 10 });
      assert.deepEqual(ids(latestB.records), ids(all.slice(36).filter((r) => (r.data as { opt: string }).opt === 'b')));
    });

    test('past 10,000 matches total is exact (SQLite) or a flagged lower bound (PostgreSQL), and the deepest offset page still comes', async () => {
      const big = 'bigproj/contract-big'; // another project: the usage test counts proj's rooms
      const { lastId } = await store.openRoom(big);
      const next = { id: lastId };
      const many = 10_050;
      for (let i = 0; i < many; i += 1000) {
        const rows = Array.from({ length: Math.min(1000, many - i) }, (_, k) => ({ client_id: 'c', cid: `b${i + k}`, created: t0 + 1e9 + i + k, username: null, user_id: null, data: { k: i + k } }));
        await put(store, big, rows, next);
      }
      const answer = (await search(store, big, { filters: [{ field: 'data.k', operator: '>=', value: 0 }], sortField: 'data.k', offset: 10_000, limit: 100 })) as {
        records: VidgetRecord[];
        total: number;
        totalExact?: false;
      };
      if (kind.exactTotals) assert.deepEqual([answer.total, answer.totalExact], [many, undefined]);
      else assert.deepEqual([answer.total, answer.totalExact], [10_000, false], 'a lower bound says where counting stopped');
      assert.deepEqual(
        answer.records.map((r) => (r.data as { k: number }).k),
        Array.from({ length: 50 }, (_, i) => 10_000 + i),
      );
      const few = (await search(store, big, { filters: [{ field: 'data.k', operator: '<', value: 10 }], limit: 0 })) as { total: number; totalExact?: false };
      assert.equal(few.total, 10);
      assert.equal(few.totalExact, undefined, 'a count below the cap is exact');
    });

    test('keyset pages (after) walk the whole sorted set once, with missing values, in both directions', async () => {
      for (const [sortField, sortOrder] of [
        ['data.maybe', 'asc'],
        ['data.maybe', 'desc'],
        ['data.n', 'desc'],
        ['id', 'asc'],
        ['username', 'desc'],
      ] as const) {
        const full = await search(store, room, { sortField, sortOrder, limit: 100 });
        const seen: number[] = [];
        let after: number | undefined;
        for (let pages = 0; pages < 20; pages++) {
          const page = await search(store, room, { sortField, sortOrder, limit: 7, ...(after === undefined ? {} : { after }) });
          seen.push(...ids(page.records));
          if (page.next === undefined) break;
          after = page.next;
        }
        assert.deepEqual(seen, ids(full.records), `${sortField} ${sortOrder}`);
        assert.equal(new Set(seen).size, 40);
      }
    });

    test("delete, a user's records, usage, rooms of a project, expiry", async () => {
      const other = 'proj/other';
      await store.openRoom(other);
      const o = { id: (await store.openRoom(other)).lastId };
      const extra = await put(
        store,
        other,
        [
          { client_id: 'k', cid: 'x1', created: t0, username: 'user1', user_id: 'sub1', data: 'abc' },
          { client_id: 'k', cid: 'x2', created: t0 + 10, username: null, data: 'defg' },
        ],
        o,
      );
      const usage = await store.projectUsage('proj');
      assert.equal(usage.records, 42);
      const rooms = await store.listRooms('proj');
      assert.deepEqual(
        rooms.map((r) => [r.room, r.records]),
        [
          ['proj/contract', 40],
          ['proj/other', 2],
        ],
      );
      assert.deepEqual(await store.listRooms('pro'), [], 'another project whose name is a prefix');

      const removed = await store.delete(room, [all[0]!.id, all[1]!.id, 999_999]);
      assert.deepEqual(removed.ids, [all[0]!.id, all[1]!.id]);
      assert.equal(removed.bytes, Buffer.byteLength(JSON.stringify(all[0]!.data)) + Buffer.byteLength(JSON.stringify(all[1]!.data)));
      const byUser = await store.deleteUser('proj', 'sub1');
      assert.deepEqual(byUser.map((r) => [r.room, r.records]).sort(), [
        ['proj/contract', 9],
        ['proj/other', 1],
      ]);
      const expired = await store.expire(t0 + 5_000, 100);
      assert.deepEqual(expired.map((e) => [e.room, e.records]).sort(), [
        ['proj/contract', 3],
        ['proj/other', 1],
      ]);
      assert.equal((await store.projectUsage('proj')).records, 42 - 2 - 10 - 4);
      assert.equal(extra.length, 2);
      const left = await search(store, room, { limit: 100 });
      assert.equal(left.total, 40 - 2 - 9 - 3);
    });

    test('a restart keeps records, the epoch and the id high-water mark', async () => {
      const before = await store.openRoom(room);
      const total = (await search(store, room, { limit: 0 })).total;
      await store.close();
      store = await kind.open(true);
      const again = await store.openRoom(room);
      assert.equal(again.epoch, before.epoch);
      assert.ok(again.lastId >= before.lastId);
      assert.equal((await search(store, room, { limit: 0 })).total, total);
      const [next] = await put(store, room, [{ client_id: 'z', cid: 'after-restart', created: Date.now(), username: null, data: 1 }], { id: again.lastId });
      assert.ok(next!.id > all.at(-1)!.id, 'ids go on above every id handed out');
    });
  });
}

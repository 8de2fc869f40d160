import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { SyncedFrame } from '../../src/protocol/index.js';
import { join } from 'node:path';
import { SqliteStore, type ReplayFrom, type ReplayLimit, type VidgetServer } from '../../src/server/index.js';
import { TestClient, startServer, tempDir } from './helpers.js';

/** Record data seen by a client in the order received (replayed and live). */
const seen = (c: TestClient): unknown[] => c.frames.filter((f) => f.type === 'msg').map((f) => (f.type === 'msg' ? f.record.data : null));

describe('catch-up', () => {
  let server: VidgetServer;
  before(async () => (server = await startServer({ maxReplay: 50 })));
  after(() => server.close());

  test('since: replays stored records after the cursor, then synced, then live', async () => {
    const pub = await TestClient.joined(server, 'p', 'since');
    const acks = [];
    for (let i = 0; i < 5; i++) acks.push(await pub.publish(i));
    const reader = await TestClient.connect(server, 'p', 'since', { since: acks[1]!.record.id });
    const synced = await reader.next('synced');
    assert.deepEqual(seen(reader), [2, 3, 4]);
    assert.equal(synced.until, acks[4]!.record.id);
    assert.equal(synced.recovered, true);
    assert.equal(synced.replayed, 3);
    await pub.publish('live');
    await reader.next('msg', (f) => f.record.data === 'live');
    assert.deepEqual(seen(reader), [2, 3, 4, 'live']);
    await pub.close();
    await reader.close();
  });

  test('since with publishes racing the replay: no gap and no duplicate across the boundary', async () => {
    const pub = await TestClient.joined(server, 'p', 'race');
    for (let i = 0; i < 20; i++) await pub.publish(i);
    let cursor = (await pub.publish(20)).record.id;
    for (let round = 0; round < 5; round++) {
      // Publishes in flight while readers connect and replay.
      const burst = Array.from({ length: 30 }, (_, i) => `r${round}-${i}`);
      const readersP = Promise.all(Array.from({ length: 4 }, () => TestClient.connect(server, 'p', 'race', { since: cursor })));
      burst.forEach((data, i) => pub.send({ type: 'pub', cid: `${data}`, data, persist: i % 3 !== 0 }));
      const readers = await readersP;
      await Promise.all(burst.map((cid) => pub.next('ack', (f) => f.cid === cid)));
      const end = await pub.publish(`end-${round}`, true);
      for (const reader of readers) {
        await reader.next('msg', (f) => f.record.data === `end-${round}`);
        assert.equal(reader.frames.find((f) => f.type === 'synced')?.type === 'synced' && (reader.frames.find((f) => f.type === 'synced') as { recovered: boolean }).recovered, true);
        const ids = reader.frames.filter((f) => f.type === 'msg').map((f) => (f.type === 'msg' ? f.record.id : 0));
        assert.deepEqual(
          ids,
          [...ids].sort((a, b) => a - b),
          'in id order',
        );
        assert.equal(new Set(ids).size, ids.length, 'no duplicate');
        // Every persisted record after the cursor is there (ephemeral ones may predate the join).
        const persisted = await reader.search({ filters: [{ field: 'id', operator: '>', value: cursor }], limit: 1000 });
        const stored = persisted.type === 'result' ? persisted.records.map((r) => r.id) : [];
        for (const id of stored) assert.ok(ids.includes(id), `missing stored record ${id}`);
        await reader.close();
      }
      cursor = end.record.id;
    }
    await pub.close();
  });

  test('catchup interval: replays records of the last N seconds on first connect', async () => {
    const pub = await TestClient.joined(server, 'p', 'interval');
    await pub.publish('a');
    await pub.publish('b', false); // ephemeral: never replayed
    await pub.publish('c');
    const reader = await TestClient.connect(server, 'p', 'interval', { catchup: '30s' });
    const synced = await reader.next('synced');
    assert.deepEqual(seen(reader), ['a', 'c']);
    assert.equal(synced.replayed, 2);
    assert.equal(synced.recovered, true);
    await pub.close();
    await reader.close();
  });

  test('a cursor from another epoch says recovered: false instead of replaying a wrong range', async () => {
    const pub = await TestClient.joined(server, 'p', 'epoch');
    const { record } = await pub.publish('x');
    const reader = await TestClient.connect(server, 'p', 'epoch', { since: record.id, epoch: 'someotherepoch' });
    const synced = await reader.next('synced');
    assert.equal(synced.recovered, false);
    const ahead = await TestClient.connect(server, 'p', 'epoch', { since: record.id + 1000 });
    assert.equal((await ahead.next('synced')).recovered, false, 'a cursor past the room end is a gap');
    await Promise.all([pub.close(), reader.close(), ahead.close()]);
  });

  test('past the replay cap: the newest records, and recovered: false', async () => {
    const pub = await TestClient.joined(server, 'p', 'cap');
    for (let i = 0; i < 60; i++) pub.send({ type: 'pub', cid: `k${i}`, data: i, persist: true });
    await pub.next('ack', (f) => f.cid === 'k59');
    const reader = await TestClient.connect(server, 'p', 'cap', { since: 0 });
    const synced = await reader.next('synced');
    assert.equal(synced.recovered, false);
    assert.equal(synced.replayed, 50);
    assert.deepEqual(
      seen(reader),
      Array.from({ length: 50 }, (_, i) => i + 10),
    );
    await pub.close();
    await reader.close();
  });

  test('every connection gets hello and synced, even without asking for catch-up', async () => {
    const c = await TestClient.connect(server, 'p', 'plain');
    assert.equal((await c.next('hello')).protocol, 1);
    const synced: SyncedFrame = await c.next('synced');
    assert.equal(synced.replayed, 0);
    await c.close();
  });
});

describe('restart', () => {
  test('persisted records, ids and the epoch survive a server restart', async () => {
    const dataDir = tempDir();
    let server = await startServer({ dataDir });
    const a = await TestClient.joined(server, 'p', 'keep');
    const first = await a.publish({ n: 1 });
    await a.publish({ n: 2 }, false);
    const epoch = (a.frames.find((f) => f.type === 'hello') as { epoch: string }).epoch;
    await a.close();
    await server.close();

    server = await startServer({ dataDir });
    const b = await TestClient.connect(server, 'p', 'keep', { since: 0, epoch });
    const synced = await b.next('synced');
    assert.equal(synced.recovered, true);
    assert.equal(synced.epoch, epoch);
    assert.deepEqual(seen(b), [{ n: 1 }]);
    const next = await b.publish({ n: 3 });
    assert.ok(next.record.id > first.record.id, 'ids keep growing after a restart');
    const again = await b.search({});
    assert.equal(again.type === 'result' && again.total, 2);
    await b.close();
    await server.close();
  });
});

describe('catch-up with a slow store', () => {
  test('a reader that publishes during its replay gets its ack after the replayed records, never before (its cursor would skip them)', async (t) => {
    // A real SQLite store whose replay waits on the test, as a remote store's round trip would.
    let open!: () => void;
    class GatedStore extends SqliteStore {
      gate: Promise<void> | undefined;
      override async replay(name: string, from: ReplayFrom, limit: ReplayLimit) {
        await this.gate;
        return super.replay(name, from, limit);
      }
    }
    const dir = tempDir();
    const store = new GatedStore(join(dir, 'vidget.db'));
    const server = await startServer({ dataDir: dir, store });
    t.after(() => server.close());
    const pub = await TestClient.joined(server, 'p', 'gated');
    const ids: number[] = [];
    for (let i = 0; i < 5; i++) ids.push((await pub.publish(i)).record.id);
    store.gate = new Promise((resolve) => (open = resolve));
    const reader = await TestClient.connect(server, 'p', 'gated', { since: ids[1]! });
    await reader.next('hello');
    reader.send({ type: 'pub', cid: 'mine', data: 'mine', persist: true });
    await pub.next('msg', (f) => f.record.data === 'mine'); // stored and broadcast while the replay waits
    open();
    await reader.next('synced');
    await reader.next('ack', (f) => f.cid === 'mine');
    const order = reader.frames.filter((f) => f.type === 'msg' || f.type === 'ack').map((f) => (f.type === 'msg' || f.type === 'ack' ? `${f.type}${f.record.id}` : ''));
    // The reader's own record was stored before the replay read, so it is replayed too; its ack
    // still comes (the publish must settle), and after it, never before the older records.
    const own = ids[4]! + 1;
    assert.deepEqual(order, [...ids.slice(2).map((id) => `msg${id}`), `msg${own}`, `ack${own}`]);
    await pub.close();
    await reader.close();
  });
});

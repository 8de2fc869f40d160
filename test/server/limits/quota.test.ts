// Storage without bound: one address grew the database at 46 MB/s. Quotas per room and per
// project (records and bytes) refuse persistent publishes past them with `quota_exceeded`, the
// counts survive a restart, retention frees them, and ids are never handed out twice.
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ErrorCode } from '../../../src/protocol/index.js';
import { PostgresStore } from '../../../src/server/store/postgres-store.js';
import { startServer, tempDir, TestClient, until } from '../helpers.js';
import { DATABASE_URL, dropSchema, freshSchema, postgresMissing } from '../services.js';

/** Publishes and returns the ack, or the error code. */
async function tryPublish(c: TestClient, data: unknown, persist = true): Promise<string> {
  const cid = `q${Math.random().toString(36).slice(2, 10)}`;
  c.send({ type: 'pub', cid, data, persist });
  const f = await c.next((x) => (x.type === 'ack' || x.type === 'err') && 'cid' in x && x.cid === cid);
  return f.type === 'ack' ? 'ack' : (f as { code: string }).code;
}

describe('storage quotas', () => {
  test('a room takes its record quota, then persistent publishes get quota_exceeded; ephemeral ones still flow; the count survives a restart', async () => {
    const dataDir = tempDir();
    let server = await startServer({ dataDir, quota: { roomRecords: 5 } });
    let c = await TestClient.joined(server, 'p', 'small');
    for (let i = 0; i < 5; i++) assert.equal(await tryPublish(c, { i }), 'ack');
    assert.equal(await tryPublish(c, { i: 5 }), ErrorCode.QuotaExceeded);
    assert.equal(await tryPublish(c, { live: true }, false), 'ack', 'ephemeral traffic is not stored, so not counted');
    const other = await TestClient.joined(server, 'p', 'other-room');
    assert.equal(await tryPublish(other, { x: 1 }), 'ack', 'another room has its own quota');
    await Promise.all([c.close(), other.close()]);
    await server.close();
    server = await startServer({ dataDir, port: server.port, quota: { roomRecords: 5 } });
    c = await TestClient.joined(server, 'p', 'small');
    assert.equal(await tryPublish(c, { i: 6 }), ErrorCode.QuotaExceeded, 'after a restart');
    await c.close();
    await server.close();
  });

  test('byte quotas per room, and a project quota over all its rooms', async (t) => {
    const server = await startServer({ quota: { roomBytes: 1000, projectRecords: 4 } });
    t.after(() => server.close());
    const c = await TestClient.joined(server, 'bytes', 'r1');
    assert.equal(await tryPublish(c, 'x'.repeat(900)), 'ack');
    assert.equal(await tryPublish(c, 'x'.repeat(200)), ErrorCode.QuotaExceeded);
    assert.equal(await tryPublish(c, 'x'.repeat(50)), 'ack', 'a smaller one still fits');
    const rooms = await Promise.all(['a', 'b', 'c'].map((r) => TestClient.joined(server, 'proj', r)));
    const results = [];
    for (const room of rooms) for (let i = 0; i < 2; i++) results.push(await tryPublish(room, { i }));
    assert.deepEqual(results, ['ack', 'ack', 'ack', 'ack', ErrorCode.QuotaExceeded, ErrorCode.QuotaExceeded]);
    await Promise.all([c, ...rooms].map((x) => x.close()));
  });

  test('disk growth stops at the quota: a flood of large records leaves the database file flat', async (t) => {
    const dataDir = tempDir();
    const server = await startServer({ dataDir, quota: { projectBytes: 2 * 2 ** 20 } });
    t.after(() => server.close());
    const c = await TestClient.joined(server, 'flood', 'r');
    const big = 'y'.repeat(60_000);
    let refused = 0;
    for (let i = 0; i < 60 && refused < 5; i++) if ((await tryPublish(c, big)) === ErrorCode.QuotaExceeded) refused++;
    assert.equal(refused, 5);
    const file = join(dataDir, 'vidget.db');
    const size = () => statSync(file).size + statSync(`${file}-wal`, { throwIfNoEntry: false })!.size;
    const before = size();
    for (let i = 0; i < 30; i++) assert.equal(await tryPublish(c, big), ErrorCode.QuotaExceeded);
    assert.ok(size() <= before, `the files grew from ${before} to ${size()} bytes`);
    assert.ok(before < 6 * 2 ** 20, `${before} bytes on disk for a 2 MiB quota`);
    await c.close();
  });

  test('retention deletes old records and frees their quota', async (t) => {
    const server = await startServer({ quota: { roomRecords: 3 }, retentionMs: 300 });
    t.after(() => server.close());
    const c = await TestClient.joined(server, 'p', 'retained');
    for (let i = 0; i < 3; i++) assert.equal(await tryPublish(c, { i }), 'ack');
    assert.equal(await tryPublish(c, { i: 3 }), ErrorCode.QuotaExceeded);
    // The sweep runs every max(1 s, age / 10); wait for what it does, not for a guessed time.
    const deadline = Date.now() + 8_000;
    const total = async () => {
      const r = await c.search({ limit: 0 });
      return r.type === 'result' ? r.total : -1;
    };
    while ((await total()) !== 0) {
      assert.ok(Date.now() < deadline, 'the old records expired within 8 s');
      await new Promise((r) => setTimeout(r, 50)); // polling the store: expiry has no event of its own
    }
    assert.equal(await tryPublish(c, { i: 4 }), 'ack', 'the quota is free again');
    await c.close();
  });
});

describe('record ids', () => {
  test('ids are never reused: not after the room empties, not after a restart, not for ephemeral messages', async () => {
    const dataDir = tempDir();
    let server = await startServer({ dataDir });
    const seen = new Set<number>();
    const publishSome = async () => {
      const c = await TestClient.joined(server, 'p', 'ids');
      for (let i = 0; i < 5; i++) {
        const { record } = await c.publish({ i }, i % 2 === 0);
        assert.ok(!seen.has(record.id), `id ${record.id} was handed out before`);
        seen.add(record.id);
      }
      await c.close();
      await until(() => server.stats().rooms === 0, 'the empty room to be dropped');
    };
    await publishSome();
    await publishSome();
    await server.close();
    server = await startServer({ dataDir, port: server.port });
    await publishSome();
    await server.close();
    assert.equal(seen.size, 15);
  });
});

const pgMissing = await postgresMissing();
if (pgMissing) console.log(`# skipping the two-process quota test: ${pgMissing}`);

describe('storage quotas on PostgreSQL, two processes', { skip: pgMissing ?? false }, () => {
  test('publishers on two processes fill a room to exactly its quota, never past it', async (t) => {
    const schema = freshSchema();
    const quota = { roomRecords: 10, roomBytes: 1_000 };
    const [one, two] = [
      await startServer({ quota, store: new PostgresStore({ connectionString: DATABASE_URL, schema }) }),
      await startServer({ quota, store: new PostgresStore({ connectionString: DATABASE_URL, schema }) }),
    ];
    t.after(async () => {
      await Promise.all([one.close(), two.close()]);
      await dropSchema(schema);
    });
    // Both rooms are open (and have counted 0) before either stores anything.
    const [a, b] = [await TestClient.joined(one, 'p', 'shared'), await TestClient.joined(two, 'p', 'shared')];
    const outcomes = await Promise.all([...Array.from({ length: 8 }, (_, i) => tryPublish(a, { a: i })), ...Array.from({ length: 8 }, (_, i) => tryPublish(b, { b: i }))]);
    assert.equal(outcomes.filter((o) => o === 'ack').length, 10);
    assert.equal(outcomes.filter((o) => o === ErrorCode.QuotaExceeded).length, 6);
    const answer = await b.search({ limit: 0 });
    assert.equal(answer.type === 'result' && answer.total, 10);
    assert.equal(await tryPublish(a, { late: true }), ErrorCode.QuotaExceeded, 'the node that stored less knows the room is full');
    await Promise.all([a.close(), b.close()]);
  });
});

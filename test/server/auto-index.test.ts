// Auto-indexes: earned by repeated slow searches of a field in a room, built off the event loop,
// capped per project and in total, fair across projects, dropped when unused, kept across restarts.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { SqliteStore, type VidgetServer } from '../../src/server/index.js';
import { AutoIndexPolicy } from '../../src/server/store/auto-index-policy.js';
import { TestClient, fillRoom, startServer, tempDir } from './helpers.js';

describe('auto-index policy', () => {
  const clock = (start = 1_000_000) => {
    const c = { t: start, now: () => c.t };
    return c;
  };

  test('a field earns an index after 3 slow searches within the window; fast or spread-out searches do not count', () => {
    const c = clock();
    const p = new AutoIndexPolicy({ searches: 3, windowMs: 60_000, now: c.now });
    assert.deepEqual(p.touch('a', ['f'], false), {});
    assert.deepEqual(p.touch('a', ['f'], false), {});
    assert.deepEqual(p.touch('a', ['f'], false), {}, 'fast searches need no index');
    assert.deepEqual(p.touch('a', ['f'], true), {});
    c.t += 61_000;
    assert.deepEqual(p.touch('a', ['f'], true), {});
    assert.deepEqual(p.touch('a', ['f'], true), {}, 'the first slow search fell out of the window');
    assert.deepEqual(p.touch('a', ['f'], true), { build: 'f' });
    assert.deepEqual(p.touch('a', ['f'], true), {}, 'built once');
  });

  test('a project holds at most perProject indexes; a field searched more often than its least-used one takes its place', () => {
    const p = new AutoIndexPolicy({ searches: 3, perProject: 2, now: clock().now });
    const earn = (project: string, name: string, times = 3) => {
      let decision = {};
      for (let i = 0; i < times; i++) decision = p.touch(project, [name], true);
      return decision;
    };
    assert.deepEqual(earn('a', 'x'), { build: 'x' });
    assert.deepEqual(earn('a', 'y'), { build: 'y' });
    p.touch('a', ['x'], false); // x is used: 4 uses to y's 3
    assert.deepEqual(earn('a', 'z'), {}, 'z (3 searches) does not beat y (3 uses)');
    assert.deepEqual(p.touch('a', ['z'], true), { build: 'z', drop: 'y' }, 'z (4) beats y (3); x stays');
    assert.deepEqual(earn('b', 'w'), { build: 'w' }, 'another project is not limited by a');
  });

  test('with the store full, a project holding fewer takes a slot from the one holding the most, however hot its junk', () => {
    const p = new AutoIndexPolicy({ searches: 3, perProject: 8, total: 4, now: clock().now });
    for (const name of ['j1', 'j2', 'j3', 'j4']) for (let i = 0; i < 20; i++) p.touch('junk', [name], true);
    assert.deepEqual(p.held.sort(), ['j1', 'j2', 'j3', 'j4']);
    let decision = {};
    for (let i = 0; i < 3; i++) decision = p.touch('real', ['score'], true);
    assert.equal((decision as { build?: string }).build, 'score');
    assert.match((decision as { drop?: string }).drop ?? '', /^j\d$/);
  });

  test('indexes no search touched for idleMs are dropped; the ones in use stay', () => {
    const c = clock();
    const p = new AutoIndexPolicy({ searches: 1, idleMs: 10_000, now: c.now });
    p.touch('a', ['used'], true);
    p.touch('a', ['unused'], true);
    c.t += 6_000;
    p.touch('a', ['used'], false);
    c.t += 6_000;
    assert.deepEqual(p.idle(), ['unused']);
    assert.deepEqual(p.held, ['used']);
  });

  test('candidates are remembered in a bounded list: a flood of junk fields pushes old ones out', () => {
    const p = new AutoIndexPolicy({ searches: 3, now: clock().now });
    p.touch('a', ['f'], true);
    p.touch('a', ['f'], true);
    for (let i = 0; i < 2_000; i++) p.touch('a', [`junk${i}`], true);
    assert.deepEqual(p.touch('a', ['f'], true), {}, 'f was forgotten');
  });
});

/** The names of the auto-indexes in a database file, read through a connection of the test's own. */
function indexesIn(file: string): string[] {
  const db = new Database(file, { readonly: true });
  try {
    return (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'auto:%' ORDER BY name`).all() as Array<{ name: string }>).map((r) => r.name);
  } finally {
    db.close();
  }
}

async function serverWith(dir: string, autoIndex: ConstructorParameters<typeof AutoIndexPolicy>[0]): Promise<{ server: VidgetServer; store: SqliteStore; file: string }> {
  const file = join(dir, 'vidget.db');
  const store = new SqliteStore(file, { autoIndex: { slowMs: 0, ...autoIndex } });
  return { server: await startServer({ dataDir: dir, store, rateLimit: { perSecond: 1e6, burst: 1e6 } }), store, file };
}

const byScore = { filters: [{ field: 'data.score', operator: '>', value: 900 }], sortField: 'data.score', sortOrder: 'desc' as const, limit: 5 };

describe('auto-indexes in the store', () => {
  test('built after the third search of a field, serving the same answers; kept across a restart; earlier global ones dropped', async () => {
    const dir = tempDir();
    let { server, store, file } = await serverWith(dir, {});
    await fillRoom(server, 'p/a', 5_000, (n) => ({ score: (n * 7919) % 1000 }));
    const c = await TestClient.joined(server, 'p', 'a');
    const answers = [];
    for (let i = 0; i < 3; i++) {
      assert.deepEqual(indexesIn(file), [], `no index after ${i} searches`);
      answers.push(await c.search(byScore));
    }
    await store.indexesSettled();
    const [name] = indexesIn(file);
    assert.match(name ?? '', /^auto:\d+:value:score$/);
    const indexed = await c.search(byScore);
    assert.deepEqual(indexed.type === 'result' && indexed.records, answers[0]!.type === 'result' && answers[0]!.records);
    await c.close();
    await server.close();

    // An index of the old global kind, as an earlier version left it.
    const db = new Database(file);
    db.exec(`CREATE INDEX "auto:value:option" ON records (room, json_extract(data, '$."option"'))`);
    db.close();
    ({ server, store } = await serverWith(dir, {}));
    await store.indexesSettled();
    assert.deepEqual(indexesIn(file), [name], 'ours survive a restart; the legacy global one is gone');
    await server.close();
  });

  test('junk fields in other projects cannot keep a real field from its index (store full)', async () => {
    const { server, store, file } = await serverWith(tempDir(), { perProject: 2, total: 3, buildGap: 0 });
    for (const room of ['junk1/r', 'junk2/r', 'real/r']) await fillRoom(server, room, 500, (n) => ({ score: n, a: n, b: n }));
    const search = async (project: string, field: string) => {
      const c = await TestClient.joined(server, project, 'r');
      for (let i = 0; i < 3; i++) await c.search({ filters: [{ field, operator: '>', value: 1 }] });
      await c.close();
      await store.indexesSettled();
    };
    await search('junk1', 'data.a');
    await search('junk1', 'data.b');
    await search('junk2', 'data.a');
    assert.equal(indexesIn(file).length, 3, 'the store is full of junk');
    await search('real', 'data.score');
    const held = indexesIn(file);
    assert.equal(held.length, 3);
    assert.ok(
      held.some((n) => n.endsWith(':value:score')),
      `real got its index: ${held}`,
    );
    assert.equal(held.filter((n) => n.endsWith(':value:a') || n.endsWith(':value:b')).length, 2, 'one junk index gave way');
    await server.close();
  });

  test('an index no search touched for idleMs is dropped', async () => {
    const clock = { t: 1_000_000 };
    const { server, store, file } = await serverWith(tempDir(), { idleMs: 60_000, now: () => clock.t });
    await fillRoom(server, 'p/a', 500, (n) => ({ score: n, other: n }));
    const c = await TestClient.joined(server, 'p', 'a');
    for (let i = 0; i < 3; i++) await c.search(byScore);
    await store.indexesSettled();
    assert.equal(indexesIn(file).length, 1);
    clock.t += 30_000;
    await c.search({ limit: 1 }); // touches no data field: the index stays
    await store.indexesSettled();
    assert.equal(indexesIn(file).length, 1);
    clock.t += 61_000;
    await c.search({ limit: 1 });
    await store.indexesSettled();
    assert.deepEqual(indexesIn(file), []);
    await c.close();
    await server.close();
  });

  test("a build runs off the event loop: other rooms' acks keep flowing, persistent ones wait for the write lock and none is refused", async (t) => {
    const { server, store } = await serverWith(tempDir(), {});
    t.after(() => server.close()); // also when an assertion fails: an open server keeps the test process alive
    await fillRoom(server, 'p/big', 120_000, (n) => ({ text: `message ${n} ${'z'.repeat(80)}` }));
    const searcher = await TestClient.joined(server, 'p', 'big');
    const writer = await TestClient.joined(server, 'q', 'stored');
    const pinger = await TestClient.joined(server, 'q', 'ping');
    // The rooms' first publishes reserve their ids (a write, which would wait for the build's lock).
    await pinger.publish({ warm: true }, false);
    await writer.publish({ warm: true }, true);
    for (let i = 0; i < 3; i++) await searcher.search({ groupBy: 'data.text', limit: 0 });
    // The third search's answer came after the build was started.
    let built = false;
    const started = performance.now();
    const settled = store.indexesSettled().then(() => (built = true));
    const pings: number[] = [];
    const stored: Array<ReturnType<TestClient['publish']>> = [];
    while (!built) {
      const t = performance.now();
      stored.push(writer.publish({ n: pings.length }, true));
      await pinger.publish({ n: pings.length }, false);
      if (!built) pings.push(performance.now() - t);
    }
    await settled;
    const buildMs = performance.now() - started;
    for (const ack of await Promise.all(stored)) assert.equal(ack.persisted, true);
    assert.equal(writer.frames.filter((f) => f.type === 'err').length, 0, 'no publish was refused');
    // Two at least: a loaded machine builds the index in about as long as a few acks take.
    assert.ok(pings.length >= 2, `${pings.length} acks during a ${buildMs.toFixed(0)} ms build`);
    assert.ok(Math.max(...pings) < buildMs / 3, `slowest ack ${Math.max(...pings).toFixed(1)} ms during a ${buildMs.toFixed(0)} ms build`);
    await Promise.all([searcher.close(), writer.close(), pinger.close()]);
  });
});

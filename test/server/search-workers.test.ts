// Searches and catch-up reads run in worker threads, each under a time budget, so a costly one
// never stalls the event loop that acks every other room's publishes.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { build } from 'esbuild';
import { ErrorCode, type SyncedFrame } from '../../src/protocol/index.js';
import { SqliteStore, type VidgetServer } from '../../src/server/index.js';
import { SearchPool } from '../../src/server/store/search-pool.js';
import { TestClient, fillRoom, startServer, tempDir, until } from './helpers.js';

/** One group per record: SQLite must read and sort the whole room (about 0.3 s per 100k here). */
const HEAVY = { groupBy: 'data.text', limit: 0 };
const text = (n: number) => ({ text: `message ${n} ${'x'.repeat(100)}` });

describe('searches off the event loop', () => {
  let server: VidgetServer;
  before(async () => {
    const dir = tempDir();
    server = await startServer({ dataDir: dir, store: new SqliteStore(join(dir, 'vidget.db'), { searchTimeoutMs: 30_000 }), rateLimit: { perSecond: 1e6, burst: 1e6 } });
    await fillRoom(server, 'p/big', 100_000, text);
  });
  after(() => server.close());

  test("while a long search runs, another room's publishes are acked at their usual pace", async () => {
    const searcher = await TestClient.joined(server, 'p', 'big');
    const viewer = await TestClient.joined(server, 'q', 'chat');
    await searcher.search({ limit: 1 }); // the worker is up: what follows measures the search, not a thread start
    const started = performance.now();
    let answered = false;
    const search = searcher.search(HEAVY).then((r) => {
      answered = true;
      return r;
    });
    const acks: number[] = [];
    while (!answered) {
      const t = performance.now();
      await viewer.publish({ hi: acks.length });
      if (!answered) acks.push(performance.now() - t);
    }
    const searchMs = performance.now() - started;
    assert.equal((await search).type, 'result');
    assert.ok(acks.length >= 5, `only ${acks.length} publishes were acked during a ${searchMs.toFixed(0)} ms search`);
    // On the loop, the first ack would wait for the whole search.
    assert.ok(Math.max(...acks) < searchMs / 3, `slowest ack ${Math.max(...acks).toFixed(1)} ms during a ${searchMs.toFixed(0)} ms search`);
    await Promise.all([searcher.close(), viewer.close()]);
  });

  test('catch-up replays at most 1 MiB of records, newest first kept, and says recovered: false', async () => {
    await fillRoom(server, 'p/large', 40, (n) => ({ n, blob: 'y'.repeat(60_000) }));
    for (const query of [{ since: 0 }, { catchup: '720h' }] as Array<Record<string, string | number>>) {
      const c = await TestClient.connect(server, 'p', 'large', query);
      const synced = (await c.next('synced')) as SyncedFrame;
      const replayed = c.frames.filter((f) => f.type === 'msg');
      const bytes = replayed.reduce((sum, f) => sum + Buffer.byteLength(JSON.stringify(f)), 0);
      assert.ok(synced.replayed > 0 && synced.replayed < 40, `replayed ${synced.replayed}`);
      assert.ok(bytes <= 1024 * 1024 + 64 * 1024, `replayed ${bytes} bytes`);
      assert.equal(synced.recovered, false, 'a capped replay is a gap');
      assert.deepEqual(replayed.at(-1)?.type === 'msg' && replayed.at(-1)!.record.id, 40, 'the newest records are the ones kept');
      await c.close();
    }
  });
});

describe('time budget', () => {
  test('a search past its budget answers query_timeout (socket and HTTP) and the connection goes on', async (t) => {
    const dir = tempDir();
    const server = await startServer({ dataDir: dir, store: new SqliteStore(join(dir, 'vidget.db'), { searchTimeoutMs: 40 }) });
    t.after(() => server.close());
    // Enough records that the heavy search takes several budgets even with SQLite's cache warm (at
    // 100,000 an idle machine grouped them in about 40 ms, the budget itself).
    await fillRoom(server, 'p/big', 200_000, text);
    const c = await TestClient.joined(server, 'p', 'big');
    // Cheap searches (a few records by id) stay well inside 40 ms even on a loaded machine.
    const cheap = { limit: 2, filters: [{ field: 'id', operator: '<', value: 10 }] };
    assert.equal((await c.search(cheap)).type, 'result');
    const started = performance.now();
    const r = await c.search(HEAVY, 'slow1');
    assert.equal(r.type === 'err' && r.code, ErrorCode.QueryTimeout, JSON.stringify(r).slice(0, 200));
    assert.equal(r.rid, 'slow1');
    assert.ok(performance.now() - started < 2_000, 'answered near the budget, not after the whole search');
    assert.equal((await c.search(cheap)).type, 'result', 'the next search runs');
    const res = await fetch(`${server.url}/api/projects/p/widgets/big/records?query=${encodeURIComponent(JSON.stringify(HEAVY))}`);
    assert.equal(res.status, 503);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, ErrorCode.QueryTimeout);
    await c.close();
  });

  test('a worker stuck inside SQLite (no budget check reached) is terminated at budget + grace and replaced', async (t) => {
    const dir = tempDir();
    await new SqliteStore(join(dir, 'v.db')).close(); // creates the WAL file
    const pool = new SearchPool({ file: join(dir, 'v.db'), size: 1, killGraceMs: 50 });
    t.after(() => pool.close());
    assert.equal(await pool.run({ op: 'exec', sql: 'SELECT 1' }, 10_000).then(() => 'ok'), 'ok');
    // A recursive CTE calls no JS function, so only terminating the thread stops it.
    const spin = 'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 20000000) SELECT count(*) FROM c';
    const started = performance.now();
    await assert.rejects(pool.run({ op: 'exec', sql: spin }, 50), (e: { code?: string }) => e.code === ErrorCode.QueryTimeout);
    assert.ok(performance.now() - started < 1_000, `answered after ${(performance.now() - started).toFixed(0)} ms`);
    assert.equal(typeof (await pool.run<number>({ op: 'exec', sql: 'SELECT 1' }, 10_000)), 'number', 'a new worker serves the next job');
  });

  test('a job that waits its whole budget for a busy worker is answered unavailable (busy, retry), not query_timeout', async (t) => {
    const dir = tempDir();
    await new SqliteStore(join(dir, 'v.db')).close();
    const pool = new SearchPool({ file: join(dir, 'v.db'), size: 1, killGraceMs: 50 });
    t.after(() => pool.close());
    await pool.run({ op: 'exec', sql: 'SELECT 1' }, 10_000); // the worker is up: the wait is timed
    const spin = 'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 20000000) SELECT count(*) FROM c';
    const busy = pool.run({ op: 'exec', sql: spin }, 400);
    await assert.rejects(pool.run({ op: 'exec', sql: 'SELECT 1' }, 50), (e: { code?: string }) => e.code === ErrorCode.Unavailable);
    await assert.rejects(busy, (e: { code?: string }) => e.code === ErrorCode.QueryTimeout, 'the job that ran past its budget is the one that timed out');
    assert.equal(typeof (await pool.run<number>({ op: 'exec', sql: 'SELECT 1' }, 10_000)), 'number');
  });

  test('a :memory: store reads on the event loop (workers cannot open it), budget included', async (t) => {
    const server = await startServer({ store: new SqliteStore(':memory:', { searchTimeoutMs: 20 }) });
    t.after(() => server.close());
    await fillRoom(server, 'p/mem', 100_000, text);
    const c = await TestClient.connect(server, 'p', 'mem', { since: 99_990 });
    assert.equal((await c.next('synced')).replayed, 10);
    const r = await c.search({ limit: 3, sortOrder: 'desc' });
    assert.deepEqual(r.type === 'result' && r.records.map((x) => x.id), [100_000, 99_999, 99_998]);
    const slow = await c.search(HEAVY);
    assert.equal(slow.type === 'err' && slow.code, ErrorCode.QueryTimeout);
    await c.close();
  });
});

describe('WAL checkpoints', () => {
  test('the writer worker checkpoints the WAL into the database file (the connection on the loop no longer does)', async () => {
    const file = join(tempDir(), 'v.db');
    const store = new SqliteStore(file);
    await store.openRoom('p/r');
    let written = 0;
    for (let i = 0; i < 30; i++) {
      const batch = Array.from({ length: 1000 }, (_, k) => ({ id: i * 1000 + k + 1, client_id: 'c', cid: `m${i * 1000 + k}`, created: 1, username: null, data: { text: 'w'.repeat(300) } }));
      written += 300 * batch.length;
      await store.append('p/r', batch);
    }
    // Pages reach the database file only through a checkpoint; the store asks its writer worker
    // for one within a second of a commit, so the file fills while the store is open.
    await until(() => statSync(file).size > written / 2, 'the records checkpointed into the database file');
    await store.close();
  });
});

describe('compiled JavaScript', () => {
  test('the store and its worker run from a JavaScript build, in plain node (no tsx)', async () => {
    const out = tempDir();
    const root = resolve('.');
    // Transpile file by file, as a build would; the worker must be found as store-worker.js.
    await build({ entryPoints: ['src/server/**/*.ts', 'src/protocol/*.ts'], outdir: join(out, 'src'), outbase: 'src', format: 'esm', platform: 'node', logLevel: 'error' });
    writeFileSync(join(out, 'package.json'), '{"type":"module"}');
    symlinkSync(join(root, 'node_modules'), join(out, 'node_modules'));
    mkdirSync(join(out, 'data'));
    const script = `
      import { SqliteStore } from './src/server/store/sqlite-store.js';
      import { validateQuery } from './src/protocol/index.js';
      const store = new SqliteStore('./data/v.db');
      await store.openRoom('p/r');
      await store.append('p/r', [1, 2, 3].map((id) => ({ id, client_id: 'c', cid: 'm' + id, created: id, username: null, data: { id } })));
      const found = JSON.parse(Buffer.from(await store.search('p/r', validateQuery({ sortOrder: 'desc', limit: 2 }))).toString());
      const replayed = await store.replay('p/r', { afterId: 1 }, { records: 10, bytes: 1e6 });
      await store.close();
      console.log(JSON.stringify({ ids: found.records.map((r) => r.id), replayed: replayed.records.map((r) => r.id) }));`;
    writeFileSync(join(out, 'run.js'), script);
    const run = spawnSync(process.execPath, ['run.js'], { cwd: out, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout), { ids: [3, 2], replayed: [2, 3] });
  });
});

// Several server processes on the real PostgreSQL and Redis of this machine (each run in its own
// schema and Redis prefix): records cross nodes once and in order, presence is the total over the
// nodes, and a node killed with SIGKILL stops counting within the bound while its clients catch up
// on another node. Skipped, with the reason printed, where PostgreSQL or Redis is absent.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ServerFrame } from '../../../src/protocol/index.js';
import type { VidgetServer } from '../../../src/server/index.js';
import { TestClient } from '../helpers.js';
import type { ServerProcess } from '../server-process.js';
import { Cluster, servicesMissing } from './cluster.js';

const missing = await servicesMissing();
if (missing) console.log(`# skipping the several-node tests: ${missing}`);

/** A raw client of one node, joined (after `synced`). */
const join = (node: ServerProcess, widget: string, query: Record<string, string | number> = {}) => TestClient.joined(node as unknown as VidgetServer, 'scale', widget, query);
const persistedIds = (c: TestClient) => c.frames.flatMap((f: ServerFrame) => (f.type === 'msg' && f.persisted ? [f.record.id] : []));
/** Resolves once `check` holds, polling the frames a client has (no sleep: each poll is an event-loop turn apart, with a deadline). */
async function until(check: () => boolean, what: string, ms = 10_000): Promise<number> {
  const started = performance.now();
  while (!check()) {
    if (performance.now() - started > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return performance.now() - started;
}
const lastCount = (c: TestClient) => (c.frames.filter((f) => f.type === 'presence').at(-1) as { count: number } | undefined)?.count;

describe('several nodes on PostgreSQL and Redis', { skip: missing ?? false }, () => {
  const cluster = new Cluster();
  let a: ServerProcess;
  let b: ServerProcess;
  let c: ServerProcess;
  before(async () => {
    [a, b, c] = await Promise.all([cluster.start(), cluster.start(), cluster.start()]);
  });
  after(() => cluster.destroy());

  test('publishers on two nodes, subscribers on three: every subscriber gets every stored record once, in id order; ephemeral ones reach every node', async () => {
    const subscribers = await Promise.all([a, a, b, b, c, c].map((n) => join(n, 'fan')));
    const publishers = await Promise.all([a, b].map((n) => join(n, 'fan')));
    const acked: number[] = [];
    await Promise.all(
      publishers.map(async (p, n) => {
        for (let i = 0; i < 100; i += 10) {
          const acks = await Promise.all(Array.from({ length: 10 }, (_, k) => p.publish({ n, i: i + k })));
          acked.push(...acks.map((ack) => ack.record.id));
        }
        await p.publish({ n, ephemeral: true }, false);
      }),
    );
    const want = [...acked].sort((x, y) => x - y);
    for (const s of subscribers) {
      await until(() => persistedIds(s).length >= want.length, 'every stored record on every node');
      assert.deepEqual(persistedIds(s), want);
      await until(() => s.frames.filter((f) => f.type === 'msg' && !f.persisted).length === 2, 'both ephemeral messages');
    }
    await Promise.all([...subscribers, ...publishers].map((x) => x.close()));
  });

  test('presence is the exact total over the nodes, on every node, after joins and leaves', async () => {
    const clients = await Promise.all([a, a, a, b, b, c].map((n) => join(n, 'count')));
    await until(() => clients.every((x) => lastCount(x) === 6), 'a count of 6 everywhere');
    await Promise.all(clients.slice(0, 2).map((x) => x.close()));
    await until(() => clients.slice(2).every((x) => lastCount(x) === 4), 'a count of 4 everywhere');
    await Promise.all(clients.slice(2).map((x) => x.close()));
  });

  test('a node killed with SIGKILL stops counting within 10 s; its clients resume on another node with no gap and no duplicate', async () => {
    const watchers = await Promise.all([a, b].map((n) => join(n, 'kill')));
    const victims = await Promise.all([c, c].map((n) => join(n, 'kill')));
    await until(() => watchers.every((x) => lastCount(x) === 4), 'a count of 4');
    const publisher = await join(a, 'kill');
    await until(() => watchers.every((x) => lastCount(x) === 5), 'a count of 5');
    const acked: number[] = [];
    for (let i = 0; i < 20; i++) acked.push((await publisher.publish({ i })).record.id);
    await until(() => victims.every((v) => persistedIds(v).length === 20), 'the victims to have the first 20');
    const cursor = persistedIds(victims[0]!).at(-1)!;
    const epoch = (victims[0]!.frames.find((f) => f.type === 'synced') as { epoch: string }).epoch;

    c.child.kill('SIGKILL');
    const killed = performance.now();
    // Meanwhile the room goes on.
    for (let i = 20; i < 40; i++) acked.push((await publisher.publish({ i })).record.id);
    const converged = await until(() => watchers.every((x) => lastCount(x) === 3), 'the dead node to stop counting', 12_000);
    const bound = performance.now() - killed;
    assert.ok(bound <= 10_000, `counts converged ${bound.toFixed(0)} ms after the kill`);
    void converged;

    // The victim comes back on another node with its cursor.
    const back = await join(b, 'kill', { since: cursor, epoch });
    const synced = back.frames.find((f) => f.type === 'synced') as { recovered: boolean };
    assert.equal(synced.recovered, true);
    assert.deepEqual([...persistedIds(victims[0]!), ...persistedIds(back)], acked, 'no gap, no duplicate');
    console.log(`# presence converged ${bound.toFixed(0)} ms after SIGKILL`);
    await Promise.all([...watchers, publisher, back].map((x) => x.close()));
    cluster.nodes.splice(cluster.nodes.indexOf(c), 1);
  });
});

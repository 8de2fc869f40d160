// A Faye client on node A and a WidgetSocket on node B of one deployment (real PostgreSQL and
// Redis, a schema and prefix of their own): one room, one order, one presence count. Skipped,
// with the reason printed, where PostgreSQL or Redis is absent.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { VidgetRecord } from '../../../src/protocol/index.js';
import type { VidgetServer } from '../../../src/server/index.js';
import { collect, disconnectAll, fayeClient, hasAtLeast } from '../bayeux/faye-kit.js';
import { TestClient } from '../helpers.js';
import type { ServerProcess } from '../server-process.js';
import { Cluster, servicesMissing } from './cluster.js';

const missing = await servicesMissing();
if (missing) console.log(`# skipping the several-node Bayeux tests: ${missing}`);

describe('Bayeux across nodes: a Faye client on node A, a WidgetSocket on node B', { skip: missing ?? false }, () => {
  const cluster = new Cluster();
  let a: ServerProcess;
  let b: ServerProcess;
  before(async () => {
    [a, b] = await Promise.all([cluster.start(), cluster.start()]);
  });
  after(async () => {
    await disconnectAll();
    await cluster.destroy();
  });
  const server = (node: ServerProcess) => node as unknown as VidgetServer;

  test('records cross both ways once each, in the room order; presence counts both protocols on both nodes', async () => {
    const ws = await TestClient.joined(server(b), 'scale', 'mixed');
    await ws.next('presence', (f) => f.count === 1);
    const faye = fayeClient(server(a), { persist: true });
    const heard = await collect<VidgetRecord>(faye, '/scale/mixed');
    await ws.next('presence', (f) => f.count === 2);

    const fromWs = [];
    for (let i = 0; i < 20; i++) fromWs.push((await ws.publish({ from: 'ws', i })).record);
    await hasAtLeast(heard, 20);
    assert.deepEqual(heard, fromWs);

    for (let i = 0; i < 20; i++) await faye.publish('/scale/mixed', { from: 'faye', i });
    const msgs = [];
    for (let i = 0; i < 20; i++) msgs.push((await ws.next('msg')).record);
    assert.deepEqual(
      msgs.map((r) => r.data),
      Array.from({ length: 20 }, (_, i) => ({ from: 'faye', i })),
    );
    const ids = [...fromWs, ...msgs].map((r) => r.id);
    assert.deepEqual(
      ids,
      [...ids].sort((x, y) => x - y),
      'one order over both protocols and nodes',
    );
    assert.equal(new Set(ids).size, 40);
    // The Faye client hears its own records too, once each, after the WidgetSocket's.
    await hasAtLeast(heard, 40);
    assert.deepEqual(
      heard.map((r) => r.id),
      ids,
    );

    await faye.disconnect();
    await ws.next('presence', (f) => f.count === 1);
    await ws.close();
  });

  test('a wildcard on node A hears rooms active only on node B (and rooms open on both): each record once, stored ones in the room order', async () => {
    const faye = fayeClient(server(a), { token: cluster.token('desk', { rooms: { '*': ['read'] } }) });
    const got: Array<[string, VidgetRecord]> = [];
    await faye.subscribe('/scale/**', () => {}).withChannel((channel, record: VidgetRecord) => got.push([channel, record]));
    // Two rooms with clients on node B only, one with a client on each node.
    const onB = await Promise.all(['far-1', 'far-2', 'near'].map((room) => TestClient.joined(server(b), 'scale', room)));
    const onA = await TestClient.joined(server(a), 'scale', 'near');
    const publishes = [];
    for (let i = 0; i < 30; i++) {
      const [client, room] = i % 4 === 3 ? [onA, 'near'] : [onB[i % 3]!, ['far-1', 'far-2', 'near'][i % 3]!];
      const persist = i % 2 === 0;
      publishes.push(client.publish({ i }, persist).then(({ record }) => ({ room, record, persist })));
    }
    const sent = await Promise.all(publishes);
    await hasAtLeast(got, 30);
    for (const room of ['far-1', 'far-2', 'near']) {
      const heard = got.filter(([channel]) => channel === `/scale/${room}`).map(([, record]) => record);
      const mine = sent.filter((s) => s.room === room);
      const key = (r: VidgetRecord) => JSON.stringify(r);
      assert.deepEqual(heard.map(key).sort(), mine.map((s) => key(s.record)).sort(), `room ${room}: every record, once`);
      // Stored records have the room's total order (ephemeral ids are not ordered against them).
      const stored = new Set(mine.filter((s) => s.persist).map((s) => s.record.id));
      const heardStored = heard.filter((r) => stored.has(r.id) && (r.data as { i: number }).i % 2 === 0).map((r) => r.id);
      assert.deepEqual(
        heardStored,
        [...stored].sort((x, y) => x - y),
        `room ${room}: stored records in order`,
      );
    }
    assert.equal(got.length, 30);
    await faye.disconnect();
    await Promise.all([...onB, onA].map((c) => c.close()));
  });
});

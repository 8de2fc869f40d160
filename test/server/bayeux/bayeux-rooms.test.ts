import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { VidgetRecord } from '../../../src/protocol/index.js';
import type { VidgetServer } from '../../../src/server/index.js';
import { TestClient, startServer, token } from '../helpers.js';
import { collect, disconnectAll, fayeClient, hasAtLeast } from './faye-kit.js';

for (const transport of ['websocket', 'long-polling'] as const) {
  describe(`Bayeux over ${transport}: Faye clients and WidgetSockets share one room`, () => {
    let server: VidgetServer;
    before(async () => (server = await startServer({ bayeux: { timeoutMs: 2_000 } })));
    after(async () => {
      await disconnectAll();
      await server.close();
    });
    const websocket = transport === 'websocket';

    test('records a WidgetSocket publishes reach a Faye subscriber as { id, client_id, created, username, data }, in order, once each', async () => {
      const faye = fayeClient(server, { websocket });
      const got = await collect<VidgetRecord>(faye, '/p/ws-to-faye');
      const ws = await TestClient.joined(server, 'p', 'ws-to-faye', { token: token('p', 'ann') });
      const acks = [];
      for (let i = 0; i < 20; i++) acks.push((await ws.publish({ n: i }, i % 2 === 0)).record);
      await hasAtLeast(got, 20);
      assert.deepEqual(got, acks);
      assert.equal(got[0]!.username, 'ann');
      assert.deepEqual(Object.keys(got[0]!).sort(), ['client_id', 'created', 'data', 'id', 'username']);
      await faye.disconnect();
      await ws.close();
    });

    test('a Faye publish becomes a record: username from the token, never the message; the WidgetSocket sees them in order', async () => {
      const ws = await TestClient.joined(server, 'p', 'faye-to-ws');
      const faye = fayeClient(server, { websocket, token: token('p', 'bob', { name: 'Bob' }) });
      const own = await collect<VidgetRecord>(faye, '/p/faye-to-ws');
      for (let i = 0; i < 10; i++) await faye.publish('/p/faye-to-ws', { n: i, username: 'mallory' });
      const msgs = [];
      for (let i = 0; i < 10; i++) msgs.push(await ws.next('msg'));
      assert.deepEqual(
        msgs.map((m) => m.record.data),
        Array.from({ length: 10 }, (_, n) => ({ n, username: 'mallory' })),
      );
      for (const m of msgs) assert.equal(m.record.username, 'Bob');
      const ids = msgs.map((m) => m.record.id);
      assert.deepEqual(
        ids,
        [...ids].sort((a, b) => a - b),
      );
      // The publisher's own subscription hears its records too, as Faye's server does.
      await hasAtLeast(own, 10);
      assert.deepEqual(
        own.map((r) => r.id),
        ids,
      );
      await faye.disconnect();
      await ws.close();
    });

    test('a Faye client with ext.persist stores its records: a later WidgetSocket replays them', async () => {
      const faye = fayeClient(server, { websocket, persist: true });
      await faye.publish('/p/stored', { n: 1 });
      await faye.publish('/p/stored', { n: 2 });
      const late = await TestClient.joined(server, 'p', 'stored', { since: 0 });
      const records = await late.allRecords();
      assert.deepEqual(
        records.map((r) => r.data),
        [{ n: 1 }, { n: 2 }],
      );
      await faye.disconnect();
      await late.close();
    });

    test('Faye subscribers count in the room presence, and leave it on disconnect', async () => {
      const ws = await TestClient.joined(server, 'p', 'presence');
      await ws.next('presence', (f) => f.count === 1);
      const a = fayeClient(server, { websocket });
      const b = fayeClient(server, { websocket });
      await collect(a, '/p/presence');
      // Two channels of one room are one member.
      await collect(b, ['/p/presence', '/p/presence/all']);
      await ws.next('presence', (f) => f.count === 3);
      await a.disconnect();
      await ws.next('presence', (f) => f.count === 2);
      await b.disconnect();
      await ws.next('presence', (f) => f.count === 1);
      await ws.close();
    });
  });
}

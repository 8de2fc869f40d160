// A viewer away for longer than the server replays (its newest `maxReplay` records) gets every
// record anyway: the socket reads the older ones by search, in order, before the replayed ones.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import WebSocket from 'ws';
import type { VidgetRecord } from '../../src/protocol/index.js';
import type { VidgetServer } from '../../src/server/index.js';
import { WidgetSocket, type StateChangeEvent, type SyncedEvent } from '../../src/socket/index.js';
import { nextEvent } from '../helpers/events.js';
import { setVisibility, until } from '../helpers/wait.js';
import { startServer, TestClient } from '../server/helpers.js';

let server: VidgetServer;
before(async () => (server = await startServer({ maxReplay: 5 })));
after(() => server.close());

async function awayWhile(socket: WidgetSocket, meanwhile: () => Promise<void>): Promise<SyncedEvent> {
  setVisibility('hidden');
  await nextEvent<StateChangeEvent>(socket, 'statechange', (e) => e.state === 'paused');
  await meanwhile();
  const synced = nextEvent<SyncedEvent>(socket, 'synced');
  setVisibility('visible');
  return synced;
}

test('away for 37 records with a replay cap of 5: all of them arrive once, in order, marked replayed, and synced says recovered', async () => {
  const socket = new WidgetSocket({ host: `127.0.0.1:${server.port}`, project: 'fill', widgetId: 'gap', persistent: true, pauseAfterHiddenMs: 0, reconnectDelayMs: 20, WebSocket });
  const seen: Array<{ record: VidgetRecord; replayed: boolean }> = [];
  socket.addEventListener('message', (e) => seen.push({ record: e.data, replayed: e.replayed }));
  await nextEvent(socket, 'synced');
  const publisher = await TestClient.joined(server, 'fill', 'gap');
  const before = await publisher.publish({ i: -1 });
  await until(() => seen.length === 1, 'the first record');

  const published: number[] = [];
  const synced = await awayWhile(socket, async () => {
    for (let i = 0; i < 37; i++) published.push((await publisher.publish({ i })).record.id);
  });
  assert.equal(synced.recovered, true);
  assert.equal(synced.replayed, 37);
  assert.deepEqual(
    seen.map((s) => s.record.id),
    [before.record.id, ...published],
    'every record once, in id order',
  );
  assert.ok(
    seen.slice(1).every((s) => s.replayed),
    'the filled and the replayed records are marked replayed',
  );

  // Live records after the fill come after it, and the cursor moved past the fill.
  const live = await publisher.publish({ i: 'live' });
  await until(() => seen.some((s) => s.record.id === live.record.id), 'the live record');
  assert.equal(seen.at(-1)!.record.id, live.record.id);
  assert.equal(seen.at(-1)!.replayed, false);
  socket.close();
  await publisher.close();
});

test('with maxFill 0 the gap stays and synced says recovered: false (the widget searches itself)', async () => {
  const socket = new WidgetSocket({ host: `127.0.0.1:${server.port}`, project: 'fill', widgetId: 'nofill', persistent: true, pauseAfterHiddenMs: 0, reconnectDelayMs: 20, maxFill: 0, WebSocket });
  const seen: number[] = [];
  socket.addEventListener('message', (e) => seen.push(e.data.id));
  await nextEvent(socket, 'synced');
  const publisher = await TestClient.joined(server, 'fill', 'nofill');
  await publisher.publish({ i: -1 });
  await until(() => seen.length === 1, 'the first record');
  const published: number[] = [];
  const synced = await awayWhile(socket, async () => {
    for (let i = 0; i < 12; i++) published.push((await publisher.publish({ i })).record.id);
  });
  assert.equal(synced.recovered, false);
  assert.deepEqual(seen.slice(1), published.slice(-5), 'only the newest 5, as replayed');
  socket.close();
  await publisher.close();
});

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { VidgetRecord } from '../../../src/protocol/index.js';
import type { VidgetServer } from '../../../src/server/index.js';
import { TestClient, startServer, token, until } from '../helpers.js';
import { collect, disconnectAll, fayeClient, hasAtLeast, type FayeClient } from './faye-kit.js';

/** Subscribes to `channels` with one handler (as the seed's example does), recording each message's channel. */
async function withChannels(client: FayeClient, channels: string[]): Promise<Array<[string, VidgetRecord]>> {
  const got: Array<[string, VidgetRecord]> = [];
  const subscriptions = client.subscribe(channels, () => {});
  for (const s of subscriptions) s.withChannel((channel, record: VidgetRecord) => got.push([channel, record]));
  await Promise.all(subscriptions);
  return got;
}

describe('Bayeux channels: catch-up sub-channels and promoted comments', () => {
  let server: VidgetServer;
  before(async () => (server = await startServer({ bayeux: { timeoutMs: 2_000 } })));
  after(async () => {
    await disconnectAll();
    await server.close();
  });
  const moderatorToken = () => token('p', 'host', { rooms: { '*': ['read', 'publish', 'search', 'moderate'] } });

  for (const websocket of [true, false]) {
    test(`base + catchup together (the seed's example, ${websocket ? 'websocket' : 'long-polling'}): stored records on the catch-up channel, live ones on the base, each once`, async () => {
      const room = `cu${websocket ? 'ws' : 'lp'}`;
      const ws = await TestClient.joined(server, 'p', room);
      const stored = [];
      for (let i = 0; i < 3; i++) stored.push((await ws.publish({ n: i }, true)).record);
      const faye = fayeClient(server, { websocket });
      const got = await withChannels(faye, [`/p/${room}`, `/p/${room}/catchup/6h`]);
      await hasAtLeast(got, 3, 'the catch-up');
      const live = [];
      for (let i = 3; i < 6; i++) live.push((await ws.publish({ n: i }, i % 2 === 0)).record);
      await hasAtLeast(got, 6);
      assert.deepEqual(got, [...stored.map((r) => [`/p/${room}/catchup/6h`, r]), ...live.map((r) => [`/p/${room}`, r])]);
      await faye.disconnect();
      await ws.close();
    });
  }

  test('a catch-up interval replays only records created within it, and nothing after', async () => {
    const ws = await TestClient.joined(server, 'p', 'interval');
    await ws.publish({ old: true }, true);
    const t = Date.now();
    await until(() => Date.now() - t > 1_100, 'the old record to be over a second old');
    const recent = (await ws.publish({ old: false }, true)).record;
    const faye = fayeClient(server);
    const got = await withChannels(faye, ['/p/interval/catchup/1s']);
    await hasAtLeast(got, 1);
    // Live records do not come on a catch-up channel; the base channel is how a client hears them.
    const base = await collect<VidgetRecord>(faye, '/p/interval');
    const later = (await ws.publish({ later: true }, true)).record;
    await hasAtLeast(base, 1);
    assert.deepEqual(got, [['/p/interval/catchup/1s', recent]]);
    assert.deepEqual(base, [later]);
    await faye.disconnect();
    await ws.close();
  });

  test('/promoted carries only what a moderator promoted; /all carries every comment; a viewer cannot promote', async () => {
    const viewer = await TestClient.joined(server, 'p', 'chat', { token: token('p', 'viewer') });
    const moderator = await TestClient.joined(server, 'p', 'chat', { token: moderatorToken() });
    const faye = fayeClient(server);
    const promoted = await collect<VidgetRecord>(faye, '/p/chat/promoted');
    const all = await collect<VidgetRecord>(fayeClient(server), '/p/chat/all_json');
    viewer.send({ type: 'pub', cid: 'self-promotion', data: { text: 'pin me', promoted: true }, persist: true });
    const refused = await viewer.next('err', (f) => f.cid === 'self-promotion');
    assert.equal(refused.code, 'forbidden');
    const hello = (await viewer.publish({ text: 'hello' })).record;
    const pinned = (await moderator.publish({ text: 'Welcome, everyone', promoted: true })).record;
    const bye = (await viewer.publish({ text: 'bye' })).record;
    await hasAtLeast(all, 3);
    assert.deepEqual(all, [hello, pinned, bye]);
    await until(() => promoted.length >= 1, 'the promoted comment');
    assert.deepEqual(promoted, [pinned]);
    assert.equal(promoted[0]!.username, 'host');
    // And a Faye moderator publishes a promoted comment; a Faye viewer may not.
    const fayeModerator = fayeClient(server, { token: moderatorToken(), persist: true });
    await fayeModerator.publish('/p/chat', { text: 'From Faye', promoted: true });
    await hasAtLeast(promoted, 2);
    assert.deepEqual((promoted[1]!.data as { text: string }).text, 'From Faye');
    await assert.rejects(
      Promise.resolve(fayeClient(server, { token: token('p', 'viewer') }).publish('/p/chat', { text: 'me too', promoted: true })),
      (e: { message: string; params: string[] }) => e.params[1] === 'forbidden',
    );
    // Stored promoted comments replay on /promoted/catchup too, and only they.
    const late = await withChannels(fayeClient(server), ['/p/chat/promoted/catchup/1h']);
    await hasAtLeast(late, 2);
    assert.deepEqual(
      late.map(([, r]) => r.id),
      [pinned.id, promoted[1]!.id],
    );
    await faye.disconnect();
    await viewer.close();
    await moderator.close();
  });

  test('unsubscribing stops delivery and leaves the room presence', async () => {
    const ws = await TestClient.joined(server, 'p', 'unsub');
    await ws.next('presence', (f) => f.count === 1);
    const faye = fayeClient(server);
    const got: VidgetRecord[] = [];
    const subscription = faye.subscribe('/p/unsub', (r: VidgetRecord) => got.push(r));
    await subscription;
    await ws.next('presence', (f) => f.count === 2);
    await ws.publish({ n: 1 });
    await hasAtLeast(got, 1);
    subscription.cancel();
    await ws.next('presence', (f) => f.count === 1);
    await ws.publish({ n: 2 });
    // A second subscriber that did not leave proves the record went out.
    const other = await collect<VidgetRecord>(fayeClient(server), '/p/unsub');
    await ws.publish({ n: 3 });
    await hasAtLeast(other, 1);
    assert.deepEqual(
      got.map((r) => r.data),
      [{ n: 1 }],
    );
    await faye.disconnect();
    await ws.close();
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { VidgetRecord } from '../../../src/protocol/index.js';
import type { ProjectConfig, VidgetServer } from '../../../src/server/index.js';
import { signRoom } from '../../../src/server/trust/signed-rooms.js';
import { TEST_SECRET, TestClient, startServer, token, until } from '../helpers.js';
import { bayeux, disconnectAll, fayeClient, handshake, hasAtLeast, type FayeClient } from './faye-kit.js';

const PROJECTS: ProjectConfig[] = [
  { id: 'p', secret: TEST_SECRET, anonymous: ['read', 'publish'] },
  { id: 'tv', secret: TEST_SECRET, anonymous: ['read', 'publish'], signedRooms: true },
];
/** A token whose rooms grant reading every room of `project`: what a wildcard needs. */
const everyRoom = (project = 'p') => token(project, 'dashboard', { rooms: { '*': ['read'] } });

/** Subscribes `client` to `channels`, recording each message as [channel it came on, subscription it reached, record]. */
async function watch(client: FayeClient, channels: string[]): Promise<Array<[string, string, VidgetRecord]>> {
  const got: Array<[string, string, VidgetRecord]> = [];
  await Promise.all(channels.map((subscription) => client.subscribe(subscription, () => {}).withChannel((channel, record: VidgetRecord) => got.push([channel, subscription, record]))));
  return got;
}

describe('Bayeux wildcard channels: /<project>/* and /** when the token grants them', () => {
  let server: VidgetServer;
  before(async () => (server = await startServer({ projects: PROJECTS, bayeux: { timeoutMs: 2_000 } })));
  after(async () => {
    await disconnectAll();
    await server.close();
  });

  for (const websocket of [true, false]) {
    test(`* is one level, ** every level below; records come on their room's channel, in order, once (${websocket ? 'websocket' : 'long-polling'})`, async () => {
      const tag = websocket ? 'ws' : 'lp';
      // A room open before the subscribe, and rooms that open after it.
      const a = await TestClient.joined(server, 'p', `a${tag}`);
      const faye = fayeClient(server, { token: everyRoom(), websocket });
      const got = await watch(faye, ['/p/*', '/p/**', `/p/a${tag}/*`]);
      const b = await TestClient.joined(server, 'p', `b${tag}`);
      const sub = await TestClient.joined(server, 'p', encodeURIComponent(`a${tag}/sub`));
      const r1 = (await a.publish({ n: 1 }, true)).record;
      const r2 = (await b.publish({ n: 2 }, false)).record;
      const r3 = (await sub.publish({ n: 3 }, true)).record;
      const r4 = (await a.publish({ n: 4 }, false)).record;
      await hasAtLeast(got, 7);
      const on = (subscription: string) => got.filter(([, s]) => s === subscription).map(([channel, , record]) => [channel, record]);
      assert.deepEqual(on('/p/*'), [
        [`/p/a${tag}`, r1],
        [`/p/b${tag}`, r2],
        [`/p/a${tag}`, r4],
      ]);
      assert.deepEqual(on('/p/**'), [
        [`/p/a${tag}`, r1],
        [`/p/b${tag}`, r2],
        [`/p/a${tag}/sub`, r3],
        [`/p/a${tag}`, r4],
      ]);
      assert.deepEqual(on(`/p/a${tag}/*`), [[`/p/a${tag}/sub`, r3]]);
      assert.equal(got.length, 8);
      await Promise.all([a.close(), b.close(), sub.close(), faye.disconnect()]);
    });
  }

  test('a room subscribed by name and by wildcard is sent once; a wildcard subscriber is not counted in presence', async () => {
    const viewer = await TestClient.joined(server, 'p', 'both');
    await viewer.next('presence', (f) => f.count === 1);
    const clientId = await handshake(server, { token: everyRoom() });
    const subscribe = (subscription: string) => bayeux(server, [{ channel: '/meta/subscribe', clientId, subscription }]);
    assert.equal((await subscribe('/p/*'))[0]!.successful, true);
    assert.equal((await subscribe('/p/both'))[0]!.successful, true);
    await viewer.next('presence', (f) => f.count === 2);
    const record = (await viewer.publish({ once: true })).record;
    const messages = (await bayeux(server, [{ channel: '/meta/connect', clientId, connectionType: 'long-polling', advice: { timeout: 0 } }])).filter((m) => m.channel !== '/meta/connect');
    // One message on /p/both: Faye's client hands it to both subscriptions.
    assert.deepEqual(messages, [{ channel: '/p/both', data: record }]);
    // Unsubscribing the room by name: the wildcard still carries it, and the count drops to the viewer.
    assert.equal((await bayeux(server, [{ channel: '/meta/unsubscribe', clientId, subscription: '/p/both' }]))[0]!.successful, true);
    await viewer.next('presence', (f) => f.count === 1);
    const next = (await viewer.publish({ once: 'again' })).record;
    const more = (await bayeux(server, [{ channel: '/meta/connect', clientId, connectionType: 'long-polling', advice: { timeout: 0 } }])).filter((m) => m.channel !== '/meta/connect');
    assert.deepEqual(more, [{ channel: '/p/both', data: next }]);
    await bayeux(server, [{ channel: '/meta/disconnect', clientId }]);
    await viewer.close();
  });

  test('refused unless the token grants read in every room the wildcard reaches; never across projects, never published on', async () => {
    const subscribeWith = async (tokenText: string | undefined, subscription: string) => {
      const clientId = await handshake(server, tokenText ? { token: tokenText } : {});
      return (await bayeux(server, [{ channel: '/meta/subscribe', clientId, subscription }]))[0]!;
    };
    const cases: Array<[what: string, token: string | undefined, channel: string, error: RegExp | undefined]> = [
      ['anonymous (the project lets viewers read every room, one by one)', undefined, '/p/*', /^403:\/meta\/subscribe,forbidden:wildcard channels need a token/],
      ['a token without rooms (the project defaults)', token('p', 'viewer'), '/p/**', /^403:\/meta\/subscribe,forbidden:wildcard channels need a token/],
      [
        'a grant narrower than the wildcard',
        token('p', 'q', { rooms: { 'quiz-*': ['read'] } }),
        '/p/*',
        /^403:\/meta\/subscribe,forbidden:wildcard channels need a token whose rooms grant read in every room\*$/,
      ],
      ['a grant covering the wildcard', token('p', 'q', { rooms: { 'quiz-*': ['read'] } }), '/p/quiz-1/**', undefined],
      [
        'a room grant is not a wildcard grant',
        token('p', 'q', { rooms: { quiz: ['read'] } }),
        '/p/quiz/*',
        /^403:\/meta\/subscribe,forbidden:wildcard channels need a token whose rooms grant read in quiz\/\*$/,
      ],
      ['publish without read', token('p', 'q', { rooms: { '*': ['publish'] } }), '/p/*', /^403:\/meta\/subscribe,forbidden:wildcard/],
      ['/* (every project)', everyRoom(), '/*', /^403:\/meta\/subscribe,forbidden:wildcard channels span one project at most/],
      ['/** (every project)', everyRoom(), '/**', /^403:\/meta\/subscribe,forbidden:wildcard channels span one project at most/],
      ['a wildcard mid-channel', everyRoom(), '/p/*/all', /^403:\/meta\/subscribe,forbidden:a wildcard is the last segment/],
      ['a wildcard project', everyRoom(), '/*/chat', /^403:\/meta\/subscribe,forbidden:a wildcard is the last segment/],
      ['a partial wildcard', everyRoom(), '/p/chat*', /^403:\/meta\/subscribe,forbidden:a wildcard is the last segment/],
      ['three stars', everyRoom(), '/p/***', /^403:\/meta\/subscribe,forbidden:a wildcard is the last segment/],
      ['dots before a wildcard', everyRoom(), '/p/../*', /^403:\/meta\/subscribe,forbidden:a wildcard is the last segment/],
      ['a token of another project', everyRoom('tv'), '/p/*', /^403:\/meta\/subscribe,forbidden:token is for another project$/],
      ['an unsigned room under a signed project', everyRoom('tv'), '/tv/show/*', /^403:\/meta\/subscribe,forbidden:this project needs signed room names/],
      ['a signed room under a signed project', everyRoom('tv'), `/tv/${signRoom(TEST_SECRET, 'tv', 'show')}/*`, undefined],
    ];
    for (const [what, tokenText, channel, error] of cases) {
      const reply = await subscribeWith(tokenText, channel);
      if (error) {
        assert.equal(reply.successful, false, what);
        assert.match(reply.error!, error, what);
      } else assert.equal(reply.successful, true, `${what}: ${reply.error}`);
    }
    const clientId = await handshake(server, { token: token('p', 'w', { rooms: { '*': ['read', 'publish'] } }) });
    const [published] = await bayeux(server, [{ channel: '/p/*', clientId, data: { to: 'everyone' } }]);
    assert.match(published!.error!, /^403:\/p\/\*,forbidden:wildcard channels cannot be published on$/);
  });

  test('a signed project: records come on the signed channel the site hands its pages', async () => {
    const show = signRoom(TEST_SECRET, 'tv', 'show');
    const faye = fayeClient(server, { token: everyRoom('tv') });
    const got = await watch(faye, ['/tv/**']);
    const viewer = await TestClient.joined(server, 'tv', encodeURIComponent(`${show}/all`));
    const root = await TestClient.joined(server, 'tv', show);
    const r1 = (await viewer.publish({ hello: 1 })).record;
    const r2 = (await root.publish({ hello: 2 })).record;
    await hasAtLeast(got, 2);
    assert.deepEqual(got, [
      [`/tv/${show}/all`, '/tv/**', r1],
      [`/tv/${show}`, '/tv/**', r2],
    ]);
    await Promise.all([viewer.close(), root.close(), faye.disconnect()]);
  });

  test('unsubscribing or disconnecting lets go of the rooms it alone kept open', async () => {
    const before = server.stats().rooms;
    const clientId = await handshake(server, { token: everyRoom() });
    assert.equal((await bayeux(server, [{ channel: '/meta/subscribe', clientId, subscription: '/p/**' }]))[0]!.successful, true);
    for (let i = 0; i < 5; i++) {
      const ws = await TestClient.joined(server, 'p', `brief-${i}`);
      await ws.publish({ i });
      await ws.close();
    }
    // Watched rooms stay open (a busy room on another node would otherwise reopen per record).
    assert.equal(server.stats().rooms, before + 5);
    assert.equal((await bayeux(server, [{ channel: '/meta/unsubscribe', clientId, subscription: '/p/**' }]))[0]!.successful, true);
    await until(() => server.stats().rooms === before, 'the watched rooms to be dropped');
    await bayeux(server, [{ channel: '/meta/disconnect', clientId }]);
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ProjectConfig, VidgetServer } from '../../../src/server/index.js';
import { signRoom } from '../../../src/server/trust/signed-rooms.js';
import { TEST_SECRET, TestClient, jwt, startServer, token, until } from '../helpers.js';
import { bayeux, handshake } from './faye-kit.js';

const PROJECTS: ProjectConfig[] = [
  { id: 'p', secret: TEST_SECRET, anonymous: false },
  { id: 'open', secret: TEST_SECRET, anonymous: ['read'] },
  { id: 'tv', secret: TEST_SECRET, anonymous: ['read', 'publish'], signedRooms: true },
  { id: 'site', secret: TEST_SECRET, anonymous: ['read'], origins: ['https://site.example'] },
];

describe('Bayeux refusals: every subscribe and publish is checked, whatever the channel is called', () => {
  let server: VidgetServer;
  before(async () => (server = await startServer({ projects: PROJECTS, bayeux: { timeoutMs: 300, expiryMs: 400 } })));
  after(() => server.close());

  /** Subscribes raw and returns the reply's error (undefined when accepted). */
  const subscribe = async (clientId: string, subscription: unknown, ext: Record<string, unknown> = {}, channel = '/meta/subscribe') =>
    (await bayeux(server, [{ channel, clientId, subscription, id: '2', ext }]))[0]!;

  test('GHSA-qpg4-4w7w-2mq5 and variants: /meta/subscribe/x, case, dots, slashes, look-alikes and wildcards never subscribe', async () => {
    const reader = token('p', 'reader', { rooms: { public: ['read'] } });
    const clientId = await handshake(server, { token: reader });
    const cases: Array<[what: string, channel: string, subscription: unknown, error: RegExp]> = [
      ['the advisory: a meta channel with a suffix', '/meta/subscribe/x', '/p/secret', /^403:\/meta\/subscribe\/x,forbidden:/],
      ['a suffix of ..', '/meta/subscribe/..', '/p/secret', /^403:\/meta\/subscribe\/ ,forbidden:|^403:\/meta\/subscribe\/\.\.,forbidden:/],
      ['a trailing slash on the meta channel', '/meta/subscribe/', '/p/secret', /^403:.*,forbidden:/],
      ['upper case meta', '/META/SUBSCRIBE', '/p/secret', /^403:\/META\/SUBSCRIBE,forbidden:/],
      ['a room the token may not read', '/meta/subscribe', '/p/secret', /^403:\/meta\/subscribe,forbidden:no read permission for room secret$/],
      ['a trailing slash', '/meta/subscribe', '/p/secret/', /^405:\/meta\/subscribe,bad_frame:/],
      ['an empty segment', '/meta/subscribe', '/p//secret', /^405:\/meta\/subscribe,bad_frame:/],
      ['dot segments', '/meta/subscribe', '/p/public/../secret', /^405:\/meta\/subscribe,bad_frame:/],
      ['a Cyrillic look-alike', '/meta/subscribe', '/p/sеcret', /^405:\/meta\/subscribe,bad_frame:/],
      ['a fullwidth solidus', '/meta/subscribe', '/p/public／secret', /^405:\/meta\/subscribe,bad_frame:/],
      ['/*', '/meta/subscribe', '/*', /^403:\/meta\/subscribe,forbidden:wildcard/],
      ['/**', '/meta/subscribe', '/**', /^403:\/meta\/subscribe,forbidden:wildcard/],
      ['/p/*', '/meta/subscribe', '/p/*', /^403:\/meta\/subscribe,forbidden:wildcard/],
      ['/p/**', '/meta/subscribe', '/p/**', /^403:\/meta\/subscribe,forbidden:wildcard/],
      ['/p/secret/*', '/meta/subscribe', '/p/secret/*', /^403:\/meta\/subscribe,forbidden:wildcard/],
      ['a meta channel as the subscription', '/meta/subscribe', '/meta/connect', /^403:\/meta\/subscribe,forbidden:meta/],
      ['a service channel', '/meta/subscribe', '/service/p/secret', /^403:\/meta\/subscribe,forbidden:meta/],
      ['the project in another case', '/meta/subscribe', '/P/secret', /^403:\/meta\/subscribe,forbidden:unknown project$/],
      ['one forbidden channel in a list', '/meta/subscribe', ['/p/public', '/p/secret'], /^403:\/meta\/subscribe,forbidden:no read permission for room secret$/],
      ['not a string', '/meta/subscribe', { channel: '/p/secret' }, /^402:\/meta\/subscribe,bad_frame:/],
    ];
    for (const [what, channel, subscription, error] of cases) {
      const reply = await subscribe(clientId, subscription, { token: reader }, channel);
      assert.equal(reply.successful, false, what);
      assert.match(reply.error!, error, what);
    }
    // The room the token may read is fine, then nothing of the secret room arrives.
    assert.equal((await subscribe(clientId, '/p/public', { token: reader })).successful, true);
    const writer = await TestClient.joined(server, 'p', 'secret', { token: token('p', 'writer') });
    const pub = await TestClient.joined(server, 'p', 'public', { token: token('p', 'writer') });
    await writer.publish({ secret: true });
    const visible = (await pub.publish({ visible: true })).record;
    const delivered = await bayeux(server, [{ channel: '/meta/connect', clientId, connectionType: 'long-polling', advice: { timeout: 0 }, id: '3' }]);
    assert.deepEqual(
      delivered.filter((m) => m.channel !== '/meta/connect'),
      [{ channel: '/p/public', data: visible }],
    );
    await writer.close();
    await pub.close();
  });

  test('tokens: required, checked on every subscribe and publish, for their project only, not expired', async () => {
    const anonymous = await handshake(server);
    assert.match((await subscribe(anonymous, '/p/public')).error!, /^403:\/meta\/subscribe,unauthorized:this project needs a token$/);
    const expired = jwt({ aud: 'p', sub: 'old', exp: Math.floor(Date.now() / 1000) - 60 });
    assert.match((await subscribe(anonymous, '/p/public', { token: expired })).error!, /^403:\/meta\/subscribe,token_expired:/);
    assert.match((await subscribe(anonymous, '/p/public', { token: token('open', 'someone') })).error!, /^403:\/meta\/subscribe,forbidden:token is for another project$/);
    assert.match((await subscribe(anonymous, '/p/public', { token: `${token('p', 'x').slice(0, -2)}xx` })).error!, /^403:\/meta\/subscribe,unauthorized:/);
    // A handshake with a bad token is refused outright, and told not to retry.
    const [refused] = await bayeux(server, [{ channel: '/meta/handshake', version: '1.0', supportedConnectionTypes: ['long-polling'], ext: { token: expired } }]);
    assert.equal(refused!.successful, false);
    assert.match(refused!.error!, /^403:\/meta\/handshake,token_expired:/);
    assert.equal(refused!.advice?.reconnect, 'none');
    // A handshake token is used by messages without one; a message's own token wins.
    const reader = await handshake(server, { token: token('p', 'reader', { rooms: { public: ['read'] } }) });
    assert.equal((await subscribe(reader, '/p/public')).successful, true);
    assert.match((await subscribe(reader, '/p/other')).error!, /forbidden:no read permission/);
    assert.equal((await subscribe(reader, '/p/other', { token: token('p', 'reader') })).successful, true);
    // Publishing needs the publish permission, on the room channel itself.
    const [noPublish] = await bayeux(server, [{ channel: '/p/public', clientId: reader, data: { hi: 1 }, id: '9' }]);
    assert.match(noPublish!.error!, /^403:\/p\/public,forbidden:no publish permission for room public$/);
    for (const channel of ['/p/public/catchup/1h', '/p/public/promoted', '/p/public/all']) {
      const [reply] = await bayeux(server, [{ channel, clientId: reader, data: { hi: 1 }, ext: { token: token('p', 'reader') } }]);
      assert.match(reply!.error!, /^403:.*,forbidden:views and catch-up channels are read-only/, channel);
    }
    const [noData] = await bayeux(server, [{ channel: '/p/public', clientId: reader, ext: { token: token('p', 'reader') } }]);
    assert.match(noData!.error!, /^402:\/p\/public,bad_frame:data is missing$/);
  });

  test('a token that expires ends its subscriptions at the next connect: the client is told to handshake again', async () => {
    const clientId = await handshake(server);
    const exp = Math.floor(Date.now() / 1000) + 2;
    const shortLived = jwt({ aud: 'p', sub: 'brief', exp });
    assert.equal((await subscribe(clientId, '/p/public', { token: shortLived })).successful, true);
    // The client keeps connecting (each connect held up to 300 ms) until the server ends it.
    const t = Date.now();
    let connect;
    do [connect] = await bayeux(server, [{ channel: '/meta/connect', clientId, connectionType: 'long-polling' }]);
    while (connect!.successful && Date.now() - t < 10_000);
    assert.ok(Date.now() >= exp * 1000, 'not before the token expired');
    assert.match(connect!.error!, /^403:\/meta\/connect,token_expired:/);
    assert.equal(connect!.advice?.reconnect, 'handshake');
    const [gone] = await bayeux(server, [{ channel: '/meta/connect', clientId, connectionType: 'long-polling', advice: { timeout: 0 } }]);
    assert.match(gone!.error!, /^401:/);
  });

  test('signed rooms and origins: the same checks as WebSocket rooms', async () => {
    const clientId = await handshake(server);
    const signed = signRoom(TEST_SECRET, 'tv', 'show');
    assert.equal((await subscribe(clientId, `/tv/${signed}/all_json`)).successful, true);
    assert.match((await subscribe(clientId, '/tv/show/all_json')).error!, /^403:\/meta\/subscribe,forbidden:this project needs signed room names/);
    assert.match((await subscribe(clientId, `/tv/${signRoom(TEST_SECRET, 'tv', 'other').replace('other', 'show')}`)).error!, /forbidden/);
    const fromElsewhere = (await bayeux(server, [{ channel: '/meta/subscribe', clientId, subscription: '/site/news', id: '4' }], { origin: 'https://evil.example' }))[0]!;
    assert.match(fromElsewhere.error!, /^403:\/meta\/subscribe,forbidden:this project does not allow pages of this origin$/);
    const fromSite = (await bayeux(server, [{ channel: '/meta/subscribe', clientId, subscription: '/site/news', id: '5' }], { origin: 'https://site.example' }))[0]!;
    assert.equal(fromSite.successful, true);
  });

  test('client ids: unknown ones are told to handshake again; a silent one expires', async () => {
    const [unknown] = await bayeux(server, [{ channel: '/meta/connect', clientId: 'nope', connectionType: 'long-polling' }]);
    assert.match(unknown!.error!, /^401:\/meta\/connect,not_found:unknown client id/);
    assert.equal(unknown!.advice?.reconnect, 'handshake');
    const clientId = await handshake(server);
    const [held] = await bayeux(server, [{ channel: '/meta/connect', clientId, connectionType: 'long-polling' }]);
    assert.equal(held!.successful, true);
    assert.equal(held!.advice?.timeout, 300);
    const t = Date.now();
    await until(() => Date.now() - t > 1_000, 'the client id to go silent past its expiry');
    const [gone] = await bayeux(server, [{ channel: '/meta/connect', clientId, connectionType: 'long-polling' }]);
    assert.match(gone!.error!, /^401:/);
  });

  test('bad requests: not JSON, not messages, unknown meta channels, a bad JSON-P callback', async () => {
    const post = (body: string, type = 'application/json') => fetch(`${server.url}/bayeux`, { method: 'POST', headers: { 'content-type': type }, body });
    const notJson = await post('{');
    assert.equal(notJson.status, 400);
    assert.equal(((await notJson.json()) as { error: { code: string } }).error.code, 'bad_request');
    assert.equal((await post('[]')).status, 400);
    assert.equal((await post(JSON.stringify(Array.from({ length: 101 }, () => ({}))))).status, 400);
    assert.equal((await post('x'.repeat(300_000))).status, 413);
    const [notObject] = await bayeux(server, [42]);
    assert.match(notObject!.error!, /^400:,bad_frame:/);
    const [meta] = await bayeux(server, [{ channel: '/meta/whatever', id: '1' }]);
    assert.match(meta!.error!, /^403:\/meta\/whatever,forbidden:/);
    const jsonp = await fetch(`${server.url}/faye?message=${encodeURIComponent('[]')}&jsonp=alert(1)`);
    assert.equal(jsonp.status, 400);
    // Callback-polling (JSON-P) works for a good callback name.
    const ok = await fetch(
      `${server.url}/faye?message=${encodeURIComponent(JSON.stringify([{ channel: '/meta/handshake', version: '1.0', supportedConnectionTypes: ['callback-polling'] }]))}&jsonp=cb_1`,
    );
    assert.match(await ok.text(), /^\/\*\*\/cb_1\(\[\{"channel":"\/meta\/handshake","successful":true/);
    // And the server is still up for everyone.
    assert.equal((await fetch(`${server.url}/api/health`)).status, 200);
  });
});

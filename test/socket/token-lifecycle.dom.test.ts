// The widget socket and JWTs: a token is replaced over the open connection before it expires; a
// connection closed because its token expired (4002) comes back with a new one from getToken,
// keeping queued publishes and delivering them once; a fixed token that expires fails the socket.
// Moderators take records down and every socket of the room hears of it.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import { ErrorCode, type VidgetError } from '../../src/protocol/index.js';
import { createServer, type VidgetServer } from '../../src/server/index.js';
import { WidgetSocket, type DeleteEvent, type StateChangeEvent, type WidgetSocketOptions } from '../../src/socket/index.js';
import { nextEvent } from '../helpers/events.js';
import { jwt, openProjects, tempDir, token, UNLIMITED_RATES } from '../server/helpers.js';

const now = () => Math.floor(Date.now() / 1000);
/** A token for `sub` that expires in `seconds`. */
const shortToken = (sub: string, seconds: number) => jwt({ aud: 'tok', sub, exp: now() + seconds });

describe('WidgetSocket tokens and deletes (happy-dom, real server)', () => {
  let server: VidgetServer;
  const sockets: WidgetSocket[] = [];
  let n = 0;
  const open = (options: Partial<WidgetSocketOptions>) => {
    const socket = new WidgetSocket({ host: `127.0.0.1:${server.port}`, project: 'tok', widgetId: `w${n++}`, reconnectDelayMs: 20, WebSocket, ...options });
    sockets.push(socket);
    return socket;
  };
  const state = (s: WidgetSocket, wanted: string) => (s.state === wanted ? Promise.resolve() : nextEvent<StateChangeEvent>(s, 'statechange', (e) => e.state === wanted).then(() => {}));

  before(async () => {
    // A short heartbeat, so a connection whose token lapsed is closed promptly even when idle.
    server = await createServer({ port: 0, dataDir: tempDir(), log: () => {}, heartbeatMs: 200, projects: openProjects({ anonymous: false }), rates: UNLIMITED_RATES });
  });
  after(async () => {
    for (const s of sockets) s.close();
    await server.close();
  });

  test('with getToken, a token is refreshed over the open connection before it expires: no reconnect', async () => {
    let asked = 0;
    let fifth!: () => void;
    const fifthAsk = new Promise<void>((resolve) => (fifth = resolve));
    const s = open({ getToken: async () => (++asked === 5 && fifth(), shortToken('ann', 3)) });
    await state(s, 'running');
    const first = now() + 3;
    const states: string[] = [];
    s.addEventListener('statechange', (e) => states.push(e.state));
    // A refresh comes at 80% of a token's remaining life (at least 1 s after the last): the fifth
    // token is asked for after the first one expired.
    await fifthAsk;
    assert.ok(now() >= first, "past the first token's expiry");
    const record = await s.publish('still connected');
    assert.equal(record.username, 'ann');
    assert.deepEqual(states, [], 'no reconnect on the way');
  });

  test('closed because the token expired (4002): back with a new token from getToken, queued publishes delivered once', async () => {
    let asked = 0;
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    // The first refresh hangs (the site's auth server is slow): the token lapses, the server closes with 4002.
    const s = open({ persistent: true, getToken: async () => (++asked === 2 ? (await held, shortToken('bob', 60)) : shortToken('bob', asked === 1 ? 2 : 60)) });
    await state(s, 'running');
    const closed = await nextEvent<StateChangeEvent>(s, 'statechange', (e) => e.state === 'reconnecting', 10_000);
    assert.equal(closed.code, 4002);
    const sent = s.publish({ queued: true });
    await state(s, 'running');
    const record = await sent;
    assert.equal(record.username, 'bob');
    const { records } = await s.search({ query: { filters: [{ field: 'data.queued', operator: '=', value: true }] } });
    assert.equal(records.length, 1, 'delivered once');
    release();
  });

  test('a fixed token that expires fails the socket with token_expired: no reconnect loop', async () => {
    const s = open({ token: shortToken('cy', 1) });
    await state(s, 'running');
    const failed = await nextEvent<StateChangeEvent>(s, 'statechange', (e) => e.state === 'failed', 10_000);
    assert.equal(failed.code, 4002);
    await assert.rejects(s.publish(1), (e: VidgetError) => e.code === ErrorCode.TokenExpired);
  });

  test('remove(): a moderator takes a record down; every socket of the room gets a delete event; others may not', async () => {
    const widgetId = 'moderated';
    const moderator = open({ widgetId, persistent: true, token: token('tok', 'host', { rooms: { '*': ['read', 'publish', 'search', 'moderate'] } }) });
    const viewer = open({ widgetId, persistent: true, token: token('tok', 'ann') });
    await Promise.all([state(moderator, 'running'), state(viewer, 'running')]);
    const record = await viewer.publish({ text: 'spam' });
    const heard = nextEvent<DeleteEvent>(viewer, 'delete');
    let hook: number[] = [];
    viewer.onDelete = (e) => (hook = e.ids);
    assert.deepEqual(await moderator.remove(record.id), [record.id]);
    assert.deepEqual((await heard).ids, [record.id]);
    assert.deepEqual(hook, [record.id]);
    await assert.rejects(viewer.remove(record.id), (e: VidgetError) => e.code === ErrorCode.Forbidden);
    await assert.rejects(moderator.remove(record.id), (e: VidgetError) => e.code === ErrorCode.NotFound);
  });
});

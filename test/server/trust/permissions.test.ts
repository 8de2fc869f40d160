// What an identity may do, checked at join (read) and on every frame (publish, search, moderate),
// per room pattern; rooms a page can only join when the site signed their name; browser origins.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import { CloseCode, ErrorCode } from '../../../src/protocol/index.js';
import { signRoom, type VidgetServer } from '../../../src/server/index.js';
import { TEST_API_KEY, TEST_SECRET, TestClient, startServer, token } from '../helpers.js';

describe('permissions per room pattern', () => {
  let server: VidgetServer;
  before(async () => {
    server = await startServer({ projects: [{ id: 'site', secret: TEST_SECRET, anonymous: ['read'] }] });
  });
  after(() => server.close());

  test('a read-only viewer reads but cannot publish or search; each refusal is forbidden with its id', async () => {
    const viewer = await TestClient.joined(server, 'site', 'quiz-1');
    viewer.send({ type: 'pub', cid: 'p1', data: 1, persist: true });
    const err = await viewer.next('err');
    assert.equal(err.code, ErrorCode.Forbidden);
    assert.equal(err.cid, 'p1');
    const search = await viewer.search({});
    assert.equal(search.type === 'err' && search.code, ErrorCode.Forbidden);
    assert.equal((await fetch(`${server.url}/api/projects/site/widgets/quiz-1/records`)).status, 403);
    await viewer.close();
  });

  test('token rooms: publish in quiz-*, read elsewhere, nothing in admin; no read means no join (4003)', async () => {
    const t = token('site', 'ann', { rooms: { 'quiz-*': ['read', 'publish', 'search'], chat: ['read'] } });
    const quiz = await TestClient.joined(server, 'site', 'quiz-2', { token: t });
    assert.equal((await quiz.publish({ score: 3 })).record.username, 'ann');
    assert.equal((await quiz.search({})).type, 'result');
    const chat = await TestClient.joined(server, 'site', 'chat', { token: t });
    chat.send({ type: 'pub', cid: 'c1', data: 'hi', persist: false });
    assert.equal((await chat.next('err')).code, ErrorCode.Forbidden);
    const admin = await TestClient.connect(server, 'site', 'admin', { token: t });
    assert.equal((await admin.closed).code, CloseCode.Forbidden);
    await Promise.all([quiz.close(), chat.close()]);
  });

  test('moderate: a moderator takes a record down, every open connection is told, search and catch-up no longer have it', async () => {
    const mod = token('site', 'host', { rooms: { '*': ['read', 'publish', 'search', 'moderate'] } });
    const writer = await TestClient.joined(server, 'site', 'talk', { token: token('site', 'ann', { rooms: { '*': ['read', 'publish', 'search'] } }) });
    const moderator = await TestClient.joined(server, 'site', 'talk', { token: mod });
    const watcher = await TestClient.joined(server, 'site', 'talk');
    const { record } = await writer.publish({ text: 'spam' });
    await writer.publish({ text: 'fine' });
    writer.send({ type: 'delete', rid: 'd0', id: record.id });
    assert.equal((await writer.next('err')).code, ErrorCode.Forbidden, 'a writer cannot moderate');
    moderator.send({ type: 'delete', rid: 'd1', id: record.id });
    assert.deepEqual(await moderator.next((f) => f.type === 'deleted' && f.rid === 'd1').then((f) => f.type === 'deleted' && f.ids), [record.id]);
    for (const c of [writer, watcher]) assert.deepEqual(await c.next((f) => f.type === 'deleted').then((f) => f.type === 'deleted' && f.ids), [record.id]);
    const left = await moderator.search({});
    assert.deepEqual(left.type === 'result' && left.records.map((r) => (r.data as { text: string }).text), ['fine']);
    const late = await TestClient.joined(server, 'site', 'talk', { since: 0 });
    assert.deepEqual(
      late.frames.filter((f) => f.type === 'msg').map((f) => f.type === 'msg' && (f.record.data as { text: string }).text),
      ['fine'],
    );
    moderator.send({ type: 'delete', rid: 'd2', id: record.id });
    assert.equal((await moderator.next('err')).code, ErrorCode.NotFound);
    await Promise.all([writer, moderator, watcher, late].map((c) => c.close()));
  });
});

describe('signed rooms', () => {
  let server: VidgetServer;
  before(async () => {
    server = await startServer({ projects: [{ id: 'tv', secret: TEST_SECRET, apiKey: TEST_API_KEY, anonymous: ['read', 'publish', 'search'], signedRooms: true }] });
  });
  after(() => server.close());

  test('only rooms the site signed can be joined; sub-rooms inherit the signature; a signature of another room or project fails', async () => {
    const signed = signRoom(TEST_SECRET, 'tv', 'show');
    assert.match(signed, /^show~[A-Za-z0-9_-]{43}$/);
    const ok = await TestClient.joined(server, 'tv', signed);
    const sub = await TestClient.joined(server, 'tv', encodeURIComponent(`${signed}/promoted`));
    await ok.publish({ root: true });
    const other = signRoom(TEST_SECRET, 'tv', 'other');
    for (const [what, name, code] of [
      ['unsigned', 'show', CloseCode.Forbidden],
      ["another room's signature", `show~${other.split('~')[1]}`, CloseCode.Forbidden],
      ["another project's signature", signRoom(TEST_SECRET, 'elsewhere', 'show'), CloseCode.Forbidden],
      ['another key', signRoom('not-the-secret-0123456789', 'tv', 'show'), CloseCode.Forbidden],
      ['malformed', 'show~short', CloseCode.BadRequest],
    ] as const) {
      const c = await TestClient.connect(server, 'tv', encodeURIComponent(name));
      assert.equal((await c.closed).code, code, what);
    }
    // The signature is a key to the room, not part of its name: the backend names it plainly.
    const res = await fetch(`${server.url}/api/projects/tv/widgets/show/records`, { headers: { authorization: `Bearer ${TEST_API_KEY}` } });
    assert.equal(((await res.json()) as { total: number }).total, 1);
    await Promise.all([ok.close(), sub.close()]);
  });
});

describe('origins', () => {
  let server: VidgetServer;
  before(async () => {
    server = await startServer({ projects: [{ id: 'shop', secret: TEST_SECRET, anonymous: ['read', 'publish', 'search'], origins: ['https://shop.example'] }] });
  });
  after(() => server.close());

  /** Upgrades with an Origin header; resolves with the HTTP status of a refusal, or 101. */
  const upgrade = (origin?: string) =>
    new Promise<number>((resolve) => {
      const ws = new WebSocket(`${server.wsUrl}/parties/shop/w?_pk=k`, origin ? { origin } : {});
      ws.on('open', () => {
        ws.terminate();
        resolve(101);
      });
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode!));
      ws.on('error', () => {});
    });

  test('a page of another origin is refused at the upgrade; the listed origin and non-browser clients connect', async () => {
    assert.equal(await upgrade('https://evil.example'), 403);
    assert.equal(await upgrade('https://shop.example'), 101);
    assert.equal(await upgrade(), 101, 'no Origin: not a browser, which Origin checks cannot protect anyway');
  });

  test('the REST API answers CORS for the listed origin only', async () => {
    const ok = await fetch(`${server.url}/api/projects/shop/widgets/w/records`, { headers: { origin: 'https://shop.example' } });
    assert.equal(ok.headers.get('access-control-allow-origin'), 'https://shop.example');
    assert.equal(ok.headers.get('vary'), 'Origin');
    const other = await fetch(`${server.url}/api/projects/shop/widgets/w/records`, { headers: { origin: 'https://evil.example' } });
    assert.equal(other.headers.get('access-control-allow-origin'), null);
  });
});

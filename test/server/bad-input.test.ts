import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Socket } from 'node:net';
import WebSocket from 'ws';
import { CloseCode } from '../../src/protocol/index.js';
import type { VidgetServer } from '../../src/server/index.js';
import { TEST_API_KEY, TEST_SECRET, TestClient, jwt, openProjects, startServer, token, until } from './helpers.js';

describe('bad frames get a typed error and the server keeps serving', () => {
  let server: VidgetServer;
  before(async () => (server = await startServer({ maxFrameBytes: 1024, rateLimit: { perSecond: 1000, burst: 1000 } })));
  after(() => server.close());

  test('non-JSON, unknown types, missing and mistyped fields: bad_frame, with the cid where readable', async () => {
    const c = await TestClient.joined(server, 'p', 'bad');
    const cases: Array<[string, string | undefined]> = [
      ['not json', undefined],
      ['{"type":"pub","cid":"k1"}', 'k1'],
      ['{"type":"pub","cid":"k2","data":1,"persist":"yes"}', 'k2'],
      ['{"type":"drop_table"}', undefined],
      ['[]', undefined],
      ['null', undefined],
      [`{"type":"pub","cid":"k3","data":${'['.repeat(50)}${']'.repeat(50)}}`, 'k3'],
    ];
    for (const [text, cid] of cases) {
      c.send(text);
      const err = await c.next('err');
      assert.equal(err.code, 'bad_frame', text);
      assert.equal(err.cid, cid, text);
    }
    c.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    assert.equal((await c.next('err')).code, 'bad_frame');
    const ok = await c.publish('still fine');
    assert.equal(ok.record.data, 'still fine');
    const stored = await c.search({});
    assert.equal(stored.type === 'result' && stored.total, 1, 'nothing bad was stored');
    await c.close();
  });

  test('a frame over maxFrameBytes gets too_large, refused on its size (its id read from its head); one over 2× is closed with 1009', async () => {
    const c = await TestClient.joined(server, 'p', 'big');
    c.send({ type: 'pub', cid: 'big1', data: 'x'.repeat(1100) });
    const err = await c.next('err');
    assert.equal(err.code, 'too_large');
    assert.equal(err.cid, 'big1');
    // Not JSON at all, but too large: refused as too_large, before any parse.
    c.send(`{"type":"pub","cid":"big2","data":${'['.repeat(1100)}`);
    assert.deepEqual(await c.next('err', (f) => f.cid === 'big2').then((f) => f.code), 'too_large');
    assert.equal((await c.publish('small')).record.data, 'small');
    c.send('x'.repeat(2049));
    assert.equal((await c.closed).code, CloseCode.MessageTooBig);
    const d = await TestClient.joined(server, 'p', 'big');
    assert.equal((await d.publish('server still up')).record.data, 'server still up');
    await d.close();
  });

  test('an unfinished fragmented message is bounded: fragments past 2× maxFrameBytes close the socket with 1009', async () => {
    const c = await TestClient.joined(server, 'p', 'fragments');
    for (let i = 0; i < 5; i++) c.ws.send('x'.repeat(500), { fin: false });
    assert.equal((await c.closed).code, CloseCode.MessageTooBig);
  });

  test('bad connection URLs are closed with 4000 and a reason', async () => {
    for (const query of [{ _pk: 'has space' }, { _pk: 'ok', since: 'abc' }, { _pk: 'ok', catchup: '1 week' }] as Array<Record<string, string>>) {
      const c = await TestClient.connect(server, 'p', 'w', query);
      const { code, reason } = await c.closed;
      assert.equal(code, CloseCode.BadRequest, JSON.stringify(query));
      assert.ok(reason.length > 0);
    }
    const noPk = new TestClient(new WebSocket(`${server.wsUrl}/parties/p/w`));
    assert.equal((await noPk.closed).code, CloseCode.BadRequest);
    const badName = new TestClient(new WebSocket(`${server.wsUrl}/parties/p%20x/w?_pk=a`));
    assert.equal((await badName.closed).code, CloseCode.BadRequest);
  });

  test('an upgrade outside /parties/ is refused with 404', async () => {
    const ws = new WebSocket(`${server.wsUrl}/elsewhere`);
    const status = await new Promise<number | undefined>((resolve) => {
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode));
      ws.on('error', () => resolve(undefined));
    });
    assert.equal(status, 404);
  });

  test('unknown HTTP routes answer 404 not_found as JSON', async () => {
    const res = await fetch(`${server.url}/api/nope`);
    assert.equal(res.status, 404);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'not_found');
  });
});

describe('rate limit', () => {
  test('past the burst, frames get rate_limited (with their cid); a flood that ignores it is closed with 4008', async (t) => {
    const server = await startServer({ rateLimit: { perSecond: 1, burst: 5 } });
    t.after(() => server.close());
    const c = await TestClient.joined(server, 'p', 'flood');
    for (let i = 0; i < 5; i++) c.send({ type: 'pub', cid: `f${i}`, data: i, persist: true });
    await c.next('ack', (f) => f.cid === 'f4');
    c.send({ type: 'pub', cid: 'f5', data: 5, persist: true });
    const err = await c.next('err');
    assert.equal(err.code, 'rate_limited');
    assert.equal(err.cid, 'f5');
    for (let i = 6; i < 20; i++) c.send({ type: 'pub', cid: `f${i}`, data: i });
    assert.equal((await c.closed).code, CloseCode.RateLimited);
    const other = await TestClient.joined(server, 'p', 'flood');
    const r = await other.search({});
    assert.equal(r.type === 'result' && r.total, 5, 'the accepted records are all there');
    await other.close();
  });
});

describe('access', () => {
  let server: VidgetServer;
  before(async () => (server = await startServer({ projects: [{ id: 'allowed', secret: TEST_SECRET, anonymous: ['read', 'publish', 'search'] }] })));
  after(() => server.close());

  test('an unknown project is closed with 4003 when the server has a project list', async () => {
    const c = await TestClient.connect(server, 'other', 'w');
    assert.equal((await c.closed).code, CloseCode.Forbidden);
    const res = await fetch(`${server.url}/api/projects/other/widgets/w/records`);
    assert.equal(res.status, 403);
  });

  test("tampered tokens get 4001, expired ones 4002, another project's token 4003", async () => {
    const good = token('allowed', 'ann');
    const [head, body, sig] = good.split('.');
    const forged = `${head}.${Buffer.from(JSON.stringify({ aud: 'allowed', sub: 'root', exp: 4e9 })).toString('base64url')}.${sig}`;
    const wrongKey = token('allowed', 'ann', {}, 'another-secret-0123456789');
    // A valid signature with bytes a lax base64url decoder skips or maps: '=' padding, '!', a space, standard '+/'.
    const std = Buffer.from(sig!, 'base64url').toString('base64');
    const lax = [`${head}.${body}.${sig}=`, `${head}.${body}.${sig}!`, `${head}.${body}.${sig} `, `${head}.${body}=.${sig}`, `${head}.${body}.${std}`].filter((t) => t !== good);
    for (const t of [forged, wrongKey, 'garbage', `${head}.${body}.`, ...lax]) {
      const c = await TestClient.connect(server, 'allowed', 'w', { token: t });
      assert.equal((await c.closed).code, CloseCode.Unauthorized, t);
    }
    const expired = jwt({ aud: 'allowed', sub: 'ann', exp: Math.floor(Date.now() / 1000) - 60 });
    const late = await TestClient.connect(server, 'allowed', 'w', { token: expired });
    assert.equal((await late.closed).code, CloseCode.TokenExpired);
    assert.match((await late.closed).reason, /expired/);
    const c = await TestClient.connect(server, 'allowed', 'w', { token: token('elsewhere', 'ann') });
    assert.equal((await c.closed).code, CloseCode.Forbidden);
    const ok = await TestClient.joined(server, 'allowed', 'w', { token: good });
    await ok.close();
  });

  test('a project without anonymous access refuses sockets without a token with 4001 and searches with 401', async (t) => {
    const strict = await startServer({ projects: openProjects({ anonymous: false }) });
    t.after(() => strict.close());
    const c = await TestClient.connect(strict, 'p', 'w');
    assert.equal((await c.closed).code, CloseCode.Unauthorized);
    assert.equal((await fetch(`${strict.url}/api/projects/p/widgets/w/records`)).status, 401);
  });

  test("POST /api/tokens needs the project's API key unless devTokens is on", async (t) => {
    const keyed = await startServer();
    const dev = await startServer({ devTokens: true });
    t.after(() => Promise.all([keyed.close(), dev.close()]));
    const body = JSON.stringify({ project: 'p', sub: 'ann' });
    assert.equal((await fetch(`${keyed.url}/api/tokens`, { method: 'POST', body })).status, 401);
    assert.equal((await fetch(`${keyed.url}/api/tokens`, { method: 'POST', body, headers: { authorization: 'Bearer wrong' } })).status, 401);
    const res = await fetch(`${keyed.url}/api/tokens`, { method: 'POST', body, headers: { authorization: `Bearer ${TEST_API_KEY}` } });
    const minted = (await res.json()) as { token: string; exp: number };
    assert.ok(minted.exp > Date.now() / 1000);
    const c = await TestClient.joined(keyed, 'p', 'w', { token: minted.token });
    assert.equal((c.frames.find((f) => f.type === 'hello') as { username: string }).username, 'ann');
    await c.close();
    const bad = await fetch(`${keyed.url}/api/tokens`, { method: 'POST', body: '{"project":"p"}', headers: { authorization: `Bearer ${TEST_API_KEY}` } });
    assert.equal(bad.status, 400);
    assert.equal((await fetch(`${dev.url}/api/tokens`, { method: 'POST', body })).status, 200);
  });

  test('connections past maxConnectionsPerIp are closed with 4029', async (t) => {
    const small = await startServer({ maxConnectionsPerIp: 3 });
    t.after(() => small.close());
    const ok = await Promise.all([1, 2, 3].map(() => TestClient.joined(small, 'p', 'w')));
    const extra = await TestClient.connect(small, 'p', 'w');
    assert.equal((await extra.closed).code, CloseCode.TooManyConnections);
    await ok[0]!.close();
    const again = await TestClient.joined(small, 'p', 'w');
    await Promise.all([again, ...ok.slice(1)].map((c) => c.close()));
  });
});

describe('connection health', () => {
  test('a client that stops reading is closed with 4009 before the server buffers more than the cap', async (t) => {
    const server = await startServer({ maxBufferedBytes: 256 * 1024, rateLimit: { perSecond: 1e6, burst: 1e6 } });
    t.after(() => server.close());
    const slow = await TestClient.joined(server, 'p', 'slow');
    slow.ws.pause(); // stops reading; the kernel buffers fill, then the server's
    const fast = await TestClient.joined(server, 'p', 'slow');
    const payload = 'y'.repeat(16 * 1024);
    let n = 0;
    const closedBySlow = slow.closed.then(() => true);
    // The room's count drops to 1 once the server has let go of the slow reader: it closes it with
    // 4009 at the cap, and cuts it off when it does not read its close frame either.
    let dropped = false;
    const gone = fast.next('presence', (f) => f.count === 1).then(() => (dropped = true));
    // Keep publishing until then (bounded: 64 MiB sent at most).
    while (!dropped && n < 4096) await fast.publish(payload, false, `s${n++}`);
    await gone;
    assert.equal(server.stats().connections, 1, `the slow reader was dropped (after ${n} publishes)`);
    slow.ws.resume();
    assert.equal(await closedBySlow, true);
    const code = (await slow.closed).code;
    assert.ok(code === CloseCode.SlowConsumer || code === 1006, `closed with ${code}`);
    assert.equal((await fast.publish('fast still works', false)).record.data, 'fast still works');
    await fast.close();
  });

  test('the heartbeat terminates a peer that stops answering pings', async (t) => {
    const server = await startServer({ heartbeatMs: 50 });
    t.after(() => server.close());
    // A raw TCP peer that completes the upgrade and then never answers anything.
    const socket = new Socket();
    await new Promise<void>((resolve) => socket.connect(server.port, '127.0.0.1', resolve));
    socket.write(
      'GET /parties/p/hb?_pk=zombie HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' + 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );
    await new Promise<void>((resolve) => socket.once('data', () => resolve()));
    assert.equal(server.stats().connections, 1);
    await new Promise<void>((resolve) => socket.once('close', () => resolve()));
    await until(() => server.stats().connections === 0, 'the server to drop the dead peer');
  });
});

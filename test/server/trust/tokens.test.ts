// Client tokens are standard JWTs: a customer's own auth server mints them with any JWT library
// (here `jose`, as the README's ten-line example), HS256 with the project's secret or ES256 with
// a key only the customer holds, published as a JWKS. Every refusal has its documented code.
import assert from 'node:assert/strict';
import { createServer as createHttpServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { SignJWT, exportJWK, generateKeyPair, type JWK } from 'jose';
import { CloseCode, ErrorCode } from '../../../src/protocol/index.js';
import type { VidgetServer } from '../../../src/server/index.js';
import { TEST_SECRET, TestClient, jwt, startServer, token } from '../helpers.js';

/** The customer's auth server (their "enclave"): signs a token for whoever its own login says. */
async function sampleAuthServer(sign: (sub: string, name: string) => Promise<string>): Promise<{ server: Server; url: string }> {
  const server = createHttpServer(async (req, res) => {
    const user = new URL(req.url!, 'http://x').searchParams.get('user') ?? 'guest';
    res.end(JSON.stringify({ token: await sign(user, user.toUpperCase()) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const now = () => Math.floor(Date.now() / 1000);

describe('JWT client tokens', () => {
  let vidget: VidgetServer;
  let jwks: Server;
  let privateKey: CryptoKey;
  before(async () => {
    const pair = await generateKeyPair('ES256');
    privateKey = pair.privateKey;
    const publicJwk: JWK = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
    jwks = createHttpServer((_req, res) => res.end(JSON.stringify({ keys: [publicJwk] })));
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    const jwksUrl = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/.well-known/jwks.json`;
    vidget = await startServer({
      projects: [
        { id: 'hs', secret: TEST_SECRET, anonymous: false },
        { id: 'es', jwksUrl, anonymous: false },
      ],
    });
  });
  after(async () => {
    await vidget.close();
    jwks.close();
  });

  test('HS256 from a sample auth server: username comes from the token on every record', async () => {
    const auth = await sampleAuthServer((sub, name) =>
      new SignJWT({ name }).setProtectedHeader({ alg: 'HS256' }).setAudience('hs').setSubject(sub).setExpirationTime('1h').sign(new TextEncoder().encode(TEST_SECRET)),
    );
    const { token: t } = (await (await fetch(`${auth.url}/?user=ann`)).json()) as { token: string };
    auth.server.close();
    const c = await TestClient.joined(vidget, 'hs', 'chat', { token: t });
    assert.equal((c.frames.find((f) => f.type === 'hello') as { username: string }).username, 'ANN');
    c.send({ type: 'pub', cid: 'a1', data: { text: 'hi', username: 'mallory' }, persist: true });
    assert.equal((await c.next('ack')).record.username, 'ANN');
    const found = await c.search({});
    assert.ok(found.type === 'result' && found.records.every((r) => r.username === 'ANN'));
    await c.close();
  });

  test("ES256 verified through the customer's JWKS: Vidget never holds their signing key", async () => {
    const t = await new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setAudience('es').setSubject('bob').setExpirationTime('1h').sign(privateKey);
    const c = await TestClient.joined(vidget, 'es', 'room', { token: t });
    assert.equal((c.frames.find((f) => f.type === 'hello') as { username: string }).username, 'bob');
    await c.close();
    // The HS256 secret of another project does not open this one.
    const hs = await TestClient.connect(vidget, 'es', 'room', { token: token('es', 'bob') });
    assert.equal((await hs.closed).code, CloseCode.Unauthorized);
  });

  test('refusals: alg none, wrong key, wrong audience, expired, no sub, no exp, widening room patterns, oversized', async () => {
    const cases: Array<[string, string, number]> = [
      ['alg none', jwt({ aud: 'hs', sub: 'a', exp: now() + 60 }, { header: { alg: 'none', typ: 'JWT' } }), CloseCode.Unauthorized],
      ['HS256 with another key', jwt({ aud: 'hs', sub: 'a', exp: now() + 60 }, { secret: 'not-the-secret-0123456789' }), CloseCode.Unauthorized],
      ["another project's audience", jwt({ aud: 'es', sub: 'a', exp: now() + 60 }), CloseCode.Forbidden],
      ['expired', jwt({ aud: 'hs', sub: 'a', exp: now() - 60 }), CloseCode.TokenExpired],
      ['no sub', jwt({ aud: 'hs', exp: now() + 60 }), CloseCode.Unauthorized],
      ['no exp', jwt({ aud: 'hs', sub: 'a' }), CloseCode.Unauthorized],
      ['rooms **', jwt({ aud: 'hs', sub: 'a', exp: now() + 60, rooms: { '**': ['read'] } }), CloseCode.Unauthorized],
      ['rooms ../', jwt({ aud: 'hs', sub: 'a', exp: now() + 60, rooms: { '../x': ['read'] } }), CloseCode.Unauthorized],
      ['rooms empty pattern', jwt({ aud: 'hs', sub: 'a', exp: now() + 60, rooms: { '': ['read'] } }), CloseCode.Unauthorized],
      ['rooms unknown action', jwt({ aud: 'hs', sub: 'a', exp: now() + 60, rooms: { '*': ['admin'] } }), CloseCode.Unauthorized],
      ['oversized', jwt({ aud: 'hs', sub: 'a', exp: now() + 60, pad: 'x'.repeat(5000) }), CloseCode.BadRequest],
      ['no token where one is needed', '', CloseCode.Unauthorized],
    ];
    for (const [what, t, code] of cases) {
      const c = await TestClient.connect(vidget, 'hs', 'room', t ? { token: t } : {});
      assert.equal((await c.closed).code, code, what);
    }
    const search = await fetch(`${vidget.url}/api/projects/hs/widgets/room/records`, { headers: { authorization: `Bearer ${jwt({ aud: 'hs', sub: 'a', exp: now() - 60 })}` } });
    assert.equal(search.status, 401);
    assert.equal(((await search.json()) as { error: { code: string } }).error.code, ErrorCode.TokenExpired);
  });

  test('a connection whose token expires is closed with 4002 at its next frame; a refresh before that keeps it', async () => {
    const short = jwt({ aud: 'hs', sub: 'ann', exp: now() + 2 });
    const kept = await TestClient.joined(vidget, 'hs', 'refresh', { token: short });
    const lapsed = await TestClient.joined(vidget, 'hs', 'refresh', { token: short });
    kept.send({ type: 'refresh', token: token('hs', 'ann') });
    const refreshed = await kept.next((f) => f.type === 'refreshed');
    assert.ok(refreshed.type === 'refreshed' && refreshed.exp > now() + 3000);
    // Another user's token cannot be swapped in.
    kept.send({ type: 'refresh', token: token('hs', 'mallory') });
    assert.equal((await kept.next('err')).code, ErrorCode.Forbidden);
    const deadline = (now() + 3) * 1000;
    while (Date.now() < deadline) await new Promise((r) => setTimeout(r, 100)); // the clock, not an event, makes a token expire
    lapsed.send({ type: 'pub', cid: 'late', data: 1, persist: false });
    assert.equal((await lapsed.closed).code, CloseCode.TokenExpired);
    assert.equal((await kept.publish('still here', false)).record.data, 'still here');
    await kept.close();
  });
});

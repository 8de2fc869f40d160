// Tenancy: a client of project A can never read, search, publish into or count the connections
// of project B, whatever the URL, frame or query says.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import { CloseCode, type ServerFrame } from '../../src/protocol/index.js';
import type { VidgetServer } from '../../src/server/index.js';
import { openProjects, startServer, TestClient, token } from './helpers.js';

let server: VidgetServer;
let b: TestClient;
const tokenA = () => token('alpha', 'ann');
const tokenB = () => token('beta', 'bob');

before(async () => {
  server = await startServer({ projects: openProjects({ anonymous: false }, ['alpha', 'beta']) });
  b = await TestClient.joined(server, 'beta', 'shared', { token: tokenB() });
  for (let i = 0; i < 5; i++) await b.publish({ secret: `beta-${i}` });
});
after(async () => {
  await b.close();
  await server.close();
});

/** Opens a raw socket at `path` and reports how it ended: closed with a code, or joined. */
async function tryPath(path: string): Promise<{ code?: number; frames: ServerFrame[]; ws: WebSocket }> {
  const ws = new WebSocket(`${server.wsUrl}${path}`);
  const frames: ServerFrame[] = [];
  ws.on('message', (d) => frames.push(JSON.parse(d.toString())));
  return new Promise((resolve) => {
    ws.on('unexpected-response', (_req, res) => resolve({ code: res.statusCode, frames, ws }));
    ws.on('error', () => {});
    ws.on('close', (code) => resolve({ code, frames, ws }));
    ws.on('message', () => frames.some((f) => f.type === 'synced') && resolve({ frames, ws }));
  });
}

describe('tenancy', () => {
  test("URL tricks never reach another project's room: refused, or an own room without its records", async () => {
    const t = encodeURIComponent(tokenA());
    const paths = [
      `/parties/alpha/..%2Fbeta%2Fshared?_pk=x1&token=${t}`,
      `/parties/alpha%2Fbeta/shared?_pk=x2&token=${t}`,
      `/parties/alpha/shared/../../beta/shared?_pk=x3&token=${t}`,
      `/parties/beta/shared?_pk=x4&token=${t}`, // A's token for B's room
      `/parties/beta/shared?_pk=x5&project=alpha&token=${t}`,
      `/parties/beta/shared?_pk=x6`, // no token at all
      `/parties/alpha/shared%00beta?_pk=x7&token=${t}`,
      `/parties//beta/shared?_pk=x8&token=${t}`,
      `/parties/alpha/shared?_pk=x9&token=${t}&token=${encodeURIComponent(tokenB())}`,
    ];
    for (const path of paths) {
      const { code, frames, ws } = await tryPath(path);
      const leaked = frames.some((f) => (f.type === 'msg' || f.type === 'ack') && JSON.stringify(f.record).includes('beta-'));
      assert.ok(!leaked, `${path} leaked a record of beta`);
      if (code !== undefined) {
        assert.ok([CloseCode.BadRequest, CloseCode.Unauthorized, CloseCode.Forbidden, 404].includes(code as never), `${path}: closed with ${code}`);
      } else {
        // It joined a room: one of alpha's, where a search finds nothing of beta's.
        ws.send(JSON.stringify({ type: 'search', rid: 'r1', query: { limit: 1000 } }));
        const result = await new Promise<ServerFrame>((resolve) =>
          ws.on('message', (d) => {
            const f = JSON.parse(d.toString());
            if (f.type === 'result' || f.type === 'err') resolve(f);
          }),
        );
        assert.ok(result.type === 'result' && !JSON.stringify(result.records).includes('beta-'), `${path} can search beta's records`);
      }
      ws.terminate();
    }
  });

  test('frames that name another project or room are ignored: publishes and searches stay in the own room', async () => {
    const a = await TestClient.joined(server, 'alpha', 'shared', { token: tokenA() });
    a.send({ type: 'pub', cid: 'x1', data: { hi: 1 }, persist: true, project: 'beta', room: 'beta/shared' });
    const ack = await a.next('ack', (f) => f.cid === 'x1');
    assert.equal(ack.record.username, 'ann');
    for (const query of [{ limit: 1000, project: 'beta' }, { limit: 1000, room: 'beta/shared' }, { filters: [{ field: 'data.secret', operator: 'exists' }] }]) {
      const r = await a.search(query);
      assert.ok(r.type === 'err' || !JSON.stringify(r.records).includes('beta-'), JSON.stringify(query));
    }
    const found = (await b.search({ filters: [{ field: 'data.hi', operator: 'exists' }] })) as Extract<ServerFrame, { type: 'result' }>;
    assert.equal(found.total, 0, "alpha's publish did not land in beta");
    await a.close();
  });

  test("presence counts only the own project's room; HTTP search with another project's token is refused", async () => {
    const as = await Promise.all([1, 2, 3].map(() => TestClient.joined(server, 'alpha', 'shared', { token: tokenA() })));
    const b2 = await TestClient.joined(server, 'beta', 'shared', { token: tokenB() });
    const presence = await b2.next('presence', (f) => f.count === 2);
    assert.equal(presence.count, 2, 'beta sees its own two connections only');
    const last = as[2]!;
    await last.next('presence', (f) => f.count === 3);
    const res = await fetch(`${server.url}/api/projects/beta/widgets/shared/records`, { headers: { authorization: `Bearer ${tokenA()}` } });
    assert.equal(res.status, 403);
    const own = await fetch(`${server.url}/api/projects/beta/widgets/shared/records`, { headers: { authorization: `Bearer ${tokenB()}` } });
    assert.equal(own.status, 200);
    const anonymous = await fetch(`${server.url}/api/projects/beta/widgets/shared/records`);
    assert.equal(anonymous.status, 401);
    await Promise.all([...as, b2].map((c) => c.close()));
  });
});

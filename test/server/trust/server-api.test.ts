// The server API, for a site's backend with its project's API key: publish into a room, take a
// record down live, delete one user's records (a privacy request), list rooms with live counts.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { VidgetRecord } from '../../../src/protocol/index.js';
import type { VidgetServer } from '../../../src/server/index.js';
import { TEST_API_KEY, TestClient, openProjects, startServer, token } from '../helpers.js';

describe('server API', () => {
  let server: VidgetServer;
  const api = (path: string, init: RequestInit = {}, key = TEST_API_KEY) =>
    fetch(`${server.url}/api/projects/${path}`, { ...init, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...init.headers } });
  before(async () => {
    server = await startServer({ projects: openProjects({}, ['site', 'other']), rates: { apiKeyCalls: { perSecond: 1000, burst: 1000 } } });
  });
  after(() => server.close());

  test('the backend publishes into a room: client_id "server", its username, live to viewers, stored', async () => {
    const viewer = await TestClient.joined(server, 'site', 'news');
    const res = await api('site/widgets/news/records', { method: 'POST', body: JSON.stringify({ data: { text: 'Live now' }, username: 'Newsroom' }) });
    assert.equal(res.status, 201);
    const record = (await res.json()) as VidgetRecord;
    assert.equal(record.client_id, 'server');
    assert.equal(record.username, 'Newsroom');
    assert.deepEqual((await viewer.next('msg')).record, record);
    const found = await viewer.search({});
    assert.equal(found.type === 'result' && found.total, 1);
    await viewer.close();
  });

  test('a record taken down disappears from every open connection, from search and from catch-up', async () => {
    const a = await TestClient.joined(server, 'site', 'chat');
    const b = await TestClient.joined(server, 'site', 'chat');
    const { record } = await a.publish({ text: 'rude' });
    await b.next('msg', (f) => f.record.id === record.id);
    const res = await api(`site/widgets/chat/records/${record.id}`, { method: 'DELETE' });
    assert.deepEqual(await res.json(), { deleted: [record.id] });
    for (const c of [a, b]) assert.deepEqual(await c.next((f) => f.type === 'deleted').then((f) => f.type === 'deleted' && f.ids), [record.id]);
    const after = await a.search({});
    assert.equal(after.type === 'result' && after.total, 0);
    assert.equal((await api(`site/widgets/chat/records/${record.id}`, { method: 'DELETE' })).status, 404);
    await Promise.all([a.close(), b.close()]);
  });

  test("deleting a user's records removes them in every room of the project, and only that user's, and only there", async () => {
    const ann = token('site', 'ann');
    const other = token('other', 'ann');
    const rooms = await Promise.all(['r1', 'r2'].map((r) => TestClient.joined(server, 'site', r, { token: ann })));
    const bob = await TestClient.joined(server, 'site', 'r1', { token: token('site', 'bob') });
    const elsewhere = await TestClient.joined(server, 'other', 'r1', { token: other });
    for (const c of [...rooms, bob, elsewhere]) await c.publish({ from: c === bob ? 'bob' : 'ann' });
    const res = await api('site/users/ann/records', { method: 'DELETE' });
    const body = (await res.json()) as { deleted: number; rooms: string[] };
    assert.equal(body.deleted, 2);
    assert.deepEqual(body.rooms.sort(), ['r1', 'r2']);
    const r1 = await bob.search({});
    assert.deepEqual(r1.type === 'result' && r1.records.map((r) => r.username), ['bob']);
    const kept = await elsewhere.search({});
    assert.equal(kept.type === 'result' && kept.total, 1, 'another project is untouched');
    await Promise.all([...rooms, bob, elsewhere].map((c) => c.close()));
  });

  test('rooms are listed with what they hold and their live connections', async () => {
    const open = await Promise.all([1, 2].map(() => TestClient.joined(server, 'site', 'listed')));
    await open[0]!.publish({ x: 1 });
    const { rooms } = (await (await api('site/rooms')).json()) as { rooms: Array<{ room: string; records: number; connections: number }> };
    assert.deepEqual(
      rooms.find((r) => r.room === 'listed'),
      { room: 'listed', records: 1, bytes: 7, connections: 2 },
    );
    await Promise.all(open.map((c) => c.close()));
  });

  test("without the key, with a wrong key, with a token, or with another project's key: refused", async () => {
    for (const key of ['', 'wrong-key-wrong-key', token('site', 'ann')]) {
      const res = await api('site/rooms', {}, key);
      assert.equal(res.status, 401, key);
    }
    const res = await api('site/widgets/x/records', { method: 'POST', body: '{"nodata":1}' });
    assert.equal(res.status, 400);
    assert.equal((await api('site/widgets/x/records', { method: 'POST', body: JSON.stringify({ data: 1, persist: 'yes' }) })).status, 400);
    assert.equal((await api('site/widgets/x/records/abc', { method: 'DELETE' })).status, 400);
    assert.equal((await api('nobody/rooms')).status, 403);
  });
});

describe('server API rate', () => {
  test('calls per API key are limited with 429', async (t) => {
    const server = await startServer({ projects: openProjects({}, ['site']), rates: { apiKeyCalls: { perSecond: 0.001, burst: 5 } } });
    t.after(() => server.close());
    const statuses = [];
    for (let i = 0; i < 7; i++) statuses.push((await fetch(`${server.url}/api/projects/site/rooms`, { headers: { authorization: `Bearer ${TEST_API_KEY}` } })).status);
    assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429, 429]);
  });
});

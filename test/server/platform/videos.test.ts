// Videos through the server API (VideoKit's realtime notifications): every change is a stored
// record of the project room, live to every player of the project, replayed in order to one
// that was away, and the list is that log folded.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CloseCode, ErrorCode, PROJECT_ROOM, type Video, type VideoNotification } from '../../../src/protocol/index.js';
import { PostgresStore, type Store, type VidgetServer } from '../../../src/server/index.js';
import { TEST_API_KEY, TestClient, openProjects, startServer } from '../helpers.js';
import { DATABASE_URL, dropSchema, freshSchema, postgresMissing } from '../services.js';

const pgMissing = await postgresMissing();
if (pgMissing) console.log(`# skipping the videos on PostgreSQL: ${pgMissing}`);
const schema = freshSchema();
const STORES: Array<{ name: string; skip: string | false; store: () => Store | undefined }> = [
  { name: 'SQLite', skip: false, store: () => undefined },
  { name: 'PostgreSQL', skip: pgMissing ?? false, store: () => new PostgresStore({ connectionString: DATABASE_URL, schema }) },
];

for (const kind of STORES)
  describe(`videos API and notifications (${kind.name})`, { skip: kind.skip }, () => {
    let server: VidgetServer;
    const api = (path: string, init: RequestInit = {}, key = TEST_API_KEY) =>
      fetch(`${server.url}/api/projects/${path}`, { ...init, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...init.headers } });
    const post = (project: string, body: unknown) => api(`${project}/videos`, { method: 'POST', body: JSON.stringify(body) });
    const patch = (project: string, id: string, body: unknown) => api(`${project}/videos/${id}`, { method: 'PATCH', body: JSON.stringify(body) });
    const notification = async (client: TestClient) => (await client.next('msg')).record.data as unknown as VideoNotification;
    before(async () => {
      const store = kind.store();
      server = await startServer({ projects: openProjects({}, ['site', 'other']), ...(store ? { store } : {}) });
    });
    after(async () => {
      await server.close();
      if (kind.name === 'PostgreSQL') await dropSchema(schema);
    });

    test('create, update and delete reach every player of the project live, with the seed payloads', async () => {
      const players = await Promise.all([TestClient.joined(server, 'site', PROJECT_ROOM), TestClient.joined(server, 'site', PROJECT_ROOM)]);
      const res = await post('site', { id: 'talk', title: 'The talk', src: '/talk.webm', status: 'processing' });
      assert.equal(res.status, 201);
      const video = (await res.json()) as Video;
      assert.equal(video.status, 'processing');
      for (const p of players) assert.deepEqual(await notification(p), { event: 'videoCreated', video });
      assert.equal((await patch('site', 'talk', { status: 'ready', duration: 12 })).status, 200);
      for (const p of players) {
        const n = await notification(p);
        assert.ok(n.event === 'videoUpdated');
        assert.equal(n.videoId, 'talk');
        assert.equal(n.changes.status, 'ready');
        assert.equal(n.changes.duration, 12);
      }
      assert.equal((await api('site/videos/talk', { method: 'DELETE' })).status, 200);
      for (const p of players) assert.deepEqual(await notification(p), { event: 'videoDeleted', videoId: 'talk' });
      await Promise.all(players.map((p) => p.close()));
    });

    test('the list and one video follow every change; an unknown id is 404', async () => {
      await post('site', { id: 'a', title: 'A', src: 'https://cdn.example/a.mp4', status: 'ready' });
      const created = (await (await post('site', { title: 'B', src: '/b.webm', status: 'live' })).json()) as Video;
      assert.match(created.id, /^[A-Za-z0-9_-]{12}$/, 'an id is made when none is given');
      await patch('site', created.id, { status: 'ended', title: 'B (replay)' });
      const list = (await (await api('site/videos')).json()) as { videos: Video[] };
      const b = list.videos.find((v) => v.id === created.id)!;
      assert.equal(b.status, 'ended');
      assert.equal(b.title, 'B (replay)');
      assert.equal(((await (await api(`site/videos/${created.id}`)).json()) as Video).status, 'ended');
      assert.equal((await api('site/videos/nope')).status, 404);
      assert.equal((await patch('site', 'nope', { title: 'x' })).status, 404);
      assert.equal((await api('site/videos/nope', { method: 'DELETE' })).status, 404);
      assert.equal((await post('site', { id: 'a', title: 'again', src: '/a', status: 'ready' })).status, 400, 'an id in use');
    });

    test('a player that was away gets what it missed, in order, from its cursor', async () => {
      const player = await TestClient.joined(server, 'site', PROJECT_ROOM);
      await post('site', { id: 'c1', title: 'C1', src: '/c1', status: 'processing' });
      const first = await player.next('msg');
      await player.close();
      await patch('site', 'c1', { status: 'ready' });
      await api('site/videos/c1', { method: 'DELETE' });
      const back = await TestClient.joined(server, 'site', PROJECT_ROOM, { since: first.record.id, epoch: (player.frames.find((f) => f.type === 'hello') as { epoch: string }).epoch });
      const missed = back.frames.filter((f) => f.type === 'msg').map((f) => (f.type === 'msg' ? (f.record.data as unknown as VideoNotification).event : ''));
      assert.deepEqual(missed, ['videoUpdated', 'videoDeleted']);
      await back.close();
    });

    test('on a project with signed rooms the project room needs no signature; other rooms still do', async (t) => {
      const signed = await startServer({ projects: openProjects({ signedRooms: true }, ['signed']) });
      t.after(() => signed.close());
      const player = await TestClient.joined(signed, 'signed', PROJECT_ROOM);
      assert.ok(player.frames.some((f) => f.type === 'hello'));
      const widget = await TestClient.connect(signed, 'signed', 'chat');
      assert.equal((await widget.closed).code, CloseCode.Forbidden);
      await player.close();
    });

    test("bad bodies get a clear error; another project's videos are not reachable; a viewer cannot write", async () => {
      const bad = async (body: unknown, pattern: RegExp) => {
        const res = await post('site', body);
        assert.equal(res.status, 400);
        const { error } = (await res.json()) as { error: { code: string; message: string } };
        assert.equal(error.code, ErrorCode.BadFrame);
        assert.match(error.message, pattern);
      };
      await bad({ title: 'x', src: '/x' }, /status is required/);
      await bad({ title: 'x', src: 'javascript:alert(1)', status: 'ready' }, /src must be/);
      await bad({ title: 'x', src: '/x', status: 'ready', duration: -1 }, /duration/);
      await bad({ title: 'x', src: '/x', status: 'ready', __proto__: { admin: true }, evil: 1 }, /unknown video field "evil"/);
      await bad({ id: '../etc', title: 'x', src: '/x', status: 'ready' }, /video.id/);
      assert.equal((await patch('site', 'a', {})).status, 400);
      assert.equal((await api('site/videos', { method: 'POST', body: 'not json' })).status, 400);
      await post('other', { id: 'secret', title: 'S', src: '/s', status: 'ready' });
      assert.equal((await api('site/videos/secret')).status, 404, "another project's id");
      assert.equal((await api('site/videos', {}, 'wrong-key-0123456789')).status, 401);
      const viewer = await TestClient.joined(server, 'site', PROJECT_ROOM);
      viewer.send({ type: 'pub', cid: 'fake1', data: { event: 'videoDeleted', videoId: 'a' }, persist: true });
      assert.equal((await viewer.next('err', (f) => f.cid === 'fake1')).code, ErrorCode.Forbidden);
      viewer.send({ type: 'pub', cid: 'fake2', data: { event: 'videoDeleted', videoId: 'a' }, persist: false });
      assert.equal((await viewer.next('err', (f) => f.cid === 'fake2')).code, ErrorCode.BadFrame);
      const list = (await (await api('site/videos')).json()) as { videos: Video[] };
      assert.ok(
        list.videos.some((v) => v.id === 'a'),
        'nothing a viewer sent changed the list',
      );
      await viewer.close();
    });
  });

// The player's own connection to its project (VideoKit: opened by itself when the session
// starts): one per page however many players, observable, carrying the project's video
// notifications live, and catching up on what a paused (hidden) page missed, in order.
import { expect } from '@esm-bundle/chai';
import '../../src/define.js';
import type { PlayerApi, VidgetPlayer } from '../../src/index.js';
import { acquireProjectConnection, openProjectConnections, releaseProjectConnection } from '../../src/platform/project-connection.js';
import { mountPlayer } from '../browser/mount-player.js';
import { testEnv, type TestEnv } from '../browser/test-env.js';
import { setVisibility, until } from '../helpers/wait.js';

const API_KEY = 'wtr-api-key-0123456789';
let env: TestEnv;
const api = (project: string, path: string, method = 'GET', body?: unknown) =>
  fetch(`${env.http}/api/projects/${project}/${path}`, {
    method,
    headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
const health = async () => ((await (await fetch(`${env.http}/api/health`)).json()) as { connections: number }).connections;

/** Every platform event a player emits, in order. */
function record(playerApi: PlayerApi): Array<[string, unknown]> {
  const seen: Array<[string, unknown]> = [];
  for (const name of ['videoCreated', 'videoUpdated', 'videoDeleted', 'connectionStateChange']) playerApi.on(name, (detail: unknown) => seen.push([name, detail]));
  return seen;
}
const running = (p: VidgetPlayer) => until(() => p.playerApi!.connectionState === 'running', 'the project connection running');

describe('the player project connection', () => {
  before(async () => {
    env = await testEnv();
  });
  afterEach(() => {
    document.querySelectorAll('vidget-player').forEach((p) => p.remove());
    setVisibility('visible');
  });

  it('is opened by the player, once per page for two players, and closed with the last one', async () => {
    const before = await health();
    const a = await mountPlayer(env, 'pc-one', []);
    const b = await mountPlayer(env, 'pc-one', []);
    await running(a.player);
    await running(b.player);
    expect(openProjectConnections()).to.equal(1);
    expect(await health()).to.equal(before + 1, 'one socket on the server for two players');
    a.player.remove();
    await until(() => a.player.playerApi === undefined);
    expect(openProjectConnections()).to.equal(1, 'the other player still holds it');
    b.player.remove();
    await until(() => openProjectConnections() === 0, 'closed with the last player');
  });

  it('brings create, update and delete to every player live, with the seed payloads', async () => {
    const players = [await mountPlayer(env, 'pc-live', []), await mountPlayer(env, 'pc-live', [])];
    await Promise.all(players.map((p) => running(p.player)));
    const seen = players.map((p) => record(p.player.playerApi!));
    expect((await api('pc-live', 'videos', 'POST', { id: 'keynote', title: 'Keynote', src: '/clip.webm', status: 'processing' })).status).to.equal(201);
    await api('pc-live', 'videos/keynote', 'PATCH', { status: 'live' });
    await api('pc-live', 'videos/keynote', 'DELETE');
    for (const s of seen) {
      await until(() => s.filter(([n]) => n.startsWith('video')).length === 3, 'three notifications');
      const [created, updated, deleted] = s.filter(([n]) => n.startsWith('video'));
      expect(created![0]).to.equal('videoCreated');
      expect((created![1] as { video: { id: string; status: string } }).video).to.include({ id: 'keynote', status: 'processing' });
      expect(updated![0]).to.equal('videoUpdated');
      expect((updated![1] as { videoId: string; changes: { status: string } }).changes.status).to.equal('live');
      expect(deleted).to.deep.equal(['videoDeleted', { videoId: 'keynote' }]);
    }
  });

  it('catches up, in order, on what it missed while the page was hidden and the connection paused', async () => {
    // Taken first with a short pause, so the player shares it (one per page).
    const held = acquireProjectConnection({ server: `ws://${env.host}`, project: 'pc-away', socket: { pauseAfterHiddenMs: 50 } });
    const { player } = await mountPlayer(env, 'pc-away', []);
    await running(player);
    const seen = record(player.playerApi!);
    await api('pc-away', 'videos', 'POST', { id: 'v1', title: 'One', src: '/clip.webm', status: 'processing' });
    await until(() => seen.some(([n]) => n === 'videoCreated'));
    setVisibility('hidden');
    await until(() => player.playerApi!.connectionState === 'paused', 'paused in the background');
    await api('pc-away', 'videos/v1', 'PATCH', { status: 'ready', duration: 12 });
    await api('pc-away', 'videos', 'POST', { id: 'v2', title: 'Two', src: '/clip.webm', status: 'ready' });
    await api('pc-away', 'videos/v1', 'DELETE');
    expect(seen.filter(([n]) => n.startsWith('video')).length).to.equal(1, 'nothing while paused');
    setVisibility('visible');
    await until(() => seen.filter(([n]) => n.startsWith('video')).length === 4, 'the missed three');
    expect(seen.filter(([n]) => n.startsWith('video')).map(([n]) => n)).to.deep.equal(['videoCreated', 'videoUpdated', 'videoCreated', 'videoDeleted']);
    const states = seen.filter(([n]) => n === 'connectionStateChange').map(([, d]) => (d as { state: string }).state);
    expect(states).to.include.members(['paused', 'resuming', 'running']);
    releaseProjectConnection(held);
  });

  it('leaves the page working when the server cannot be reached', async () => {
    const { player, video } = await mountPlayer(env, 'pc-down', []);
    player.setAttribute('server', 'ws://127.0.0.1:9');
    await until(() => player.playerApi?.connectionState === 'reconnecting' || player.playerApi?.connectionState === 'starting', 'trying to connect');
    await video.play();
    expect(video.paused).to.equal(false);
    video.pause();
    expect(player.playerApi!.connectionState).to.not.equal('running');
  });
});

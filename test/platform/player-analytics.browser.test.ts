// playerApi.analytics(): a page's own view of its project's live analytics, as its player plays
// and pauses (the server counts what the player reports over its project connection).
import { expect } from '@esm-bundle/chai';
import '../../src/define.js';
import { fetchDemoToken } from '../../demo/fetch-demo-token.js';
import { countedSnapshots } from '../../src/protocol/platform.js';
import { mountPlayer } from '../browser/mount-player.js';
import { testEnv, type TestEnv } from '../browser/test-env.js';
import { until } from '../helpers/wait.js';

let env: TestEnv;

describe('playerApi.analytics()', () => {
  before(async () => {
    env = await testEnv();
  });
  afterEach(() => document.querySelectorAll('vidget-player').forEach((p) => p.remove()));

  it('follows this player: playing counts one viewer of its video, pausing takes it off; the series comes first', async () => {
    const { player, video } = await mountPlayer(env, 'pa-live', []);
    const api = player.playerApi!;
    const token = await fetchDemoToken('pa-live', 'team', env.http, { _analytics: ['analytics'] });
    const stats = await api.analytics({ catchup: '10m', token });
    const snapshots: Array<{ live: boolean; viewers: number }> = [];
    stats.onSnapshot = (s, live) => snapshots.push({ live, viewers: s.concurrentViewers });
    await until(() => stats.state === 'running', 'subscribed');
    await video.play();
    await until(() => stats.latest?.concurrentViewers === 1, 'one viewer');
    // A <video> without an id (and no project video loaded) is counted under `default`.
    expect(stats.latest!.videos.default?.concurrentViewers).to.equal(1);
    // The play is in the bucket in progress, or in one stored since (2 s buckets here).
    await until(() => countedSnapshots(stats.series, stats.latest).reduce((n, s) => n + s.plays, 0) >= 1, 'the play counted');
    video.pause();
    await until(() => stats.latest?.concurrentViewers === 0, 'paused: no viewer');
    // Buckets are 2 s in this run: one with the viewer is stored, and a later subscriber replays it first.
    await until(() => stats.series.some((s) => s.concurrentViewers === 1 || s.plays > 0), 'a stored bucket', 8_000);
    stats.close();
    const later = await api.analytics({ catchup: '10m', token });
    const first: boolean[] = [];
    later.onSnapshot = (_s, live) => first.push(live);
    await until(() => first.includes(true), 'live after the catch-up');
    expect(first[0]).to.equal(false, 'the stored series before any live snapshot');
    later.close();
  });

  it('counts a play watched to the end as a completion, and its quartiles on the way', async () => {
    const { player, video } = await mountPlayer(env, 'pa-end', []);
    const token = await fetchDemoToken('pa-end', 'team', env.http, { _analytics: ['analytics'] });
    const stats = await player.playerApi!.analytics({ catchup: '10m', token });
    await until(() => stats.state === 'running', 'subscribed');
    video.playbackRate = 8;
    await video.play();
    await new Promise((resolve) => video.addEventListener('ended', resolve, { once: true }));
    const all = () => countedSnapshots(stats.series, stats.latest);
    await until(() => all().some((s) => (s.completions ?? 0) > 0), 'a completion', 8_000);
    const total = (key: 'plays' | 'completions') => all().reduce((n, s) => n + (s[key] ?? 0), 0);
    expect(total('completions')).to.equal(1);
    expect(total('plays')).to.equal(1);
    expect(all().find((s) => (s.completions ?? 0) > 0)!.completionRate).to.equal(1);
    stats.close();
  });

  it('needs the analytics permission: without it the subscription fails and the player plays on', async () => {
    const { player, video } = await mountPlayer(env, 'pa-denied', []);
    const stats = await player.playerApi!.analytics();
    await until(() => stats.state === 'failed', 'refused');
    await video.play();
    expect(video.paused).to.equal(false);
    video.pause();
  });
});

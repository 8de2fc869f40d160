// Live analytics (TwentyThree): players report over the project connection, the server counts
// per project and video, pushes the bucket in progress to subscribers of the analytics room
// every push interval and stores each closed bucket, so a subscriber's catch-up is the room's
// own replay followed by the live snapshots.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ANALYTICS_ROOM, CloseCode, ErrorCode, PROJECT_ROOM, type AnalyticsSnapshot, type ServerFrame } from '../../../src/protocol/index.js';
import type { VidgetServer } from '../../../src/server/index.js';
import { TEST_API_KEY, TestClient, openProjects, startServer, token } from '../helpers.js';

const report = (videoId: string, fields: Record<string, unknown> = {}) => ({
  analytics: [{ slot: 0, videoId, playing: true, plays: 0, seeks: 0, buffering: 0, quartiles: [], watched: 0, interactions: {}, ...fields }],
});
const snapshotOf = (f: ServerFrame): AnalyticsSnapshot => (f.type === 'msg' ? (f.record.data as unknown as AnalyticsSnapshot) : ({} as AnalyticsSnapshot));

describe('live analytics', () => {
  let server: VidgetServer;
  const analyticsToken = (project: string) => token(project, 'team', { rooms: { [ANALYTICS_ROOM]: ['analytics'] } });
  const dashboard = (project: string, query: Record<string, string> = {}) => TestClient.joined(server, project, ANALYTICS_ROOM, { token: analyticsToken(project), ...query });
  /** The next live snapshot that satisfies `match`. */
  const live = async (client: TestClient, match: (s: AnalyticsSnapshot) => boolean) => snapshotOf(await client.next((f) => f.type === 'msg' && !f.persisted && match(snapshotOf(f))));
  before(async () => {
    server = await startServer({ projects: openProjects({}, ['site', 'other', 'flood']), analytics: { seriesMs: 1_000, pushMs: 100, staleMs: 5_000 } });
  });
  after(() => server.close());

  test('three viewers playing are 3 concurrent viewers; a pause and a closed page take them off at once', async () => {
    const board = await dashboard('site');
    const viewers = await Promise.all([0, 1, 2].map(() => TestClient.joined(server, 'site', PROJECT_ROOM)));
    for (const v of viewers) await v.publish(report('talk', { plays: 1 }), false);
    const three = await live(board, (s) => s.concurrentViewers === 3);
    assert.equal(three.videos.talk?.concurrentViewers, 3);
    await viewers[0]!.publish(report('talk', { playing: false }), false);
    await live(board, (s) => s.concurrentViewers === 2);
    await viewers[1]!.close();
    const one = await live(board, (s) => s.concurrentViewers === 1);
    assert.equal(one.videos.talk?.concurrentViewers, 1);
    await viewers[2]!.close();
    await viewers[0]!.close();
    await board.close();
  });

  test('catch-up replays the stored buckets, then the live snapshots follow; REST answers the same series', async () => {
    // Subscribed first, so it sees the bucket holding the plays stored (pushed as a stored record).
    const first = await dashboard('other');
    const viewer = await TestClient.joined(server, 'other', PROJECT_ROOM);
    await viewer.publish(report('v1', { plays: 2, watched: 1, interactions: { poll: 3 } }), false);
    await first.next((f) => f.type === 'msg' && f.persisted && snapshotOf(f).plays === 2);
    await first.close();
    const board = await dashboard('other', { catchup: '5m' });
    const replayed = board.frames.filter((f) => f.type === 'msg' && f.persisted).map(snapshotOf);
    const bucket = replayed.find((s) => s.plays === 2)!;
    assert.ok(bucket, 'the stored bucket is replayed before synced');
    assert.deepEqual(bucket.interactions, { poll: 3 });
    assert.equal(bucket.videos.v1?.plays, 2);
    // The replay first, then what came live meanwhile (held by the server until the replay is sent).
    const synced = board.frames.findIndex((f) => f.type === 'synced');
    const firstLive = board.frames.findIndex((f) => f.type === 'msg' && !f.persisted);
    const lastReplayed = board.frames.slice(0, synced).findLastIndex((f) => f.type === 'msg' && f.persisted);
    assert.ok(firstLive === -1 || lastReplayed < firstLive, 'no live snapshot before the replayed series');
    await live(board, (s) => s.concurrentViewers === 1);
    const res = await fetch(`${server.url}/api/projects/other/analytics?catchup=5m`, { headers: { authorization: `Bearer ${TEST_API_KEY}` } });
    const body = (await res.json()) as { series: AnalyticsSnapshot[]; now: AnalyticsSnapshot };
    assert.ok(body.series.some((s) => s.plays === 2 && s.interactions.poll === 3));
    assert.equal(body.now.concurrentViewers, 1);
    await viewer.close();
    await board.close();
  });

  test('who may read analytics: the API key or a token with analytics; nobody else', async () => {
    const url = `${server.url}/api/projects/site/analytics`;
    assert.equal((await fetch(url)).status, 403, 'an anonymous viewer');
    assert.equal((await fetch(url, { headers: { authorization: `Bearer ${token('site', 'ann')}` } })).status, 403, 'a token without analytics');
    assert.equal((await fetch(`${url}?token=${analyticsToken('site')}`)).status, 200);
    assert.equal((await fetch(`${url}?catchup=forever`, { headers: { authorization: `Bearer ${TEST_API_KEY}` } })).status, 400);
    assert.equal((await fetch(url, { headers: { authorization: `Bearer ${analyticsToken('other')}` } })).status, 403, "another project's token");
    const refused = await TestClient.connect(server, 'site', ANALYTICS_ROOM);
    assert.equal((await refused.closed).code, CloseCode.Forbidden);
    const board = await dashboard('site');
    board.send({ type: 'pub', cid: 'x1', data: { plays: 1e9 }, persist: false });
    assert.equal((await board.next('err', (f) => f.cid === 'x1')).code, ErrorCode.Forbidden);
    await board.close();
  });

  test('a viewer that goes silent without closing (a frozen tab, a cut network) stops counting after staleMs', async (t) => {
    const quiet = await startServer({ projects: openProjects({}, ['site']), analytics: { seriesMs: 60_000, pushMs: 100, staleMs: 600 } });
    t.after(() => quiet.close());
    const board = await TestClient.joined(quiet, 'site', ANALYTICS_ROOM, { token: analyticsToken('site') });
    const viewer = await TestClient.joined(quiet, 'site', PROJECT_ROOM);
    await viewer.publish(report('talk'), false);
    await live(board, (s) => s.concurrentViewers === 1);
    const silentFrom = Date.now();
    await live(board, (s) => s.concurrentViewers === 0);
    const ms = Date.now() - silentFrom;
    t.diagnostic(`a silent viewer stopped counting after ${ms} ms (staleMs 600, pushMs 100)`);
    assert.equal(viewer.ws.readyState, viewer.ws.OPEN, 'dropped while its socket is still open');
    await viewer.close();
    await board.close();
  });

  test('stored buckets older than keepMs are deleted, so the series stays bounded', async (t) => {
    const short = await startServer({ projects: openProjects({}, ['site']), analytics: { seriesMs: 100, pushMs: 50, staleMs: 60_000, keepMs: 300 } });
    t.after(() => short.close());
    const board = await TestClient.joined(short, 'site', ANALYTICS_ROOM, { token: analyticsToken('site') });
    const viewer = await TestClient.joined(short, 'site', PROJECT_ROOM);
    await viewer.publish(report('talk'), false);
    // 30 buckets stored one after another (the viewer keeps each non-empty).
    await board.next((f) => f.type === 'msg' && f.persisted && board.frames.filter((g) => g.type === 'msg' && g.persisted).length >= 30);
    const res = await fetch(`${short.url}/api/projects/site/analytics?catchup=1h`, { headers: { authorization: `Bearer ${TEST_API_KEY}` } });
    const { series } = (await res.json()) as { series: AnalyticsSnapshot[] };
    t.diagnostic(`${series.length} buckets kept of 30 stored`);
    assert.ok(series.length > 0 && series.length < 20, `old buckets deleted: ${series.length} kept`);
    await viewer.close();
    await board.close();
  });

  test('a flooding or lying client weighs one viewer and its caps, never more', async () => {
    const board = await dashboard('flood');
    const liar = await TestClient.joined(server, 'flood', PROJECT_ROOM);
    const all = { analytics: Array.from({ length: 8 }, (_, slot) => ({ slot, videoId: 'victim', playing: true, plays: 1e9, watched: 1e9, quartiles: [100, 100, 100], interactions: { poll: 1e12 } })) };
    for (let i = 0; i < 20; i++) await liar.publish(all, false);
    await liar.publish(report('victim', { watched: -50, plays: -3 }), false);
    const s = await live(board, (x) => x.concurrentViewers === 1);
    assert.equal(s.videos.victim?.concurrentViewers, 1, 'eight players of one page on one video are one viewer');
    assert.ok(s.plays <= 20, `plays capped per connection and bucket: ${s.plays}`);
    assert.ok((s.interactions.poll ?? 0) <= 120, `interactions capped: ${s.interactions.poll}`);
    assert.ok(s.avgWatchSeconds <= 4 * 62, `watch time bounded by wall time: ${s.avgWatchSeconds}`);
    assert.ok(s.completionRate <= 1);
    for (const bad of [{ analytics: [] }, { analytics: [{ slot: 9, videoId: 'v' }] }, { analytics: [{ slot: 0, videoId: '../x' }] }, 'text', null]) {
      const cid = `b${Math.random().toString(36).slice(2, 8)}`;
      liar.send({ type: 'pub', cid, data: bad, persist: false });
      assert.equal((await liar.next('err', (f) => f.cid === cid)).code, ErrorCode.BadFrame);
    }
    await liar.close();
    await board.close();
  });
});

// Live analytics over two server processes of one deployment (PostgreSQL and Redis of this
// machine, a schema and prefix of their own): each process counts its own viewers, its live
// snapshots reach the subscribers of every process, and summed they give the exact total.
// Skipped, with the reason printed, where PostgreSQL or Redis is absent.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ANALYTICS_ROOM, PROJECT_ROOM, mergeSnapshots, type AnalyticsSnapshot } from '../../../src/protocol/index.js';
import type { VidgetServer } from '../../../src/server/index.js';
import { TestClient } from '../helpers.js';
import { spawnServer, type ServerProcess } from '../server-process.js';
import { Cluster, servicesMissing } from './cluster.js';

const missing = await servicesMissing();
if (missing) console.log(`# skipping the several-node analytics test: ${missing}`);

const report = (videoId: string) => ({ analytics: [{ slot: 0, videoId, playing: true, plays: 1, seeks: 0, buffering: 0, quartiles: [], watched: 0, interactions: {} }] });

describe('live analytics across nodes', { skip: missing ?? false }, () => {
  const cluster = new Cluster();
  let a: ServerProcess;
  let b: ServerProcess;
  before(async () => {
    const config = join(mkdtempSync(join(tmpdir(), 'vidget-config-')), 'vidget.config.json');
    writeFileSync(config, JSON.stringify({ projects: [{ id: 'scale', anonymous: ['read', 'publish', 'search', 'analytics'] }] }));
    [a, b] = await Promise.all([spawnServer({ ...cluster.env, VIDGET_CONFIG: config }), spawnServer({ ...cluster.env, VIDGET_CONFIG: config })]);
    cluster.nodes.push(a, b);
  });
  after(() => cluster.destroy());

  test('viewers on two nodes: a subscriber of one gets both nodes’ snapshots, summing to the exact count', async () => {
    const on = (node: ServerProcess, room: string) => TestClient.joined(node as unknown as VidgetServer, 'scale', room);
    const board = await on(a, ANALYTICS_ROOM);
    const viewers = [await on(a, PROJECT_ROOM), await on(b, PROJECT_ROOM), await on(b, PROJECT_ROOM)];
    for (const v of viewers) await v.publish(report('keynote'), false);
    const latest = new Map<string, AnalyticsSnapshot>();
    const total = () => mergeSnapshots([...latest.values()]).concurrentViewers;
    await board.next((f) => {
      if (f.type !== 'msg' || f.persisted) return false;
      const s = f.record.data as unknown as AnalyticsSnapshot;
      latest.set(s.node ?? '', s);
      return latest.size === 2 && total() === 3;
    });
    assert.deepEqual([...latest.values()].map((s) => s.concurrentViewers).sort(), [1, 2], 'each node counts its own');
    assert.equal(mergeSnapshots([...latest.values()]).videos.keynote?.concurrentViewers, 3);
    await viewers[1]!.close();
    await board.next((f) => {
      if (f.type !== 'msg' || f.persisted) return false;
      const s = f.record.data as unknown as AnalyticsSnapshot;
      latest.set(s.node ?? '', s);
      return total() === 2;
    });
    for (const c of [board, viewers[0]!, viewers[2]!]) await c.close();
  });
});

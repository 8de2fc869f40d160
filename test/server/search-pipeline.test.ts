// A search waits only for the publishes it must see (its own connection's), never for the room's
// whole pipeline to drain: steady publishing by others must not starve it.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ErrorCode, type ResultFrame } from '../../src/protocol/index.js';
import type { VidgetServer } from '../../src/server/index.js';
import { TestClient, fillRoom, startServer } from './helpers.js';

/** How long steady publishing goes on before the test gives up on the search (a failure bound, not a wait). */
const GIVE_UP_MS = 4_000;

/**
 * `publishers` clients each keep `window` persistent publishes in flight, so the room's pipeline
 * is never empty, until `stop()`. Resolves `stopped` with the number of acks.
 */
function steadyPublishing(clients: TestClient[], window = 32) {
  let running = true;
  let acks = 0;
  let busy!: () => void;
  const started = new Promise<void>((resolve) => (busy = resolve));
  const loops = clients.map(async (c, n) => {
    let seq = 0;
    const one = async (): Promise<void> => {
      while (running) {
        await c.publish({ n, seq: seq++ });
        acks++;
        busy();
      }
    };
    await Promise.all(Array.from({ length: window }, one));
  });
  return {
    /** Resolves on the first ack: the pipeline is busy. */
    started,
    stop: () => (running = false),
    get acks() {
      return acks;
    },
    stopped: Promise.all(loops).then(() => acks),
  };
}

describe('searches and the publish pipeline', () => {
  let server: VidgetServer;
  before(async () => {
    server = await startServer({ rateLimit: { perSecond: 1e6, burst: 1e6 } });
  });
  after(() => server.close());

  test('a search is answered while other connections publish steadily into the same room (socket and HTTP)', async () => {
    const publishers = await Promise.all(Array.from({ length: 4 }, () => TestClient.joined(server, 'p', 'busy')));
    const reader = await TestClient.joined(server, 'p', 'busy');
    const load = steadyPublishing(publishers);
    let gaveUp = false;
    const giveUp = setTimeout(() => {
      gaveUp = true;
      load.stop();
    }, GIVE_UP_MS);
    try {
      await load.started;
      const before = load.acks;
      const viaSocket = await reader.search({ limit: 0 });
      assert.equal(viaSocket.type, 'result');
      const res = await fetch(`${server.url}/api/projects/p/widgets/busy/records?query=${encodeURIComponent('{"limit":0}')}`);
      assert.equal(res.status, 200);
      // Both answered while the publishers were still going, not after they stopped.
      assert.ok(load.acks > before, 'publishing went on meanwhile');
      assert.equal(gaveUp, false, `answered only after the publishers were stopped (${GIVE_UP_MS} ms)`);
    } finally {
      clearTimeout(giveUp);
      load.stop();
      await load.stopped;
    }
    await Promise.all([...publishers, reader].map((c) => c.close()));
  });

  test('read your own writes: a search sent right after publishes (acks not awaited) sees every one of them', async () => {
    const c = await TestClient.joined(server, 'p', 'ryow');
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 20; i++) c.send({ type: 'pub', cid: `r${round}-${i}`, data: i, persist: true });
      const r = await c.search({ limit: 0 });
      assert.equal(r.type === 'result' && r.total, (round + 1) * 20);
    }
    await c.close();
  });

  test('one connection may have 8 searches waiting; the 9th is refused with rate_limited, and the others are answered', async () => {
    await fillRoom(server, 'p/heavy', 20_000, (n) => ({ text: `message ${n}` }));
    const c = await TestClient.joined(server, 'p', 'heavy');
    const heavy = { groupBy: 'data.text', limit: 0 };
    for (let i = 0; i < 9; i++) c.send({ type: 'search', rid: `s${i}`, query: heavy });
    const refused = await c.next('err', (f) => f.rid === 's8');
    assert.equal(refused.code, ErrorCode.RateLimited);
    for (let i = 0; i < 8; i++) {
      const r = (await c.next((f) => (f.type === 'result' || f.type === 'err') && f.rid === `s${i}`)) as ResultFrame;
      assert.equal(r.type, 'result');
    }
    await c.close();
  });
});

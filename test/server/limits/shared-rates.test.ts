// Limits an attacker walked around by reconnecting: the per-connection bucket started full on
// every connect, so connect, burst, leave, repeat put 132× the rate into a room from one address.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CloseCode, ErrorCode } from '../../../src/protocol/index.js';
import { startServer, TestClient } from '../helpers.js';

/** Sends `n` ephemeral publishes at once and counts the acks and rate_limited errors they get. */
async function burst(c: TestClient, n: number, tag: string): Promise<{ acked: number; limited: number }> {
  for (let i = 0; i < n; i++) c.send({ type: 'pub', cid: `${tag}${i}`, data: i, persist: false });
  let acked = 0;
  let limited = 0;
  for (let i = 0; i < n; i++) {
    const f = await c.next((x) => (x.type === 'ack' || x.type === 'err') && 'cid' in x && x.cid === `${tag}${i}`);
    if (f.type === 'ack') acked++;
    else if (f.type === 'err' && f.code === ErrorCode.RateLimited) limited++;
  }
  return { acked, limited };
}

describe('rates that outlive a connection', () => {
  test('reconnecting does not refill: ten connect-burst-leave rounds from one address get the address budget, not ten connection budgets', async (t) => {
    const server = await startServer({
      rateLimit: { perSecond: 100, burst: 200 },
      rates: { framesPerAddress: { perSecond: 20, burst: 100 } },
    });
    t.after(() => server.close());
    const started = performance.now();
    let acked = 0;
    for (let round = 0; round < 10; round++) {
      const c = await TestClient.joined(server, 'p', 'refill');
      acked += (await burst(c, 200, `r${round}-`)).acked;
      await c.close();
    }
    const seconds = (performance.now() - started) / 1000;
    // The old server accepted all 2,000; now the address's bucket bounds them.
    assert.ok(acked <= 100 + 20 * seconds + 1, `${acked} publishes accepted in ${seconds.toFixed(2)} s`);
    assert.ok(acked >= 100, 'the burst itself is honoured');
  });

  test('connects per address are rate limited with 4029, and other addresses are not affected', async (t) => {
    const server = await startServer({ rates: { connectsPerAddress: { perSecond: 0.001, burst: 5 } } });
    t.after(() => server.close());
    const ok = await Promise.all(Array.from({ length: 5 }, () => TestClient.joined(server, 'p', 'connects')));
    const refused = await TestClient.connect(server, 'p', 'connects');
    const closed = await refused.closed;
    assert.equal(closed.code, CloseCode.TooManyConnections);
    assert.match(closed.reason, /connecting too often/);
    const elsewhere = await TestClient.joined(server, 'p', 'connects', {}, { localAddress: '127.0.0.2' });
    await Promise.all([...ok, elsewhere].map((c) => c.close()));
  });

  test('a project shares one frame budget over all its connections; another project keeps its own', async (t) => {
    const server = await startServer({ rates: { framesPerProject: { perSecond: 0.001, burst: 30 } } });
    t.after(() => server.close());
    const a = await Promise.all([1, 2, 3].map(() => TestClient.joined(server, 'busy', 'room')));
    const results = await Promise.all(a.map((c, i) => burst(c, 20, `c${i}-`)));
    assert.equal(
      results.reduce((n, r) => n + r.acked, 0),
      30,
    );
    const other = await TestClient.joined(server, 'quiet', 'room');
    assert.equal((await burst(other, 20, 'q')).acked, 20);
    await Promise.all([...a, other].map((c) => c.close()));
  });

  test('REST requests per address are limited with 429 and Retry-After', async (t) => {
    const server = await startServer({ rates: { requestsPerAddress: { perSecond: 0.001, burst: 10 } } });
    t.after(() => server.close());
    const statuses = [];
    for (let i = 0; i < 12; i++) statuses.push((await fetch(`${server.url}/api/health`)).status);
    assert.deepEqual(statuses, [...Array(10).fill(200), 429, 429]);
    const res = await fetch(`${server.url}/api/health`);
    assert.equal(res.headers.get('retry-after'), '1');
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, ErrorCode.RateLimited);
  });
});

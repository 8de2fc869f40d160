import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CloseCode } from '../../src/protocol/index.js';
import { startServer, TestClient } from './helpers.js';

/** Publishes `n` messages one after another (each acked before the next) and returns the readers' median latency, ms. */
async function latency(publisher: TestClient, readers: TestClient[], n: number, tag: string, until?: () => boolean): Promise<number> {
  const samples: number[] = [];
  const pad = 'p'.repeat(4096);
  for (let i = 0; i < n && !until?.(); i++) {
    const sent = performance.now();
    const cid = `${tag}${i}`;
    publisher.send({ type: 'pub', cid, data: { i, pad }, persist: false });
    await publisher.next('ack', (f) => f.cid === cid);
    for (const r of readers) {
      await r.next('msg', (f) => (f.record.data as { i: number }).i === i);
      samples.push(performance.now() - sent);
    }
  }
  return samples.sort((a, b) => a - b)[Math.floor(samples.length / 2)]!;
}

test("a reader that stops reading is cut off at the buffer cap (4009) while the others' latency stays within 2× of normal", async (t) => {
  const server = await startServer({ maxBufferedBytes: 512 * 1024, rateLimit: { perSecond: 1e6, burst: 1e6 } });
  t.after(() => server.close());
  const publisher = await TestClient.joined(server, 'p', 'slow');
  const readers = await Promise.all([1, 2, 3, 4].map(() => TestClient.joined(server, 'p', 'slow')));
  const normal = await latency(publisher, readers, 300, 'a');

  const slow = await TestClient.joined(server, 'p', 'slow');
  slow.ws.pause(); // stops reading: the kernel's buffers fill, then the server's, up to the cap
  const closed = slow.closed;
  // Until the server gives up on it: the kernel's loopback buffers take several MB first.
  const during = await latency(publisher, readers, 10_000, 'b', () => server.stats().connections === 5);
  assert.equal(server.stats().connections, 5, 'the slow reader was dropped');
  slow.ws.resume();
  const { code } = await closed;
  assert.ok(code === CloseCode.SlowConsumer || code === 1006, `closed with ${code}`);
  t.diagnostic(`median latency: ${normal.toFixed(2)} ms normally, ${during.toFixed(2)} ms with a slow reader`);
  // 2× plus a millisecond: at sub-millisecond medians, timer granularity is the noise floor.
  assert.ok(during <= normal * 2 + 1, `latency ${during.toFixed(2)} ms vs ${normal.toFixed(2)} ms normally`);
  await Promise.all([publisher, ...readers].map((c) => c.close()));
});

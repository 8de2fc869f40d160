// Each limit at its edge: the last allowed passes, the first over it is refused with its code.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CloseCode, ErrorCode, MAX_LIMIT, MAX_OFFSET } from '../../src/protocol/index.js';
import { startServer, TestClient } from './helpers.js';

describe('limits at the edge', () => {
  test('rate: exactly the burst is accepted, the next frame is rate_limited', async (t) => {
    const server = await startServer({ rateLimit: { perSecond: 0.001, burst: 10 } });
    t.after(() => server.close());
    const c = await TestClient.joined(server, 'p', 'rate');
    for (let i = 0; i < 10; i++) c.send({ type: 'pub', cid: `ok${i}`, data: i, persist: false });
    c.send({ type: 'pub', cid: 'over', data: 10, persist: false });
    for (let i = 0; i < 10; i++) await c.next('ack', (f) => f.cid === `ok${i}`);
    const err = await c.next('err', (f) => f.cid === 'over');
    assert.equal(err.code, ErrorCode.RateLimited);
    await c.close();
  });

  test('frame size: a frame of exactly maxFrameBytes is accepted, one byte more gets too_large', async (t) => {
    const server = await startServer({ maxFrameBytes: 2048 });
    t.after(() => server.close());
    const c = await TestClient.joined(server, 'p', 'size');
    const frame = (cid: string, bytes: number) => {
      const shell = JSON.stringify({ type: 'pub', cid, data: '', persist: true });
      return JSON.stringify({ type: 'pub', cid, data: 'x'.repeat(bytes - shell.length), persist: true });
    };
    assert.equal(Buffer.byteLength(frame('edge', 2048)), 2048);
    c.send(frame('edge', 2048));
    await c.next('ack', (f) => f.cid === 'edge');
    c.send(frame('over', 2049));
    assert.equal((await c.next('err', (f) => f.cid === 'over' || f.code === ErrorCode.TooLarge)).code, ErrorCode.TooLarge);
    await c.close();
  });

  test(`search: limit ${MAX_LIMIT} and offset ${MAX_OFFSET} pass, one more is bad_query`, async (t) => {
    const server = await startServer();
    t.after(() => server.close());
    const c = await TestClient.joined(server, 'p', 'search');
    assert.equal((await c.search({ limit: MAX_LIMIT })).type, 'result');
    assert.equal((await c.search({ limit: MAX_LIMIT + 1 })).type, 'err');
    assert.equal((await c.search({ offset: MAX_OFFSET })).type, 'result');
    const over = await c.search({ offset: MAX_OFFSET + 1 });
    assert.equal(over.type === 'err' && over.code, ErrorCode.BadQuery);
    await c.close();
  });

  test('per-IP connections: exactly the cap connects, the next is closed with 4029', async (t) => {
    const server = await startServer({ maxConnectionsPerIp: 25 });
    t.after(() => server.close());
    const ok = await Promise.all(Array.from({ length: 25 }, () => TestClient.joined(server, 'p', 'ip')));
    const extra = await TestClient.connect(server, 'p', 'ip');
    assert.equal((await extra.closed).code, CloseCode.TooManyConnections);
    assert.equal(server.stats().connections, 25);
    await Promise.all(ok.map((c) => c.close()));
  });
});

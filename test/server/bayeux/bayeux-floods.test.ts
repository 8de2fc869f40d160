import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import type { VidgetServer } from '../../../src/server/index.js';
import { TestClient, startServer, until } from '../helpers.js';
import { bayeux, handshake } from './faye-kit.js';

/** A raw Bayeux WebSocket; resolves once open. */
async function socket(server: VidgetServer): Promise<WebSocket> {
  const ws = new WebSocket(`${server.wsUrl}/bayeux`);
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  return ws;
}
const closed = (ws: WebSocket) => new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));

describe('Bayeux under floods and garbage: refused with a reason, the server stays up', () => {
  let server: VidgetServer;
  before(
    async () =>
      (server = await startServer({
        maxConnectionsPerIp: 5,
        rateLimit: { perSecond: 5, burst: 10 },
        maxFrameBytes: 4096,
        bayeux: { timeoutMs: 1_000 },
      })),
  );
  after(() => server.close());

  test('client ids per address are capped like sockets', async () => {
    for (let i = 0; i < 5; i++) await handshake(server);
    const [refused] = await bayeux(server, [{ channel: '/meta/handshake', version: '1.0', supportedConnectionTypes: ['long-polling'] }]);
    assert.match(refused!.error!, /^400:\/meta\/handshake,rate_limited:too many clients from this address$/);
  });

  test('subscribes and publishes past the rate limit are refused with rate_limited, and the client keeps its id', async () => {
    const capped = await startServer({ rateLimit: { perSecond: 5, burst: 10 } });
    try {
      const clientId = await handshake(capped);
      const replies = await bayeux(
        capped,
        Array.from({ length: 30 }, (_, i) => ({ channel: '/p/flood', clientId, data: { i }, id: `m${i}` })),
      );
      const limited = replies.filter((r) => /rate_limited/.test(r.error ?? ''));
      assert.ok(replies.filter((r) => r.successful).length >= 10);
      assert.ok(limited.length > 0, 'some were refused');
      for (const r of limited) assert.match(r.error!, /^407:\/p\/flood,rate_limited:/);
      const [connect] = await bayeux(capped, [{ channel: '/meta/connect', clientId, connectionType: 'long-polling', advice: { timeout: 0 } }]);
      assert.equal(connect!.successful, true);
    } finally {
      await capped.close();
    }
  });

  test('garbage on the WebSocket: not JSON closes with 1007; too large closes with 1009; others are unaffected', async () => {
    const watcher = await TestClient.joined(server, 'p', 'calm');
    const a = await socket(server);
    const aClosed = closed(a);
    a.send('not json');
    assert.equal(await aClosed, 1007);
    const b = await socket(server);
    const bClosed = closed(b);
    b.send('x'.repeat(10_000));
    assert.equal(await bClosed, 1009);
    const c = await socket(server);
    const replies: string[] = [];
    c.on('message', (d) => replies.push(d.toString()));
    c.send(JSON.stringify([{ channel: '/meta/connect', clientId: 'nobody', connectionType: 'websocket' }, 7, null]));
    await until(() => replies.length === 3, 'a reply to each message');
    assert.equal(replies.filter((r) => /"error":"401:\/meta\/connect,not_found:/.test(r)).length, 1);
    assert.equal(replies.filter((r) => /"error":"400:,bad_frame:a message is a JSON object"/.test(r)).length, 2);
    c.close();
    assert.deepEqual((await watcher.publish({ still: 'up' })).record.data, { still: 'up' });
    await watcher.close();
  });
});

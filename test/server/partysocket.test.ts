import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PartySocket } from 'partysocket';
import WebSocket from 'ws';
import type { ServerFrame } from '../../src/protocol/index.js';
import { createServer } from '../../src/server/index.js';
import { clientIdOf } from '../../src/server/client-identity.js';
import { TestClient, tempDir } from './helpers.js';

describe('the partysocket client', () => {
  test('connects by party/room/id, publishes, and resumes after a server restart with no gap and no duplicate', async (t) => {
    const dataDir = tempDir();
    let server = await createServer({ port: 0, dataDir, log: () => {} });
    const port = server.port;
    t.after(() => server.close());

    let cursor: { since?: string; epoch?: string } = {};
    const received: ServerFrame[] = [];
    const listeners = new Set<(f: ServerFrame) => void>();
    const socket = new PartySocket({
      host: `127.0.0.1:${port}`,
      party: 'proj',
      room: 'chat',
      id: 'ps-client',
      // Re-read on every reconnect: the resume cursor travels in the URL.
      query: async () => cursor,
      WebSocket,
      minReconnectionDelay: 20,
      maxReconnectionDelay: 200,
    });
    t.after(() => socket.close());
    socket.addEventListener('message', (event) => {
      const frame = JSON.parse(String(event.data)) as ServerFrame;
      received.push(frame);
      if (frame.type === 'hello') cursor = { ...cursor, epoch: frame.epoch };
      if ((frame.type === 'msg' && frame.persisted) || (frame.type === 'ack' && frame.persisted)) cursor = { ...cursor, since: String(frame.record.id) };
      for (const l of listeners) l(frame);
    });
    const waitFor = (match: (f: ServerFrame) => boolean) =>
      new Promise<ServerFrame>((resolve) => {
        const l = (f: ServerFrame) => {
          if (match(f)) {
            listeners.delete(l);
            resolve(f);
          }
        };
        listeners.add(l);
      });

    await waitFor((f) => f.type === 'synced');
    const hello = received.find((f) => f.type === 'hello');
    // partysocket's id is the client's secret; records carry the id derived from it.
    assert.equal(hello?.type === 'hello' && hello.client_id, clientIdOf('ps-client', null));
    socket.send(JSON.stringify({ type: 'pub', cid: 'p1', data: 'first', persist: true }));
    await waitFor((f) => f.type === 'ack' && f.cid === 'p1');

    // The server goes away; meanwhile nothing. Then it comes back on the same port and file,
    // and another client publishes before our socket has reconnected.
    const reconnected = waitFor((f) => f.type === 'synced');
    await server.close();
    server = await createServer({ port, dataDir, log: () => {} });
    const other = await TestClient.joined(server, 'proj', 'chat');
    await other.publish('while away');
    const synced = await reconnected;
    assert.equal(synced.type === 'synced' && synced.recovered, true);
    other.send({ type: 'pub', cid: 'after', data: 'after', persist: true });
    await waitFor((f) => f.type === 'msg' && f.record.data === 'after');

    const datas = received.filter((f) => f.type === 'msg' || f.type === 'ack').map((f) => (f.type === 'msg' || f.type === 'ack' ? f.record.data : null));
    assert.deepEqual(datas, ['first', 'while away', 'after']);
    await other.close();
  });
});

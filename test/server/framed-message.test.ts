import assert from 'node:assert/strict';
import { test } from 'node:test';
import { once } from 'node:events';
import WebSocket, { WebSocketServer } from 'ws';
import { FramedMessage, canWriteFramed } from '../../src/server/rooms/framed-message.js';

test('a message framed once reaches several ws clients intact, through the fast path', async (t) => {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false });
  t.after(() => wss.close());
  await once(wss, 'listening');
  const url = `ws://127.0.0.1:${(wss.address() as { port: number }).port}`;
  const servers: WebSocket[] = [];
  wss.on('connection', (ws) => servers.push(ws));
  const clients = [new WebSocket(url), new WebSocket(url), new WebSocket(url)];
  await Promise.all(clients.map((c) => once(c, 'open')));
  while (servers.length < 3) await once(wss, 'connection');

  // Sizes around the 7-bit, 16-bit and 64-bit length encodings.
  const payloads = [JSON.stringify({ a: 'é🎉' }), 'x'.repeat(125), 'y'.repeat(126), 'z'.repeat(70_000)];
  const received = clients.map((c) => {
    const got: string[] = [];
    c.on('message', (data, isBinary) => got.push(`${isBinary}:${data.toString()}`));
    return got;
  });
  for (const ws of servers) assert.equal(canWriteFramed(ws), true, 'ws internals changed: the fast path is no longer taken');
  for (const text of payloads) {
    const message = new FramedMessage(Buffer.from(text));
    for (const ws of servers) message.writeTo(ws);
  }
  // Written in one tick, the frames wait in the socket (corked) and leave together as it ends.
  const socket = (servers[0] as unknown as { _socket: import('node:net').Socket })._socket;
  assert.equal(socket.writableCorked, 1);
  // ws's own send after framed writes keeps its order.
  for (const ws of servers) ws.send('last');
  await new Promise((resolve) => process.nextTick(resolve));
  assert.equal(socket.writableCorked, 0, 'uncorked when the tick ends');
  await Promise.all(
    clients.map(
      (c, i) =>
        new Promise<void>((resolve) => {
          const check = () => (received[i]!.length === payloads.length + 1 ? resolve() : undefined);
          c.on('message', check);
          check();
        }),
    ),
  );
  for (const got of received)
    assert.deepEqual(
      got,
      [...payloads, 'last'].map((p) => `false:${p}`),
    );
  for (const c of clients) c.close();
});

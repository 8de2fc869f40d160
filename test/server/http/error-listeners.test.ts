// The rule behind the remote crashes: no socket, stream or server without an 'error' listener.
// The server runs with a probe that reports any 'error' emitted where nobody listens (which would
// end the process) instead of dying, and every path that makes a socket or a stream is walked
// from outside with the peer misbehaving: resets mid-request, mid-answer, mid-handshake and
// mid-stream, garbage, bodies cut short, then a shutdown with everything still open.
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import WebSocket from 'ws';
import { spawnServer, type ServerProcess } from '../server-process.js';
import { tempDir } from '../helpers.js';

const UPGRADE = 'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n';

/** Writes `text`, waits for the first answer bytes (or `afterMs` where none come), then resets the connection. */
function resetAfter(port: number, text: string, afterMs = 20): Promise<void> {
  return new Promise((resolve) => {
    const socket: Socket = connect(port, '127.0.0.1', () => {
      socket.write(text);
      const reset = () => socket.resetAndDestroy();
      socket.once('data', reset);
      setTimeout(reset, afterMs);
    });
    socket.on('error', () => {});
    socket.on('close', () => resolve());
  });
}

/** A WebSocket that opens, then does `then` to the connection. */
function openSocket(server: ServerProcess, room: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${server.wsUrl}/parties/probe/${room}?_pk=k${Math.random().toString(36).slice(2)}`);
    ws.on('error', () => {});
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', reject);
  });
}

let server: ServerProcess;
before(async () => {
  server = await spawnServer({ DATA_DIR: tempDir(), STATIC_DIR: 'test/fixtures' }, { preload: 'test/fixtures/error-listener-probe.mjs', projects: ['probe'] });
});
after(() => server.stop());

const unlistened = () =>
  server
    .output()
    .split('\n')
    .filter((line) => line.startsWith('UNLISTENED-ERROR'));

test('HTTP sockets: reset mid-request, mid-answer and mid-stream; garbage; bodies cut short', async () => {
  await resetAfter(server.port, 'GET /api/health HTTP/1.1\r\nHost: x\r\nX-Half: ', 50);
  await resetAfter(server.port, 'GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n');
  await resetAfter(server.port, 'GET /clip.webm HTTP/1.1\r\nHost: x\r\n\r\n');
  await resetAfter(server.port, 'GET /clip.webm HTTP/1.1\r\nHost: x\r\nRange: bytes=100-\r\n\r\n');
  await resetAfter(server.port, 'GARBAGE\r\n\r\n');
  await resetAfter(server.port, 'POST /api/tokens HTTP/1.1\r\nHost: x\r\nContent-Length: 10000\r\n\r\n{"project":', 50);
  await resetAfter(server.port, `GET /api/projects/p/widgets/w/records?query=${encodeURIComponent('{"limit":1000}')} HTTP/1.1\r\nHost: x\r\n\r\n`, 1);
  for (let i = 0; i < 20; i++) await resetAfter(server.port, `GET /clip.webm HTTP/1.1\r\nHost: x\r\n\r\n`, i % 3);
  assert.ok(server.alive(), server.output());
  assert.deepEqual(unlistened(), []);
});

test('upgrades: refused ones reset, room handshakes reset half-way, open sockets reset and sent bad frames', async () => {
  for (const target of ['/nowhere', '//', '/parties/probe/ok']) {
    for (let i = 0; i < 10; i++) await resetAfter(server.port, `GET ${target}?_pk=a HTTP/1.1\r\nHost: x\r\n${UPGRADE}\r\n`, i % 3);
  }
  await resetAfter(server.port, `GET /parties/probe/ok?_pk=a HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n`, 5);
  // Open, then reset while the server writes to it.
  const busy = await openSocket(server, 'busy');
  const talker = await openSocket(server, 'busy');
  for (let i = 0; i < 50; i++) talker.send(JSON.stringify({ type: 'pub', cid: `c${i}`, data: 'x'.repeat(1000), persist: false }));
  (busy as unknown as { _socket: Socket })._socket.resetAndDestroy();
  // A malformed frame (unmasked, reserved bits), then one past the size limit.
  const [bad, big] = await Promise.all([openSocket(server, 'bad'), openSocket(server, 'big')]);
  const closed = [bad, big].map((ws) => new Promise((resolve) => ws.once('close', resolve)));
  (bad as unknown as { _socket: Socket })._socket.write(Buffer.from([0xf1, 0x05, 1, 2, 3, 4, 5]));
  big.send('x'.repeat(200_000));
  await Promise.all(closed);
  talker.terminate();
  assert.ok(server.alive(), server.output());
  assert.deepEqual(unlistened(), []);
});

test('shutdown with sockets, streams and requests still open', async () => {
  const open = await Promise.all([1, 2, 3].map(() => openSocket(server, 'shutdown')));
  const streaming = connect(server.port, '127.0.0.1', () => streaming.write('GET /clip.webm HTTP/1.1\r\nHost: x\r\n\r\n'));
  streaming.on('error', () => {});
  streaming.pause();
  const half = connect(server.port, '127.0.0.1', () => half.write('GET /api/health HTTP/1.1\r\n'));
  half.on('error', () => {});
  await new Promise((resolve) => streaming.once('readable', resolve));
  await server.stop();
  assert.equal(server.child.exitCode, 0, server.output());
  assert.deepEqual(unlistened(), []);
  for (const ws of open) ws.terminate();
  streaming.destroy();
  half.destroy();
});

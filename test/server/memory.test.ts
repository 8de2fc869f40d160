// Memory without bound: the dedupe memo kept whole records (20 connections ran the heap out in
// 65 s), readers that never read pinned huge results, and every room ever opened stayed in a map.
// The server runs as a child process and its resident memory is read from /proc while the
// patterns run; each must stay flat within the stated bound.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { afterEach, beforeEach, describe, test } from 'node:test';
import WebSocket from 'ws';
import { spawnServer, type ServerProcess } from './server-process.js';
import { tempDir } from './helpers.js';

const SOAK = process.env.VIDGET_SOAK === '1';
const MB = 2 ** 20;
const UNLIMITED = { VIDGET_RATE_CONNECTS: '1000000/1000000', VIDGET_RATE_ADDRESS_FRAMES: '1000000/1000000', VIDGET_RATE_PROJECT_FRAMES: '1000000/1000000', VIDGET_RATE_REQUESTS: '1000000/1000000' };

/** Opens a raw socket to a room and resolves once the catch-up is done. */
function join(server: ServerProcess, room: string, key = `k${Math.random().toString(36).slice(2)}`): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${server.wsUrl}/parties/mem/${room}?_pk=${key}`);
    ws.on('error', reject);
    ws.on('message', function first(data) {
      if (String(data).includes('"type":"synced"')) {
        ws.off('message', first);
        resolve(ws);
      }
    });
  });
}

/**
 * Publishes `count` frames with fresh cids at `perSecond` (within the server's per-connection
 * rate, as the attack was), and resolves when every one is answered.
 */
function publishMany(ws: WebSocket, count: number, data: unknown, persist: boolean, perSecond = 90): Promise<void> {
  return new Promise((resolve) => {
    let sent = 0;
    let answered = 0;
    const body = JSON.stringify(data);
    const tag = Math.random().toString(36).slice(2, 8);
    const onMessage = (raw: WebSocket.RawData) => {
      const text = String(raw);
      if (!text.startsWith('{"type":"ack"') && !text.startsWith('{"type":"err"')) return;
      if (++answered < count) return;
      ws.off('message', onMessage);
      clearInterval(pace);
      resolve();
    };
    ws.on('message', onMessage);
    // Pacing, not synchronisation: ten frames every 1/perSecond × 10 seconds.
    const pace = setInterval(() => {
      for (let i = 0; i < 10 && sent < count; i++) ws.send(`{"type":"pub","cid":"c${tag}${sent++}","persist":${persist},"data":${body}}`);
    }, 10_000 / perSecond);
  });
}

/** The server's open connections and rooms. */
async function health(server: ServerProcess): Promise<{ rooms: number; connections: number }> {
  return (await (await fetch(`${server.url}/api/health`)).json()) as { rooms: number; connections: number };
}

describe('memory stays bounded', () => {
  let server: ServerProcess;
  beforeEach(async () => {
    server = await spawnServer({ DATA_DIR: tempDir(), ...UNLIMITED }, { projects: ['mem'] });
  });
  afterEach(() => server.stop());

  test('dedupe memo: 20 connections, each in its room, publishing 60 KB frames with fresh ids at the allowed rate', { timeout: 120_000 }, async (t) => {
    const clients = await Promise.all(Array.from({ length: 20 }, (_, i) => join(server, `memo${i}`)));
    const data = { pad: 'm'.repeat(60_000) };
    await Promise.all(clients.map((ws) => publishMany(ws, 50, data, false)));
    const base = server.rss();
    // The old memo kept up to 4,096 whole records per room: 20 rooms × 400 × 60 KB, about 480 MB, here.
    const rounds = SOAK ? 40 : 8;
    let peak = base;
    for (let round = 0; round < rounds; round++) {
      await Promise.all(clients.map((ws) => publishMany(ws, 50, data, false)));
      peak = Math.max(peak, server.rss());
    }
    t.diagnostic(`memo pattern: RSS ${(base / MB).toFixed(0)} MB after warm-up, peak ${(peak / MB).toFixed(0)} MB over ${rounds * 1000} publishes of 60 KB`);
    assert.ok(peak - base < 100 * MB, `RSS grew ${((peak - base) / MB).toFixed(0)} MB`);
    for (const ws of clients) ws.close();
  });

  test('readers that never read: big search results over HTTP and the socket are not held without bound', { timeout: 120_000 }, async (t) => {
    // A room of large records: an unbounded result of 1,000 would be about 32 MB.
    const writer = await join(server, 'big');
    await publishMany(writer, 1_000, { pad: 'b'.repeat(32_000) }, true, 1_000);
    writer.close();
    const query = encodeURIComponent(JSON.stringify({ limit: 1000 }));
    // Warm-up, read to the end: the search workers (each its own thread, heap and SQLite cache) start now.
    await Promise.all(Array.from({ length: 4 }, () => fetch(`${server.url}/api/projects/mem/widgets/big/records?query=${query}`).then((r) => r.arrayBuffer())));
    const base = server.rss();
    // 40 HTTP clients ask and never read; 10 socket clients search again and again and never read.
    const http = Array.from({ length: 40 }, () => {
      const socket = connect(server.port, '127.0.0.1', () => socket.write(`GET /api/projects/mem/widgets/big/records?query=${query} HTTP/1.1\r\nHost: x\r\n\r\n`));
      socket.on('error', () => {});
      socket.pause();
      return socket;
    });
    const sockets = await Promise.all(Array.from({ length: 10 }, () => join(server, 'big')));
    for (const ws of sockets) {
      for (let i = 0; i < 20; i++) ws.send(JSON.stringify({ type: 'search', rid: `r${i}`, query: { limit: 1000 } }));
      (ws as unknown as { _socket: { pause(): void } })._socket.pause(); // and never read again
    }
    let peak = base;
    const sample = setInterval(() => (peak = Math.max(peak, server.rss())), 50);
    // The server cuts each non-reading socket as a slow consumer (its close frame is never read here).
    const deadline = Date.now() + 20_000;
    while ((await health(server)).connections > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    clearInterval(sample);
    const left = (await health(server)).connections;
    t.diagnostic(`non-readers: RSS ${(base / MB).toFixed(0)} MB before, peak ${(peak / MB).toFixed(0)} MB; sockets left open: ${left}`);
    assert.equal(left, 0, 'every non-reading socket was cut');
    // Bounded, the sockets hold at most 10 × (4 MiB send cap + a 1 MiB answer) and the HTTP
    // answers 40 × 1 MiB, ~90 MB, plus allocator slack (126-152 MB measured); unbounded, the
    // results asked for weigh 40 × 32 MB + 200 × 32 MB, over 7 GB.
    assert.ok(peak - base < 200 * MB, `RSS grew ${((peak - base) / MB).toFixed(0)} MB`);
    for (const ws of sockets) ws.terminate();
    for (const s of http) s.destroy();
  });

  test('room churn: thousands of rooms opened and left leave nothing behind', { timeout: 300_000 }, async (t) => {
    const rooms = SOAK ? 50_000 : 3_000;
    let next = 0;
    const churn = async (count: number) => {
      for (const end = next + count; next < end; next += 100) {
        const batch = await Promise.all(Array.from({ length: 100 }, (_, j) => join(server, `churn${next + j}`)));
        await Promise.all(
          batch.map(
            (ws) =>
              new Promise((resolve) => {
                ws.on('close', resolve);
                ws.close();
              }),
          ),
        );
      }
    };
    await churn(rooms); // warm-up: the heap and SQLite's cache find their size
    const base = server.rss();
    await churn(rooms);
    const middle = server.rss();
    await churn(rooms);
    const end = server.rss();
    const after = await health(server);
    t.diagnostic(`churn: RSS ${(base / MB).toFixed(1)} → ${(middle / MB).toFixed(1)} → ${(end / MB).toFixed(1)} MB over 2 × ${rooms} rooms; open rooms after: ${after.rooms}`);
    assert.equal(after.rooms, 0);
    // Flat: the second batch of rooms costs no more than the first (per-room memory would add up).
    assert.ok(end - base < 30 * MB, `RSS grew ${((end - base) / MB).toFixed(0)} MB over ${2 * rooms} rooms`);
  });
});

// Holding sockets: half-sent requests from one address (slowloris), and running the process out of
// file descriptors. One address cannot hold more than its share; nobody can keep a socket by
// sending slowly; and when descriptors run out, accepts and file reads fail without ending the
// process, which answers again once they are free.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { test } from 'node:test';
import { startServer, tempDir } from '../helpers.js';
import { spawnServer } from '../server-process.js';

/** GET `path` from a chosen source address; resolves with the status, or `cut` if the body was cut short. */
function get(port: number, path: string, localAddress = '127.0.0.1'): Promise<number | 'cut'> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, localAddress, agent: false }, (res) => {
      let bytes = 0;
      res.on('data', (chunk: Buffer) => (bytes += chunk.length));
      res.on('error', () => resolve('cut'));
      res.on('end', () => resolve(res.complete && bytes === Number(res.headers['content-length'] ?? bytes) ? res.statusCode! : 'cut'));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Opens a socket from `localAddress` and sends the start of a request that never ends. */
function halfRequest(port: number, localAddress: string): Promise<Socket> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1', localAddress }, () => {
      socket.write('GET /api/health HTTP/1.1\r\nHost: x\r\nX-Slow: ');
      resolve(socket);
    });
    socket.on('error', () => {});
    socket.resume(); // read what comes (a 408), or 'close' never fires
  });
}

const closed = (socket: Socket): Promise<void> => (socket.destroyed ? Promise.resolve() : new Promise((resolve) => socket.once('close', () => resolve())));

test('slowloris: one address holds at most its share of half-sent requests, they time out, others are served meanwhile', async (t) => {
  const server = await startServer({ maxPendingPerAddress: 20, timeouts: { headersMs: 1_000 } });
  t.after(() => server.close());
  const sockets = await Promise.all(Array.from({ length: 100 }, () => halfRequest(server.port, '127.0.0.1')));
  // Past the cap, sockets are cut at once; within it they wait for the header timeout.
  const cut: Socket[] = [];
  await Promise.all(
    sockets.map(async (s) => {
      await Promise.race([closed(s), new Promise((r) => setTimeout(r, 300))]);
      if (s.destroyed) cut.push(s);
    }),
  );
  assert.ok(cut.length >= 80, `${cut.length} of 100 were cut at once`);
  // Another client is served while they hang.
  const started = performance.now();
  assert.equal(await get(server.port, '/api/health', '127.0.0.2'), 200);
  assert.ok(performance.now() - started < 500, 'served without waiting for the slow ones');
  // The held ones are closed by the header timeout, then the address is served again.
  await Promise.all(sockets.map(closed));
  assert.equal(await get(server.port, '/api/health', '127.0.0.1'), 200);
});

test('out of file descriptors: accepts and static reads fail without ending the process, which serves again afterwards', { timeout: 60_000 }, async (t) => {
  // A low limit, so a few dozen sockets use every descriptor the process has.
  const server = await spawnServer({ DATA_DIR: tempDir(), STATIC_DIR: 'test/fixtures' }, { files: 64 });
  t.after(() => server.stop());
  const held: Socket[] = [];
  // Keep-alive requests, each answered, each holding a descriptor, until the process can take no more.
  for (let i = 0; i < 200; i++) {
    const socket = connect({ port: server.port, host: '127.0.0.1', localAddress: `127.0.0.${2 + (i % 200)}` });
    socket.on('error', () => {});
    const answered = await new Promise<boolean>((resolve) => {
      socket.once('data', () => resolve(true));
      socket.once('close', () => resolve(false));
      socket.write('GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n');
    });
    if (!answered) break;
    held.push(socket);
  }
  assert.ok(held.length < 200, 'the descriptor limit was reached');
  // Free descriptors one at a time and ask for a file each time: the file's open races the next accept.
  const outcomes: string[] = [];
  while (held.length > 0) {
    // Ended politely, so the server has closed its side (and its descriptor) when 'close' fires here.
    const socket = held.pop()!;
    await new Promise((resolve) => {
      socket.once('close', resolve);
      socket.end();
    });
    outcomes.push(await get(server.port, '/clip.webm').then(String, (e: Error) => e.message.slice(0, 20)));
    assert.ok(server.alive(), `the process exited: ${server.output().slice(-800)}`);
  }
  assert.equal(await get(server.port, '/api/health'), 200);
  assert.equal(await get(server.port, '/clip.webm'), 200);
  t.diagnostic(`held ${outcomes.length} sockets at the limit; answers while freeing them: ${[...new Set(outcomes)].join(', ')}`);
});
